/**
 * Redis for tests: the server named by TEST_REDIS_URL, a unique key prefix per store, key
 * clean-up, and a throwaway 3-master Redis Cluster built from the machine's redis-server.
 */

import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort } from "./ports.js";

/** The Redis the suites run on, or undefined (then they skip). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;

/** A prefix no other test run uses. */
export function uniquePrefix(label = "t"): string {
  return `owtest:${label}:${randomBytes(6).toString("hex")}:`;
}

/** Deletes every key under `prefix` on every master of `url` (one server or comma-separated cluster seeds). */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const nodes = await mastersOf(url);
  let deleted = 0;
  try {
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, found] = await node.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        cursor = next;
        // One key at a time: on a cluster the keys of one batch live in different slots.
        for (const key of found) deleted += await node.del(key);
      } while (cursor !== "0");
    }
  } finally {
    for (const node of nodes) node.disconnect();
  }
  return deleted;
}

/** Every key and value under `prefix`, as raw bytes (strings, hashes, sets, sorted sets). */
export async function dumpKeys(url: string, prefix: string): Promise<Buffer[]> {
  const nodes = await mastersOf(url);
  const out: Buffer[] = [];
  try {
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, found] = await node.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        cursor = next;
        for (const key of found) {
          out.push(Buffer.from(key));
          const type = await node.type(key);
          if (type === "string") out.push((await node.getBuffer(key)) ?? Buffer.alloc(0));
          else if (type === "hash")
            out.push(
              ...(await node
                .hgetallBuffer(key)
                .then((h) => Object.entries(h).flatMap(([f, v]) => [Buffer.from(f), v]))),
            );
          else if (type === "set") out.push(...(await node.smembersBuffer(key)));
          else if (type === "zset") out.push(...(await node.zrangeBuffer(key, "0", "-1")));
          else if (type === "list") out.push(...(await node.lrangeBuffer(key, "0", "-1")));
        }
      } while (cursor !== "0");
    }
  } finally {
    for (const node of nodes) node.disconnect();
  }
  return out;
}

async function mastersOf(url: string): Promise<Redis[]> {
  const seeds = url.split(",").filter((u) => u.trim() !== "");
  if (seeds.length === 1) return [new Redis(seeds[0] as string, { protocol: 2 })];
  const cluster = new Cluster(
    seeds.map((u) => {
      const parsed = new URL(u);
      return { host: parsed.hostname, port: Number(parsed.port) };
    }),
    { redisOptions: { protocol: 2 } },
  );
  await new Promise<void>((resolve, reject) => {
    cluster.once("ready", resolve);
    cluster.once("error", reject);
  });
  const masters = cluster
    .nodes("master")
    .map((n) => new Redis({ host: n.options.host, port: n.options.port, protocol: 2 }));
  cluster.disconnect();
  return masters;
}

/** Whether `redis-server` and `redis-cli` are on the PATH. */
export function hasRedisServer(): boolean {
  const server = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  const cli = spawnSync("redis-cli", ["--version"], { stdio: "ignore" });
  return server.status === 0 && cli.status === 0;
}

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      protocol: 2,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
}

export interface TestCluster {
  /** Comma-separated seed URLs (what REDIS_URL takes to select a Cluster). */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/** Starts a 3-master Redis Cluster on free loopback ports, in a temp directory. */
export async function startCluster(masters = 3): Promise<TestCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "onewindow-cluster-"));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn(
        "redis-server",
        [
          ...["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes"],
          ...["--cluster-config-file", `nodes-${port}.conf`, "--save", "", "--appendonly", "no"],
          ...["--daemonize", "no", "--dir", dir, "--cluster-node-timeout", "5000"],
        ],
        { stdio: "ignore", cwd: dir },
      );
      children.push(child);
    }
    await Promise.all(ports.map((port) => waitForPing(port)));
    await promisify(execFile)("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    // Wait until every node agrees that all slots are served.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(
        ports.map(async (port) => {
          const client = new Redis({ port, host: "127.0.0.1", protocol: 2 });
          try {
            return String(await client.call("CLUSTER", "INFO"));
          } finally {
            client.disconnect();
          }
        }),
      );
      if (states.every((s) => s.includes("cluster_state:ok"))) break;
      if (Date.now() > deadline) throw new Error("cluster did not become ready");
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: ports.map((p) => `redis://127.0.0.1:${p}`).join(","), ports, stop };
}
