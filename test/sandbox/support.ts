/** A sandbox on a fresh SQLite store, without a server: for transport and route tests. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createExtractor } from "../../src/nlu/create-extractor.js";
import { createSandbox } from "../../src/sandbox/create-sandbox.js";
import { createServices } from "../../src/services/create-services.js";

export async function startSandboxHarness(env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-sandbox-"));
  const config = loadConfig({
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
    ...env,
  });
  const logger = createLogger("silent");
  const services = await createServices(config, logger);
  const sandbox = await createSandbox({ services, extractor: createExtractor({ logger }), longPollMs: 50 });
  return {
    dir,
    services,
    sandbox,
    async close() {
      sandbox.stop();
      await services.close();
    },
  };
}

/** What @hono/node-server puts in `c.env` for a peer at `remoteAddress`. */
export const peer = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });
