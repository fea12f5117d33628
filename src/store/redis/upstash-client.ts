/**
 * The command layer over @upstash/redis (REST). Automatic deserialization is off, so a stored
 * string always comes back as that string (never JSON-parsed into a number); the client's
 * default base64 response encoding stays on. Pipelines go to `/pipeline` in one request.
 */
import { Redis } from "@upstash/redis";
import { type Arg, isNoScript, type LuaScript, type RedisCall, type RedisCommands } from "./commands.js";

export interface UpstashOptions {
  url: string;
  token: string;
}

/** The shape of a command the client's pipeline accepts (its internal `chain`). */
interface RawCommand {
  command: string[];
  deserialize: (result: unknown) => unknown;
}

interface ChainablePipeline {
  chain(command: RawCommand): unknown;
  exec(options: { keepErrors: true }): Promise<{ error?: string; result: unknown }[]>;
}

/** Creates the client; no request is made before the first command. */
export function createUpstashCommands(options: UpstashOptions): RedisCommands {
  const redis = new Redis({
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    // Writes and the reads that follow them must stay in order; batching is explicit below.
    enableAutoPipelining: false,
  });

  const exec = (args: readonly Arg[]) => redis.exec(args.map(String) as [string, ...string[]]);
  const evalOne = async (script: LuaScript, keys: string[], args: Arg[]): Promise<unknown> => {
    try {
      return await exec(["EVALSHA", script.sha, keys.length, ...keys, ...args]);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return exec(["EVAL", script.source, keys.length, ...keys, ...args]);
    }
  };
  const argsOf = (call: RedisCall): Arg[] =>
    "script" in call ? ["EVALSHA", call.script.sha, call.keys.length, ...call.keys, ...call.args] : call.args;
  const settle = (promise: Promise<unknown>) =>
    promise.then(
      (value) => value,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );

  const client: RedisCommands = {
    binary: false,
    async scan(match) {
      const found: string[] = [];
      let cursor = "0";
      do {
        const [next, keys] = (await exec(["SCAN", cursor, "MATCH", match, "COUNT", 1000])) as [
          string,
          string[],
        ];
        found.push(...keys);
        cursor = String(next);
      } while (cursor !== "0");
      return found;
    },
    async getBuffers(keys) {
      const replies = await client.pipeline(keys.map((key) => ({ args: ["GET", key] })));
      return replies.map((reply) => {
        if (reply instanceof Error) throw reply;
        return typeof reply === "string" ? Buffer.from(reply) : null;
      });
    },
    eval: evalOne,
    call: (...args) => exec(args),
    async pipeline(calls) {
      if (calls.length === 0) return [];
      const pipe = redis.pipeline() as unknown as Partial<ChainablePipeline>;
      if (typeof pipe.chain !== "function") {
        return Promise.all(
          calls.map((call) =>
            settle("script" in call ? evalOne(call.script, call.keys, call.args) : exec(call.args)),
          ),
        );
      }
      for (const call of calls) {
        pipe.chain({ command: argsOf(call).map(String), deserialize: (x) => x });
      }
      const replies = await (pipe as ChainablePipeline).exec({ keepErrors: true });
      return Promise.all(
        replies.map(({ error, result }, index) => {
          if (error === undefined || error === null) return result;
          const call = calls[index] as RedisCall;
          const failure = new Error(error);
          if ("script" in call && isNoScript(failure))
            return settle(evalOne(call.script, call.keys, call.args));
          return failure;
        }),
      );
    },
    async close() {},
  };
  return client;
}
