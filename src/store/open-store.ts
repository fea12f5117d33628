import fs from "node:fs";
import path from "node:path";
import { ConfigError, type StoreConfig } from "../config.js";
import type { FieldCipher } from "../crypto/field-cipher.js";
import { createSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/** Opens the configured backend. */
export async function openStore(config: StoreConfig, cipher: FieldCipher, clock: () => Date): Promise<Store> {
  switch (config.kind) {
    case "sqlite":
      fs.mkdirSync(path.dirname(config.file), { recursive: true, mode: 0o700 });
      return createSqliteStore({ file: config.file, cipher, now: clock });
    case "redis":
    case "upstash":
      throw new ConfigError([
        `${config.kind === "redis" ? "REDIS_URL" : "UPSTASH_REDIS_REST_URL"}: this build has only the SQLite store`,
      ]);
  }
}
