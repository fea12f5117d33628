/**
 * The insurer directory: what `onewindow insurer …` and the sandbox console call.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { generateApiKey, generateWebhookSecret, hashApiKey } from "../crypto/api-key.js";
import type { Insurer } from "../domain/model.js";
import { NotFoundError, type Store } from "../store/store.js";
import type { OwnerService } from "./owner-service.js";

/** Directory ids appear in callback data and URLs: short, lowercase, URL-safe. */
export const InsurerId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "1-32 characters of a-z, 0-9 and -, starting with a letter or digit");

const Name = z.string().trim().min(1).max(80);
const Alias = z.string().trim().min(1).max(80);
const Contact = z.string().trim().min(1).max(200);
const WebhookUrl = z.url({ protocol: /^https?$/ });

export const NewInsurerInput = z.object({
  id: InsurerId,
  name: Name,
  nameZh: Name.optional(),
  aliases: z.array(Alias).max(20).default([]),
  webhookUrl: WebhookUrl.optional(),
  contact: Contact.optional(),
  sandbox: z.boolean().default(false),
});
export type NewInsurerInput = z.input<typeof NewInsurerInput>;

export const InsurerUpdateInput = z.object({
  name: Name.optional(),
  nameZh: Name.nullable().optional(),
  aliases: z.array(Alias).max(20).optional(),
  webhookUrl: WebhookUrl.nullable().optional(),
  contact: Contact.nullable().optional(),
});
export type InsurerUpdateInput = z.input<typeof InsurerUpdateInput>;

/** Shown once at creation; only the API key's hash is kept. */
export interface InsurerCredentials {
  id: string;
  apiKey: string;
  webhookSecret: string;
}

export interface InsurerServiceDeps {
  store: Store;
  owners: OwnerService;
  clock: () => Date;
  /** ALLOW_PRIVATE_WEBHOOKS: plain http and private addresses are fine (development, tests). */
  allowPrivateWebhooks: boolean;
}

/** Thrown for a webhook URL the operator setting does not allow; the CLI exits 2. */
export class WebhookUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookUrlError";
  }
}

/**
 * Cheap checks at registration: https, and no literal private or loopback address. The
 * dispatcher checks the resolved addresses again at every send (DNS can change).
 */
function checkWebhookAtRegistration(url: string | undefined | null, allowPrivate: boolean): void {
  if (!url || allowPrivate) return;
  const u = new URL(url);
  if (u.protocol !== "https:") throw new WebhookUrlError(`--webhook: must be https (got ${u.protocol})`);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || (isIP(host) !== 0 && isPrivateLiteral(host))) {
    throw new WebhookUrlError(
      "--webhook: points at a private or loopback address (set ALLOW_PRIVATE_WEBHOOKS=1 for development)",
    );
  }
}

function isPrivateLiteral(ip: string): boolean {
  if (ip.includes(":")) return /^(::1|::|f[cd]|fe[89ab])/i.test(ip);
  const [a = 0, b = 0] = ip.split(".").map(Number);
  return (
    a === 10 ||
    a === 127 ||
    a === 0 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

export function createInsurerService({ store, owners, clock, allowPrivateWebhooks }: InsurerServiceDeps) {
  async function mustGet(id: string): Promise<Insurer> {
    const insurer = await store.getInsurer(id);
    if (!insurer || insurer.removedAt) throw new NotFoundError(`no insurer with id ${id}`);
    return insurer;
  }

  return {
    /**
     * Adds an insurer and returns its credentials (the only time they are shown). Every owner
     * whose current choice excludes it then gets an opt-out, as if it had always been listed.
     * @throws ZodError for bad input, DuplicateError for an existing id, WebhookUrlError.
     */
    async add(input: NewInsurerInput): Promise<InsurerCredentials & { backfilled: number }> {
      const v = NewInsurerInput.parse(input);
      checkWebhookAtRegistration(v.webhookUrl, allowPrivateWebhooks);
      const apiKey = generateApiKey();
      const webhookSecret = generateWebhookSecret();
      const insurer: Insurer = {
        id: v.id,
        name: v.name,
        nameZh: v.nameZh,
        aliases: [...new Set(v.aliases)],
        webhookUrl: v.webhookUrl,
        contact: v.contact,
        sandbox: v.sandbox,
        createdAt: clock().toISOString(),
      };
      await store.addInsurer(insurer, { apiKeyHash: hashApiKey(apiKey), webhookSecret });
      const backfilled = await this.backfill(insurer);
      return { id: v.id, apiKey, webhookSecret, backfilled };
    },

    /** Files the opt-outs a new insurer is owed; returns how many were filed. */
    async backfill(insurer: Insurer): Promise<number> {
      let filed = 0;
      let after: string | undefined;
      for (;;) {
        const ids = await store.listOwnerIdsWithConsent(after, 500);
        for (const ownerId of ids) {
          const result = await owners.backfill(ownerId, insurer);
          filed += result?.changeset.optOuts.length ?? 0;
        }
        if (ids.length < 500) return filed;
        after = ids.at(-1);
      }
    },

    /** The active directory, ordered by id. */
    list(): Promise<Insurer[]> {
      return store.listInsurers();
    },

    /** Changes public fields; a new webhook URL re-enables a disabled endpoint. */
    async update(id: string, input: InsurerUpdateInput): Promise<Insurer> {
      await mustGet(id);
      const v = InsurerUpdateInput.parse(input);
      checkWebhookAtRegistration(v.webhookUrl, allowPrivateWebhooks);
      return store.updateInsurer(id, {
        ...v,
        ...(v.aliases ? { aliases: [...new Set(v.aliases)] } : {}),
        ...(v.webhookUrl !== undefined ? { webhookDisabledAt: null } : {}),
      });
    },

    /** A new API key; the old one stops working at once. */
    async rotateKey(id: string): Promise<{ id: string; apiKey: string }> {
      await mustGet(id);
      const apiKey = generateApiKey();
      await store.setInsurerApiKeyHash(id, hashApiKey(apiKey));
      return { id, apiKey };
    },

    /** A new webhook secret; deliveries from now on are signed with it. */
    async rotateWebhookSecret(id: string): Promise<{ id: string; webhookSecret: string }> {
      await mustGet(id);
      const webhookSecret = generateWebhookSecret();
      await store.setInsurerWebhookSecret(id, webhookSecret);
      return { id, webhookSecret };
    },

    /** Leaves the directory; its key stops working; its records stay for compliance. */
    async remove(id: string): Promise<{ id: string; removed: true }> {
      await mustGet(id);
      await store.removeInsurer(id, clock().toISOString());
      return { id, removed: true };
    },
  };
}

export type InsurerService = ReturnType<typeof createInsurerService>;
