/** The insurer directory, with secrets kept apart and the webhook secret encrypted. */
import type { Insurer, InsurerSecrets } from "../../domain/model.js";
import { copyInsurer, type InsurerRow, insurerFromRow } from "../rows.js";
import { DuplicateError, type InsurerPatch, NotFoundError, type Store } from "../store.js";
import { isSqliteCode, type SqliteContext } from "./context.js";
import { prepared, whenWritable } from "./db.js";

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
 * Insurer operations of the SQLite store.
 *
 * The directory (`listInsurers`) is read on every chat message, often twice, and changes a few
 * times a year: it is kept between calls and checked before each use, at about 1 µs instead of
 * reading and converting every row again (≈ 60–90 µs for 20 insurers). The check is exact,
 * so no caller ever sees an old directory:
 * - `PRAGMA data_version` changes whenever another connection commits to the file: another
 *   process (`onewindow insurer add`, a second `serve`), the dispatcher thread, any other
 *   connection in this process. Any commit, not only to insurers: the copy is then read again.
 * - this connection's own insurer writes do not change it, so each of them bumps `generation`
 *   inside its transaction; no other code writes the insurers table on this connection.
 * Callers get fresh objects each time, so none can change the kept copy.
 */
export function createInsurerPart({ db, cipher }: SqliteContext): InsurerPart {
  const insert = db.prepare(
    `INSERT INTO insurers (id, name, name_zh, aliases, webhook_url, contact, sandbox, created_at,
       removed_at, api_key_hash, webhook_secret_enc)
     VALUES (@id, @name, @name_zh, @aliases, @webhook_url, @contact, @sandbox, @created_at,
       @removed_at, @api_key_hash, @webhook_secret_enc)`,
  );
  const list = db.prepare("SELECT * FROM insurers WHERE removed_at IS NULL ORDER BY id");
  const get = db.prepare("SELECT * FROM insurers WHERE id = ?");

  const byKeyHash = db.prepare("SELECT * FROM insurers WHERE api_key_hash = ? AND removed_at IS NULL");
  const dataVersion = db.prepare("PRAGMA data_version").pluck();

  /** Bumped by each insurer write of this connection (inside its transaction). */
  let generation = 0;
  let directory: { insurers: Insurer[]; dataVersion: number; generation: number } | undefined;

  const row = (id: string) => get.get(id) as InsurerRow | undefined;

  /** The row of an active insurer, else NotFoundError (removed ones cannot be changed). */
  const active = (id: string): InsurerRow => {
    const found = row(id);
    if (!found || found.removed_at !== null) throw new NotFoundError(`no active insurer ${id}`);
    return found;
  };

  const update = db.transaction((id: string, patch: InsurerPatch): InsurerRow => {
    const current = active(id);
    const set: Record<string, string | null> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.nameZh !== undefined) set.name_zh = patch.nameZh;
    if (patch.aliases !== undefined) set.aliases = JSON.stringify(patch.aliases);
    if (patch.contact !== undefined) set.contact = patch.contact;
    if (patch.webhookUrl !== undefined) {
      set.webhook_url = patch.webhookUrl;
      // A new endpoint gets a fresh chance after a 410 Gone from the old one.
      if (patch.webhookUrl !== current.webhook_url) set.webhook_disabled_at = null;
    }
    if (patch.webhookDisabledAt !== undefined) set.webhook_disabled_at = patch.webhookDisabledAt;
    const assignments = Object.keys(set).map((column) => `${column} = @${column}`);
    if (assignments.length > 0) {
      generation++;
      prepared(db, `UPDATE insurers SET ${assignments.join(", ")} WHERE id = @id`).run({ ...set, id });
    }
    return active(id);
  });

  const setColumn = db.transaction(
    (id: string, column: "api_key_hash" | "webhook_secret_enc", value: string) => {
      active(id);
      generation++;
      prepared(db, `UPDATE insurers SET ${column} = ? WHERE id = ?`).run(value, id);
    },
  );

  // Transactions, so whenWritable can run them without blocking on the write lock.
  const insertInsurer = db.transaction((params: Record<string, unknown>) => {
    generation++;
    insert.run(params);
  });
  const markRemoved = db.transaction((id: string, at: string) => {
    generation++;
    return prepared(db, "UPDATE insurers SET removed_at = COALESCE(removed_at, ?) WHERE id = ?").run(at, id)
      .changes;
  });

  return {
    async addInsurer(insurer: Insurer, secrets: InsurerSecrets) {
      try {
        await whenWritable(db, insertInsurer, {
          id: insurer.id,
          name: insurer.name,
          name_zh: insurer.nameZh ?? null,
          aliases: JSON.stringify(insurer.aliases),
          webhook_url: insurer.webhookUrl ?? null,
          contact: insurer.contact ?? null,
          sandbox: insurer.sandbox ? 1 : 0,
          created_at: insurer.createdAt,
          removed_at: insurer.removedAt ?? null,
          api_key_hash: secrets.apiKeyHash,
          webhook_secret_enc: cipher.encrypt(secrets.webhookSecret),
        });
      } catch (error) {
        if (isSqliteCode(error, "SQLITE_CONSTRAINT")) {
          throw new DuplicateError(`insurer ${insurer.id} already exists`);
        }
        throw error;
      }
    },
    async listInsurers() {
      const version = dataVersion.get() as number;
      let kept = directory;
      if (kept?.dataVersion !== version || kept.generation !== generation) {
        const insurers = (list.all() as InsurerRow[]).map(insurerFromRow);
        kept = { insurers, dataVersion: version, generation };
        directory = kept;
      }
      return kept.insurers.map(copyInsurer);
    },
    async getInsurer(id) {
      const found = row(id);
      return found ? insurerFromRow(found) : undefined;
    },
    async getInsurerSecrets(id) {
      const found = row(id);
      if (!found) return undefined;
      return { apiKeyHash: found.api_key_hash, webhookSecret: cipher.decrypt(found.webhook_secret_enc) };
    },
    async updateInsurer(id, patch) {
      return insurerFromRow(await whenWritable(db, update, id, patch));
    },
    async setInsurerApiKeyHash(id, apiKeyHash) {
      await whenWritable(db, setColumn, id, "api_key_hash", apiKeyHash);
    },
    async setInsurerWebhookSecret(id, webhookSecret) {
      await whenWritable(db, setColumn, id, "webhook_secret_enc", cipher.encrypt(webhookSecret));
    },
    async removeInsurer(id, at) {
      if ((await whenWritable(db, markRemoved, id, at)) !== 1) throw new NotFoundError(`no insurer ${id}`);
    },
    async findInsurerByApiKeyHash(apiKeyHash) {
      const found = byKeyHash.get(apiKeyHash) as InsurerRow | undefined;
      return found ? insurerFromRow(found) : undefined;
    },
  };
}
