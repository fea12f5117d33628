/**
 * Requests Node's HTTP parser refuses before Hono sees them (DESIGN §5: limits "answered in the
 * error shape"): headers past `maxHeaderSize` (HPE_HEADER_OVERFLOW) get 431
 * `headers_too_large`, a request that took too long to arrive 408 `request_timeout`, any other
 * malformed request 400 `bad_request` — each as the API's JSON error, with `Connection: close`
 * (the parser cannot go on on that connection). Node's own answer is a bare status line.
 * Attach with `server.on("clientError", handleClientError)` where the server is created.
 */
import type { Duplex } from "node:stream";
import { errorBody } from "./errors.js";

/** Node's default `maxHeaderSize` (16 KiB), set explicitly where the server is created. */
export const MAX_HEADER_BYTES = 16 * 1024;

const ANSWERS: Record<string, { status: number; reason: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: "Request Header Fields Too Large",
    code: "headers_too_large",
    message: `request headers too large: at most ${MAX_HEADER_BYTES / 1024} KiB in all`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: "Request Timeout",
    code: "request_timeout",
    message: "the request took too long to arrive",
  },
};

const BAD_REQUEST = {
  status: 400,
  reason: "Bad Request",
  code: "bad_request",
  message: "malformed HTTP request",
};

/** The `clientError` listener of a node:http server. */
export function handleClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A reset, or a response already under way on this socket: nothing can be said any more.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = ANSWERS[err.code ?? ""] ?? BAD_REQUEST;
  const body = JSON.stringify(errorBody(answer.code, answer.message));
  socket.end(
    `HTTP/1.1 ${answer.status} ${answer.reason}\r\n` +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Cache-Control: no-store\r\n" +
      "Connection: close\r\n" +
      `\r\n${body}`,
  );
}
