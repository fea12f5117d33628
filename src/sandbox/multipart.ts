/**
 * multipart/form-data as grammY writes it (`content-disposition:form-data;name=..;filename=x`,
 * no spaces, unquoted filename), which Node 20's `Response.formData()` rejects.
 */
import { Buffer } from "node:buffer";

export interface MultipartPart {
  name: string;
  filename: string | undefined;
  bytes: Buffer;
}

/** Splits a multipart body into its parts, tolerating unspaced and unquoted header values. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  if (boundary === "") return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    let start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    if (body.subarray(start, start + 2).toString() === "\r\n") start += 2;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    let end = next;
    if (body.subarray(end - 2, end).toString() === "\r\n") end -= 2;
    const segment = body.subarray(start, end);
    const headerEnd = segment.indexOf("\r\n\r\n");
    if (headerEnd !== -1) {
      const headers = segment.subarray(0, headerEnd).toString("utf8");
      const disposition = headers.split("\r\n").find((l) => /^content-disposition\s*:/i.test(l)) ?? "";
      const name = /;\s*name=(?:"([^"]*)"|([^;\s]*))/i.exec(disposition);
      const filename = /;\s*filename=(?:"([^"]*)"|([^\r\n]*))/i.exec(disposition);
      parts.push({
        name: name?.[1] ?? name?.[2] ?? "",
        filename: filename ? (filename[1] ?? filename[2]) : undefined,
        bytes: Buffer.from(segment.subarray(headerEnd + 4)),
      });
    }
    pos = next;
  }
  return parts;
}

/** The boundary of a multipart content-type header, or "". */
export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2] ?? "";
}
