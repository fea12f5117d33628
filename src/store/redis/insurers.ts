/** The insurer directory: one hash per insurer (`{i:<id>}`), the webhook secret encrypted. */
import type { Insurer } from "../../domain/model.js";
import { insurerFromRow } from "../rows.js";
import { type InsurerPatch, NotFoundError, type Store } from "../store.js";
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

/** Insurer operations of the Redis store. */
export function createInsurerPart(ctx: RedisContext): InsurerPart {
  const { redis, keys, cipher } = ctx;

  const hash = async (id: string) => hashOf(await redis.call("HGETALL", keys.insurer(id)));

  /** Runs the update script; `set`/`del` are hash fields, `url` the patched webhook URL if any. */
  const update = async (
    id: string,
    set: Record<string, string>,
    del: string[],
    url?: { value: string | null },
  ): Promise<Insurer> => {
    try {
      const insurer = await ctx.write(
        `i:${id}`,
        INSURER_UPDATE,
        [keys.insurer(id), keys.insurer(id, ":q")],
        (opId) => [JSON.stringify({ id, set, del, hasUrl: url !== undefined, url: url?.value ?? "", opId })],
        (reply) => (reply as unknown[])[1] as string,
        (reply) => insurerFromHash(hashOf((reply as unknown[])[0])),
      );
      if (!insurer) throw new NotFoundError(`no active insurer ${id}`);
      return insurer;
    } catch (error) {
      throw translate(error);
    }
  };

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
    },
    async listInsurers() {
      const ids = (unwrap<string[]>(await redis.call("SMEMBERS", keys.directory())) ?? []).sort();
      const hashes = await redis.pipeline(ids.map((id) => ({ args: ["HGETALL", keys.insurer(id)] })));
      return hashes
        .map((reply) => insurerFromHash(hashOf(unwrap(reply))))
        .filter((i): i is Insurer => i !== undefined && i.removedAt === undefined);
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
      try {
        await redis.eval(INSURER_REMOVE, [keys.insurer(id)], [at]);
      } catch (error) {
        throw translate(error);
      }
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
  };
}
