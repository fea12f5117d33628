/**
 * Request body limits that leave the connection usable (DESIGN §5: "the connection stays usable
 * after a 413"). Hono's bodyLimit answers 413 without reading the rest of the body, and
 * @hono/node-server then gives the unread body 500 ms before it destroys the socket — so the
 * client's next request on that keep-alive connection failed. Here an oversized body is read to
 * its end and thrown away before the 413 is sent, within bounds: past `DRAIN_MAX_BYTES` or
 * `DRAIN_MAX_MS` the rest is left unread and the 413 says `Connection: close`, so a client
 * cannot make the server read an endless body.
 */
import type { Context, MiddlewareHandler } from "hono";
import { apiError } from "./errors.js";

/** The most of an oversized body read (and dropped) to keep its connection open: 16 MiB. */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
/** The longest an oversized body is read for before the connection is given up. */
export const DRAIN_MAX_MS = 5_000;

const tooLarge = (c: Context, close: boolean) =>
  apiError(
    c,
    413,
    "payload_too_large",
    "request body too large",
    undefined,
    close ? { Connection: "close" } : undefined,
  );

/** Reads and drops the rest of `reader`'s stream; false when it had to stop (cap or time). */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<boolean> {
  let read = alreadyRead;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), DRAIN_MAX_MS);
  });
  try {
    for (;;) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === "timeout") return false;
      if (chunk.done) return true;
      read += chunk.value.length;
      if (read > DRAIN_MAX_BYTES) return false;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => undefined);
  }
}

/**
 * Like hono/body-limit: at most `maxSize` bytes of body (by Content-Length, or counted as it
 * streams), the body handed on as a buffer; above it, 413 `payload_too_large` once the body is
 * drained as above.
 */
export function bodyLimit(maxSize: number): MiddlewareHandler {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.raw.headers.has("transfer-encoding")
      ? undefined
      : c.req.raw.headers.get("content-length");
    if (declared !== undefined && declared !== null) {
      // Node's parser holds the body to its Content-Length: no need to count it again.
      if (!(Number.parseInt(declared, 10) > maxSize)) return next();
      return tooLarge(c, !(await drain(body.getReader(), 0)));
    }
    const reader = body.getReader();
    let size = 0;
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxSize) return tooLarge(c, !(await drain(reader, size)));
      chunks.push(value);
    }
    const buffer = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, offset);
      offset += chunk.length;
    }
    c.req.raw = new Request(c.req.raw, { body: buffer });
    return next();
  };
}
