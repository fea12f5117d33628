/** The insurer directory, with secrets kept apart and the webhook secret encrypted. */
import type { Insurer, InsurerSecrets } from "../../domain/model.js";
import { DuplicateError, type Store } from "../store.js";
import { isSqliteCode, type SqliteContext } from "./context.js";
import { type InsurerRow, insurerFromRow } from "./rows.js";

type InsurerPart = Pick<Store, "addInsurer" | "listInsurers" | "getInsurer" | "getInsurerSecrets">;

/** Insurer operations of the SQLite store. */
export function createInsurerPart({ db, cipher }: SqliteContext): InsurerPart {
  const insert = db.prepare(
    `INSERT INTO insurers (id, name, aliases, webhook_url, contact, sandbox, created_at, removed_at,
       api_key_hash, webhook_secret_enc)
     VALUES (@id, @name, @aliases, @webhook_url, @contact, @sandbox, @created_at, @removed_at,
       @api_key_hash, @webhook_secret_enc)`,
  );
  const list = db.prepare("SELECT * FROM insurers WHERE removed_at IS NULL ORDER BY id");
  const get = db.prepare("SELECT * FROM insurers WHERE id = ?");

  const row = (id: string) => get.get(id) as InsurerRow | undefined;

  return {
    async addInsurer(insurer: Insurer, secrets: InsurerSecrets) {
      try {
        insert.run({
          id: insurer.id,
          name: insurer.name,
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
      return (list.all() as InsurerRow[]).map(insurerFromRow);
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
  };
}
