/**
 * The command layer over ioredis: one server (`redis://host:port/db`) or a Redis Cluster
 * (several comma-separated seed URLs). RESP2 replies (`protocol: 2`) keep reply shapes the
 * same as the Upstash REST client's.
 */
import { Cluster, Redis } from "ioredis";
import { type Arg, isNoScript, type LuaScript, type RedisCall, type RedisCommands } from "./commands.js";

export interface IoredisOptions {
  /** One `redis://` URL, or several comma-separated ones: then a Cluster seeded from them. */
  url: string;
  /** Forces Cluster mode for a single seed URL. */
  cluster?: boolean;
}

type Client = Redis | Cluster;

/** Connects lazily: the first command opens the connection. */
export function createIoredisCommands(options: IoredisOptions): RedisCommands {
  const urls = options.url
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  const clustered = options.cluster === true || urls.length > 1;
  const client: Client = clustered
    ? new Cluster(
        urls.map((u) => {
          const parsed = new URL(u);
          return { host: parsed.hostname, port: Number(parsed.port || 6379) };
        }),
        {
          enableAutoPipelining: true,
          redisOptions: {
            protocol: 2,
            ...passwordOf(urls[0] ?? ""),
            ...(urls[0]?.startsWith("rediss:") ? { tls: {} } : {}),
          },
        },
      )
    : // Auto-pipelining: commands issued in one tick share one write (many owners agree and
      // many deliveries finish at once; a syscall per command was a tenth of the CPU).
      new Redis(urls[0] ?? "redis://127.0.0.1:6379", {
        protocol: 2,
        lazyConnect: true,
        enableAutoPipelining: true,
      });

  // Connection errors reach each command's promise; without a listener ioredis also prints them.
  client.on("error", () => undefined);

  const evalOne = async (script: LuaScript, keys: string[], args: Arg[]): Promise<unknown> => {
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
  };
  const one = (call: RedisCall): Promise<unknown> =>
    "script" in call ? evalOne(call.script, call.keys, call.args) : client.call(...toCall(call.args));
  const settle = (promise: Promise<unknown>) =>
    promise.then(
      (value) => value,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );

  const scanNode = (node: Redis, match: string) =>
    new Promise<string[]>((resolve, reject) => {
      const found: string[] = [];
      node
        .scanStream({ match, count: 1000 })
        .on("data", (keys: string[]) => found.push(...keys))
        .on("end", () => resolve(found))
        .on("error", reject);
    });

  return {
    binary: true,
    async scan(match) {
      const nodes = client instanceof Cluster ? client.nodes("master") : [client];
      return (await Promise.all(nodes.map((node) => scanNode(node, match)))).flat();
    },
    async getBuffers(keys) {
      if (keys.length === 0) return [];
      if (client instanceof Cluster) return Promise.all(keys.map((key) => client.getBuffer(key)));
      const pipe = client.pipeline();
      for (const key of keys) pipe.getBuffer(key);
      const replies = (await pipe.exec()) ?? [];
      return replies.map(([error, value]) => {
        if (error) throw error;
        return (value as Buffer | null) ?? null;
      });
    },
    eval: evalOne,
    call: (...args) => client.call(...toCall(args)),
    async pipeline(calls) {
      if (calls.length === 0) return [];
      // A Cluster pipeline must stay in one slot; auto-pipelining batches per node instead.
      if (client instanceof Cluster) return Promise.all(calls.map((call) => settle(one(call))));
      const pipe = client.pipeline();
      for (const call of calls) {
        if ("script" in call) pipe.evalsha(call.script.sha, call.keys.length, ...call.keys, ...call.args);
        else pipe.call(...toCall(call.args));
      }
      const replies = (await pipe.exec()) ?? [];
      return Promise.all(
        replies.map(([error, value], index) => {
          const call = calls[index] as RedisCall;
          if (error && "script" in call && isNoScript(error)) return settle(one(call));
          return error ? error : value;
        }),
      );
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

function toCall(args: readonly Arg[]): [string, ...Arg[]] {
  const [command, ...rest] = args;
  return [String(command), ...rest];
}

function passwordOf(url: string): { username?: string; password?: string } {
  try {
    const parsed = new URL(url);
    return {
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    };
  } catch {
    return {};
  }
}
