/**
 * The insurer directory: what `onewindow insurer …` and the sandbox console call.
 */
import { z } from "zod";
import { generateApiKey, generateWebhookSecret, hashApiKey } from "../crypto/api-key.js";
import type { Insurer } from "../domain/model.js";
import type { Store } from "../store/store.js";

/** Directory ids appear in callback data and URLs: short, lowercase, URL-safe. */
export const InsurerId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "1-32 characters of a-z, 0-9 and -, starting with a letter or digit");

export const NewInsurerInput = z.object({
  id: InsurerId,
  name: z.string().trim().min(1).max(80),
  aliases: z.array(z.string().trim().min(1).max(80)).max(20).default([]),
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
  contact: z.string().trim().min(1).max(200).optional(),
  sandbox: z.boolean().default(false),
});
export type NewInsurerInput = z.input<typeof NewInsurerInput>;

/** Shown once at creation; only the API key's hash is kept. */
export interface InsurerCredentials {
  id: string;
  apiKey: string;
  webhookSecret: string;
}

export interface InsurerServiceDeps {
  store: Store;
  clock: () => Date;
}

export function createInsurerService({ store, clock }: InsurerServiceDeps) {
  return {
    /**
     * Adds an insurer to the directory and returns its credentials (the only time they are shown).
     * @throws ZodError for bad input, DuplicateError for an existing id.
     */
    async add(input: NewInsurerInput): Promise<InsurerCredentials> {
      const v = NewInsurerInput.parse(input);
      const apiKey = generateApiKey();
      const webhookSecret = generateWebhookSecret();
      const insurer: Insurer = {
        id: v.id,
        name: v.name,
        aliases: [...new Set(v.aliases)],
        webhookUrl: v.webhookUrl,
        contact: v.contact,
        sandbox: v.sandbox,
        createdAt: clock().toISOString(),
      };
      await store.addInsurer(insurer, { apiKeyHash: hashApiKey(apiKey), webhookSecret });
      return { id: v.id, apiKey, webhookSecret };
    },

    /** The active directory, ordered by id. */
    list(): Promise<Insurer[]> {
      return store.listInsurers();
    },
  };
}

export type InsurerService = ReturnType<typeof createInsurerService>;
