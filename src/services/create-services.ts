/**
 * Everything below the edges (bot, HTTP, CLI): keys, store, signer, and the services.
 * Opening these is the composition root's first step; each edge gets what it needs from here.
 */
import type { Logger } from "pino";
import { type Config, ConfigError } from "../config.js";
import { createFieldCipher } from "../crypto/field-cipher.js";
import { type Keys, loadKeys } from "../crypto/keys.js";
import { createMatchKeys } from "../crypto/match-key.js";
import { createReceiptSigner, type ReceiptSigner } from "../crypto/receipts.js";
import { openStore } from "../store/open-store.js";
import { type OutboxSignal, withOutboxSignal } from "../store/outbox-signal.js";
import type { Store } from "../store/store.js";
import { createInsurerService, type InsurerService } from "./insurer-service.js";
import { createOwnerService, type OwnerService } from "./owner-service.js";

export interface Services {
  config: Config;
  logger: Logger;
  clock: () => Date;
  keys: Keys;
  store: Store;
  /** After each commit that queued notices (serve wakes its dispatcher with it). */
  outboxWritten: OutboxSignal;
  signer: ReceiptSigner;
  owners: OwnerService;
  insurers: InsurerService;
  close(): Promise<void>;
}

/**
 * Opens keys and store and checks that they belong together: a store records the
 * fingerprints of the keys that encrypted it, and a process with other keys exits 2 rather
 * than writing data no other process can read.
 */
export async function createServices(
  config: Config,
  logger: Logger,
  clock = () => new Date(),
): Promise<Services> {
  const keys = await loadKeys({ keysDir: config.keysDir, ...config.keys });
  const cipher = createFieldCipher(keys.dataKey);
  const matchKey = createMatchKeys(keys.dataKey);
  const opened = await openStore(config.store, cipher, clock, matchKey);
  try {
    await checkFingerprints(opened, keys);
  } catch (err) {
    await opened.close();
    throw err;
  }
  const { store, outboxWritten } = withOutboxSignal(opened);
  const signer = createReceiptSigner(keys, { previousPublicJwks: await retiredKeys(store, keys) });
  const owners = createOwnerService({
    store,
    signer,
    matchKey,
    phoneHash: (e164) => cipher.hash(e164, "phone"),
    clock,
  });
  return {
    config,
    logger,
    clock,
    keys,
    store,
    outboxWritten,
    signer,
    owners,
    insurers: createInsurerService({
      store,
      owners,
      clock,
      allowPrivateWebhooks: config.allowPrivateWebhooks,
    }),
    close: () => store.close(),
  };
}

async function checkFingerprints(store: Store, keys: Keys): Promise<void> {
  const stored = await store.getMeta("keys.data");
  if (stored === undefined) {
    await store.setMeta("keys.data", keys.fingerprints.data);
  } else if (stored !== keys.fingerprints.data) {
    throw new ConfigError([
      "DATA_KEY: does not match the key this store was encrypted with (check DATA_KEY / KEYS_DIR)",
    ]);
  }
}

/**
 * Public keys of earlier signing keys stay in the JWKS for 5 years so old receipts verify
 * (DESIGN §4); the store remembers every key it has seen.
 */
async function retiredKeys(store: Store, keys: Keys) {
  const raw = await store.getMeta("keys.signing.history");
  const history = raw ? (JSON.parse(raw) as { jwk: Keys["signingPublicJwk"]; retiredAt?: string }[]) : [];
  if (!history.some((h) => h.jwk.kid === keys.kid)) {
    const now = new Date().toISOString();
    for (const h of history) h.retiredAt ??= now;
    history.push({ jwk: keys.signingPublicJwk });
    await store.setMeta("keys.signing.history", JSON.stringify(history));
  }
  const fiveYears = 5 * 366 * 86_400_000;
  return history
    .filter(
      (h) => h.jwk.kid !== keys.kid && (!h.retiredAt || Date.parse(h.retiredAt) + fiveYears > Date.now()),
    )
    .map((h) => h.jwk);
}
