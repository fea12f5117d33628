/**
 * Limits on a real port (DESIGN §5): a 413 leaves the keep-alive connection usable (the body is
 * drained, up to a cap past which the 413 closes it), and what Node's parser refuses before
 * Hono — headers past 16 KiB, a malformed request — is answered in the API's error shape.
 */
import http from "node:http";
import net from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DRAIN_MAX_BYTES } from "../../src/http/body-limit.js";
import { type Api, startApi } from "./harness.js";
import { listen, send } from "./listen.js";

/** Writes `data` on a fresh socket and reads until the server closes it. */
function rawExchange(port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let out = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      out += d;
    });
    socket.on("end", () => resolve(out));
    socket.on("error", reject);
    socket.write(data);
  });
}

function parse(raw: string) {
  const [head = "", body = ""] = raw.split("\r\n\r\n");
  const [status = "", ...lines] = head.split("\r\n");
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  return { status: Number(status.split(" ")[1]), headers, body };
}

describe("limits on a real port", () => {
  let api: Api;
  let server: Awaited<ReturnType<typeof listen>>;
  let agent: http.Agent;

  beforeAll(async () => {
    api = await startApi();
    server = await listen(api.app.fetch);
  });
  afterAll(async () => {
    await server.close();
    await api.close();
  });
  beforeEach(() => {
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => agent.destroy());

  it("answers 413 in the error shape and the same connection then answers 200", async () => {
    const json = { "content-type": "application/json" };
    const big = await send(agent, server.port, "POST", "/v1/receipts/verify", {
      headers: json,
      body: JSON.stringify({ jws: "x".repeat(1_000_000) }),
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toEqual({
      error: { code: "payload_too_large", message: "request body too large" },
    });
    expect(big.headers.connection).toBe("keep-alive");
    const next = await send(agent, server.port, "GET", "/healthz");
    expect(next.status).toBe(200);
    expect(next.socket).toBe(big.socket);

    // The same with a chunked body (no Content-Length: counted as it streams).
    const chunked = await send(agent, server.port, "POST", "/v1/receipts/verify", {
      headers: { ...json, "transfer-encoding": "chunked" },
      body: Buffer.alloc(1_000_000, 0x20),
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.code).toBe("payload_too_large");
    const after = await send(agent, server.port, "GET", "/healthz");
    expect(after.status).toBe(200);
    expect(after.socket).toBe(big.socket);
  });

  it("keeps the connection after a scrub body over 2 MiB, and the next scrub is answered", async () => {
    const auth = { authorization: `Bearer ${api.creds.pingan!.apiKey}`, "content-type": "application/json" };
    const big = await send(agent, server.port, "POST", "/v1/scrub", {
      headers: auth,
      body: JSON.stringify({ numbers: Array.from({ length: 200_000 }, () => "+8613800138000") }),
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error.code).toBe("payload_too_large");
    const ok = await send(agent, server.port, "POST", "/v1/scrub", {
      headers: auth,
      body: JSON.stringify({ numbers: ["+8613800138000"] }),
    });
    expect(ok.status).toBe(200);
    expect(ok.socket).toBe(big.socket);
  });

  it("gives up a body past the drain cap with Connection: close", async () => {
    const sent = DRAIN_MAX_BYTES + 1;
    const raw = await rawExchange(
      server.port,
      Buffer.concat([
        Buffer.from(
          `POST /v1/receipts/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${sent * 2}\r\n\r\n`,
        ),
        Buffer.alloc(sent, 0x20),
      ]),
    );
    const res = parse(raw);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.body).error.code).toBe("payload_too_large");
  });

  it("answers headers past 16 KiB with 431 headers_too_large as JSON, and closes", async () => {
    const raw = await rawExchange(
      server.port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(100 * 1024)}\r\n\r\n`,
    );
    const res = parse(raw);
    expect(res.status).toBe(431);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "headers_too_large" } });
    // Under the limit is served as usual.
    const fine = await send(agent, server.port, "GET", "/healthz", {
      headers: { "x-big": "a".repeat(12 * 1024) },
    });
    expect(fine.status).toBe(200);
  });

  it("answers a malformed request with 400 bad_request as JSON", async () => {
    const res = parse(await rawExchange(server.port, "NOT HTTP AT ALL\r\n\r\n"));
    expect(res.status).toBe(400);
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "bad_request" } });
  });
});
