/**
 * Loading the service's two keys: the data key (field encryption, keyed hashes, match keys)
 * and the Ed25519 signing key (consent receipts). Keys given in the configuration win; else
 * they live in KEYS_DIR, generated there on first start — apart from DATA_DIR, so that a copy
 * of the data decrypts nothing.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { promises as fs, constants as fsConstants } from "node:fs";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, type JWK } from "jose";

/** A configured key is unusable; `variable` names the setting (DATA_KEY or SIGNING_KEY). */
export class KeyConfigError extends Error {
  readonly variable: "DATA_KEY" | "SIGNING_KEY";
  constructor(variable: "DATA_KEY" | "SIGNING_KEY", message: string) {
    super(`${variable}: ${message}`);
    this.name = "KeyConfigError";
    this.variable = variable;
  }
}

export interface Keys {
  /** 32 random bytes; never used directly, only through HKDF-derived subkeys. */
  dataKey: Buffer;
  signingPrivate: KeyObject;
  /** Public half as a JWK with `kid`, `alg: "EdDSA"`, `use: "sig"`. */
  signingPublicJwk: JWK;
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  /** Non-secret identifiers of the keys, safe to store and compare across processes. */
  fingerprints: { data: string; signing: string };
}

export interface LoadKeysOptions {
  keysDir: string;
  /** base64url of exactly 32 bytes. */
  dataKey?: string;
  /** Ed25519 private key, PKCS#8 PEM. */
  signingKey?: string;
}

const DATA_FILE = "data.key";
const SIGNING_FILE = "signing.pem";

/**
 * Returns the keys, from the options or from `keysDir` (creating missing ones there with
 * mode 0600 in a 0700 directory, atomically, never overwriting an existing file).
 * Throws {@link KeyConfigError} for a given key that is malformed.
 */
export async function loadKeys(options: LoadKeysOptions): Promise<Keys> {
  const dataKey =
    options.dataKey !== undefined
      ? parseDataKey(options.dataKey, "DATA_KEY")
      : parseDataKey(
          await readOrCreate(options.keysDir, DATA_FILE, () => `${randomBytes(32).toString("base64url")}\n`),
          "DATA_KEY",
          path.join(options.keysDir, DATA_FILE),
        );
  const signingPrivate =
    options.signingKey !== undefined
      ? parseSigningKey(options.signingKey)
      : parseSigningKey(
          await readOrCreate(options.keysDir, SIGNING_FILE, () =>
            generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
          ),
          path.join(options.keysDir, SIGNING_FILE),
        );
  const publicJwk = await exportJWK(createPublicKey(signingPrivate));
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  const signingPublicJwk: JWK = { ...publicJwk, kid, alg: "EdDSA", use: "sig" };
  return {
    dataKey,
    signingPrivate,
    signingPublicJwk,
    kid,
    fingerprints: { data: dataKeyFingerprint(dataKey), signing: kid },
  };
}

/** A one-way label of the data key: derived through HKDF so it reveals nothing usable. */
function dataKeyFingerprint(dataKey: Buffer): string {
  const label = Buffer.from(hkdfSync("sha256", dataKey, Buffer.alloc(0), "onewindow key-fingerprint v1", 32));
  return createHash("sha256").update(label).digest("hex");
}

function parseDataKey(text: string, variable: "DATA_KEY", file?: string): Buffer {
  const trimmed = text.trim();
  const where = file ? ` (in ${file})` : "";
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(trimmed)) {
    throw new KeyConfigError(variable, `must be base64url of 32 bytes${where}`);
  }
  const bytes = Buffer.from(trimmed.replace(/=+$/, ""), "base64url");
  if (bytes.length !== 32) {
    throw new KeyConfigError(variable, `must decode to 32 bytes, got ${bytes.length}${where}`);
  }
  return bytes;
}

function parseSigningKey(pem: string, file?: string): KeyObject {
  const where = file ? ` (in ${file})` : "";
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw new KeyConfigError("SIGNING_KEY", `must be a PKCS#8 PEM private key${where}`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new KeyConfigError("SIGNING_KEY", `must be an Ed25519 key, got ${key.asymmetricKeyType}${where}`);
  }
  return key;
}

/**
 * Reads `dir/name`, or writes `make()` there first. The temp file is hard-linked into place:
 * unlike rename, link fails when the target exists, so two processes starting at once never
 * overwrite each other's key and both end up reading the winner's.
 */
async function readOrCreate(dir: string, name: string, make: () => string): Promise<string> {
  const target = path.join(dir, name);
  try {
    return await fs.readFile(target, "utf8");
  } catch (error) {
    if (!isCode(error, "ENOENT")) throw error;
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await handle.writeFile(make(), "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(temp, target);
  } catch (error) {
    if (!isCode(error, "EEXIST")) throw error;
  } finally {
    await fs.unlink(temp);
  }
  return fs.readFile(target, "utf8");
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
