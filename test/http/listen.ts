/**
 * The app on a real loopback port, created as src/main.ts creates it (the header limit and the
 * clientError handler), and keep-alive requests over one socket.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { handleClientError, MAX_HEADER_BYTES } from "../../src/http/create-http-app.js";

export async function listen(fetch: (req: Request, env: unknown) => Response | Promise<Response>) {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch, hostname: "127.0.0.1", port: 0, serverOptions: { maxHeaderSize: MAX_HEADER_BYTES } },
      () => resolve(s),
    );
    s.on("clientError", handleClientError);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client socket the answer came on (to tell whether a connection was reused). */
  socket: unknown;
}

/** One request through `agent` (keepAlive, maxSockets 1: every request on the same socket). */
export function send(
  agent: http.Agent,
  port: number,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: "127.0.0.1", port, method, path, headers: options.headers ?? {} },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, socket: req.socket }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
