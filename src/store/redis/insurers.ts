/** The insurer directory: one hash per insurer (`{i:<id>}`), the webhook secret encrypted. */
import type { Insurer } from "../../domain/model.js";
import { copyInsurer, insurerFromRow } from "../rows.js";
import { DIRECTORY_MAX_AGE_MS, type InsurerPatch, NotFoundError, type Store } from "../store.js";
import { unwrap } from "./commands.js";
import { hashOf, type IndexOp, type RedisContext } from "./context.js";
import { insurerFromHash, insurerRowFromHash, translate } from "./records.js";
import { INSURER_ADD, INSURER_REMOVE, INSURER_UPDATE } from "./scripts.js";

type InsurerPart = Pick<
  Store,
  | "addInsurer"
  | "listInsurers"
  | "getInsurer"
  | "getInsurerSecrets"
  | "updateInsurer"
  | "setInsurerApiKeyHash"
  | "setInsurerWebhookSecret"
  | "removeInsurer"
  | "findInsurerByApiKeyHash"
>;

/**
 * Insurer operations of the Redis store.
 *
 * The directory (`listInsurers`: SMEMBERS and one HGETALL per insurer, two round trips) is
 * read on every chat message, often twice, and changes a few times a year: it is kept for
 * {@link DIRECTORY_MAX_AGE_MS} after it was read. Changes made through this store show at
 * once: each insurer write bumps `generation` once it has finished, and a copy read before
 * that is read again. Changes by another process (or another store instance) show once the
 * copy is that old; no cheap exact check exists here, as the insurers' hashes live in slots of
 * their own. `forgetDirectory` drops the copy (after a repair, which may add insurers).
 * Callers get fresh objects each time, so none can change the kept copy.
 */
export function createInsurerPart(ctx: RedisContext): InsurerPart & { forgetDirectory(): void } {
  const { redis, keys, cipher } = ctx;
  let generation = 0;
  let directory: { insurers: Insurer[]; readAt: number; generation: number } | undefined;
  /** Runs an insurer write; whatever happened, a directory read before it ends is not used again. */
  const changing = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } finally {
      generation++;
    }
  };
  const readDirectory = async (): Promise<Insurer[]> => {
    const ids = (unwrap<string[]>(await redis.call("SMEMBERS", keys.directory())) ?? []).sort();
    const hashes = await redis.pipeline(ids.map((id) => ({ args: ["HGETALL", keys.insurer(id)] })));
    return hashes
      .map((reply) => insurerFromHash(hashOf(unwrap(reply))))
      .filter((i): i is Insurer => i !== undefined && i.removedAt === undefined);
  };

  const hash = async (id: string) => hashOf(await redis.call("HGETALL", keys.insurer(id)));

  /** Runs the update script; `set`/`del` are hash fields, `url` the patched webhook URL if any. */
  const update = (
    id: string,
    set: Record<string, string>,
    del: string[],
    url?: { value: string | null },
  ): Promise<Insurer> =>
    changing(async () => {
      try {
        const insurer = await ctx.write(
          `i:${id}`,
          INSURER_UPDATE,
          [keys.insurer(id), keys.insurer(id, ":q")],
          (opId) => [
            JSON.stringify({ id, set, del, hasUrl: url !== undefined, url: url?.value ?? "", opId }),
          ],
          (reply) => (reply as unknown[])[1] as string,
          (reply) => insurerFromHash(hashOf((reply as unknown[])[0])),
        );
        if (!insurer) throw new NotFoundError(`no active insurer ${id}`);
        return insurer;
      } catch (error) {
        throw translate(error);
      }
    });

  return {
    async addInsurer(insurer, secrets) {
      const fields: Record<string, string> = {
        id: insurer.id,
        name: insurer.name,
        aliases: JSON.stringify(insurer.aliases),
        sandbox: insurer.sandbox ? "1" : "0",
        created_at: insurer.createdAt,
        api_key_hash: secrets.apiKeyHash,
        webhook_secret_enc: cipher.encrypt(secrets.webhookSecret),
      };
      if (insurer.nameZh !== undefined) fields.name_zh = insurer.nameZh;
      if (insurer.webhookUrl !== undefined) fields.webhook_url = insurer.webhookUrl;
      if (insurer.contact !== undefined) fields.contact = insurer.contact;
      if (insurer.removedAt !== undefined) fields.removed_at = insurer.removedAt;
      if (insurer.webhookDisabledAt !== undefined) fields.webhook_disabled_at = insurer.webhookDisabledAt;
      const ops: IndexOp[] = [
        ["dir", insurer.id],
        ["ix", `k:${secrets.apiKeyHash}`, insurer.id],
      ];
      const opsJson = JSON.stringify(ops);
      await changing(async () => {
        try {
          await ctx.write(
            `i:${insurer.id}`,
            INSURER_ADD,
            [keys.insurer(insurer.id), keys.insurer(insurer.id, ":q")],
            (opId) => [opId, opsJson, ...Object.entries(fields).flat()],
            () => opsJson,
            () => undefined,
          );
        } catch (error) {
          throw translate(error);
        }
      });
    },
    async listInsurers() {
      const now = Date.parse(ctx.now());
      const fresh =
        directory !== undefined &&
        directory.generation === generation &&
        now >= directory.readAt &&
        now - directory.readAt < DIRECTORY_MAX_AGE_MS;
      let kept = directory;
      if (!fresh || kept === undefined) {
        // A write of this store that ends while this read runs leaves the copy outdated.
        const before = generation;
        kept = { insurers: await readDirectory(), readAt: now, generation: before };
        directory = kept;
      }
      return kept.insurers.map(copyInsurer);
    },
    async getInsurer(id) {
      return insurerFromHash(await hash(id));
    },
    async getInsurerSecrets(id) {
      const row = insurerRowFromHash(await hash(id));
      if (!row) return undefined;
      return { apiKeyHash: row.api_key_hash, webhookSecret: cipher.decrypt(row.webhook_secret_enc) };
    },
    async updateInsurer(id, patch: InsurerPatch) {
      const set: Record<string, string> = {};
      const del: string[] = [];
      const field = (name: string, value: string | null) => {
        if (value === null) del.push(name);
        else set[name] = value;
      };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.nameZh !== undefined) field("name_zh", patch.nameZh);
      if (patch.aliases !== undefined) set.aliases = JSON.stringify(patch.aliases);
      if (patch.contact !== undefined) field("contact", patch.contact);
      if (patch.webhookUrl !== undefined) field("webhook_url", patch.webhookUrl);
      if (patch.webhookDisabledAt !== undefined) field("webhook_disabled_at", patch.webhookDisabledAt);
      return update(id, set, del, patch.webhookUrl !== undefined ? { value: patch.webhookUrl } : undefined);
    },
    async setInsurerApiKeyHash(id, apiKeyHash) {
      await update(id, { api_key_hash: apiKeyHash }, []);
    },
    async setInsurerWebhookSecret(id, webhookSecret) {
      await update(id, { webhook_secret_enc: cipher.encrypt(webhookSecret) }, []);
    },
    async removeInsurer(id, at) {
      await changing(async () => {
        try {
          await redis.eval(INSURER_REMOVE, [keys.insurer(id)], [at]);
        } catch (error) {
          throw translate(error);
        }
      });
    },
    async findInsurerByApiKeyHash(apiKeyHash) {
      const field = `k:${apiKeyHash}`;
      const id = unwrap<string | null>(await redis.call("HGET", keys.idIndex(field), field));
      if (!id) return undefined;
      const row = insurerRowFromHash(await hash(id));
      // The index may lag a rotation; the insurer's own record decides.
      if (!row || row.api_key_hash !== apiKeyHash || row.removed_at !== null) return undefined;
      return insurerFromRow(row);
    },
    forgetDirectory() {
      generation++;
    },
  };
}
