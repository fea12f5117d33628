/**
 * A loopback webhook receiver for one insurer (node:http, port 0): records every request (headers
 * and raw body), verifies its Standard Webhooks signature with the insurer's secret, and answers
 * as scripted per request — a status, a delay, a hang (never answers), or a reset connection.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export type Reply =
  | { status: number; delayMs?: number; headers?: Record<string, string> }
  | { hang: true }
  | { reset: true };

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body, exactly as received. */
  body: string;
  /** Whether `Webhook(secret).verify` accepted it. */
  signatureValid: boolean;
  /** Parsed body when it is JSON. */
  json?: { type: string; timestamp: string; data: Record<string, unknown> };
  /** The reply this request was scripted with. */
  reply: Reply;
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every request so far, oldest first. */
  requests: ReceivedRequest[];
  /** Requests that got a 2xx answer. */
  accepted(): ReceivedRequest[];
  /** Scripts the next requests, in order; once used up, `fallback` answers. */
  script(...replies: Reply[]): void;
  /** The reply for requests beyond the script (default 200). */
  setFallback(reply: Reply): void;
  /** Sets the secret used to verify (after a rotation). */
  setSecret(secret: string): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  secret: string,
  fallback: Reply = { status: 200 },
): Promise<WebhookReceiver> {
  let webhook = new Webhook(secret);
  const queue: Reply[] = [];
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  let otherwise = fallback;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const reply = queue.shift() ?? otherwise;
      let signatureValid = false;
      try {
        webhook.verify(body, {
          "webhook-id": String(req.headers["webhook-id"] ?? ""),
          "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
          "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
        });
        signatureValid = true;
      } catch {
        signatureValid = false;
      }
      let json: ReceivedRequest["json"];
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body,
        signatureValid,
        ...(json === undefined ? {} : { json }),
        reply,
        receivedAt: Date.now(),
      });
      if ("hang" in reply) {
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      if ("reset" in reply) {
        req.socket.destroy();
        return;
      }
      const answer = () => {
        res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
        res.end("ok");
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/onewindow`,
    requests,
    accepted: () =>
      requests.filter((r) => "status" in r.reply && r.reply.status >= 200 && r.reply.status < 300),
    script: (...replies) => {
      queue.push(...replies);
    },
    setFallback: (reply) => {
      otherwise = reply;
    },
    setSecret: (s) => {
      webhook = new Webhook(s);
    },
    close: async () => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
