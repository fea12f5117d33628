/**
 * A loopback server that speaks the Upstash Redis REST protocol and forwards every command to
 * a real Redis through ioredis — a test fixture at the wire, not an emulator:
 *
 * - `POST /` with a JSON array `["SET","k","v"]`: one command → `{"result": …}`, or HTTP 400
 *   `{"error": "ERR …"}`;
 * - `POST /pipeline` with `[[…],[…]]`: the commands in order → `[{"result"}|{"error"}, …]`;
 * - `POST /multi-exec`: the same inside MULTI/EXEC (atomic);
 * - `Authorization: Bearer <token>` required (401 otherwise);
 * - with `Upstash-Encoding: base64`, every string in a result (nested too) is base64 of its
 *   bytes; integers and nulls stay as they are.
 *
 * Replies are read raw (`callBuffer`, RESP2) so shapes and bytes stay faithful.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";

export interface UpstashFake {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  token: string;
  /** Requests seen, by path (`/`, `/pipeline`, `/multi-exec`). */
  requests: Record<string, number>;
  /** Commands run, single or inside pipelines and transactions. */
  counts: { commands: number };
  close(): Promise<void>;
}

type Reply = Buffer | number | null | Reply[] | Error;

function render(reply: Reply, base64: boolean): unknown {
  if (reply === null || typeof reply === "number") return reply;
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString("base64") : reply.toString("utf8");
  if (Array.isArray(reply)) return reply.map((r) => render(r, base64));
  return null;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

function isCommand(value: unknown): value is (string | number)[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")
  );
}

/** Starts the fake on a free loopback port, forwarding to `redisUrl`. */
export async function startUpstashFake(redisUrl: string, token = "test-token"): Promise<UpstashFake> {
  const redis = new Redis(redisUrl, { protocol: 2 });
  const requests: Record<string, number> = {};
  /** Commands run, single or inside pipelines and transactions (benchmarks count them). */
  const counts = { commands: 0 };

  const run = async (command: (string | number)[]): Promise<Reply> => {
    counts.commands++;
    const [name, ...args] = command.map(String);
    return (await redis.callBuffer(name as string, args)) as Reply;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        try {
          const path = (req.url ?? "/").split("?")[0] ?? "/";
          requests[path] = (requests[path] ?? 0) + 1;
          if (req.headers.authorization !== `Bearer ${token}`) {
            return send(401, { error: "Unauthorized" });
          }
          if (req.method !== "POST") return send(405, { error: "ERR only POST is supported here" });
          const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            return send(400, { error: "ERR failed to parse command" });
          }
          if (path === "/" || path === "") {
            if (!isCommand(body)) return send(400, { error: "ERR failed to parse command" });
            try {
              return send(200, { result: render(await run(body), base64) });
            } catch (error) {
              return send(400, { error: errorText(error) });
            }
          }
          if (path === "/pipeline" || path === "/multi-exec") {
            if (!Array.isArray(body) || body.length === 0 || !body.every(isCommand)) {
              return send(400, { error: "ERR failed to parse pipeline request" });
            }
            const commands = body as (string | number)[][];
            if (path === "/pipeline") {
              const out = [];
              for (const command of commands) {
                try {
                  out.push({ result: render(await run(command), base64) });
                } catch (error) {
                  out.push({ error: errorText(error) });
                }
              }
              return send(200, out);
            }
            const multi = redis.multi();
            counts.commands += commands.length;
            for (const command of commands) {
              const [name, ...args] = command.map(String);
              multi.callBuffer(name as string, args);
            }
            let replies: [Error | null, unknown][] | null;
            try {
              replies = await multi.exec();
            } catch (error) {
              return send(400, { error: errorText(error) });
            }
            if (!replies) return send(400, { error: "ERR transaction aborted" });
            return send(
              200,
              replies.map(([error, value]) =>
                error ? { error: errorText(error) } : { result: render(value as Reply, base64) },
              ),
            );
          }
          return send(404, { error: `ERR unknown endpoint ${path}` });
        } catch (error) {
          send(500, { error: errorText(error) });
        }
      })();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    counts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}
