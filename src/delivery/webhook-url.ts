/**
 * Where webhooks may go (DESIGN §4 `ALLOW_PRIVATE_WEBHOOKS`, §9): https to public addresses
 * only, so an insurer's URL cannot make the service call into its own network (SSRF). Checked
 * when a URL is set and again at send time, since DNS can change; {@link guardedLookup} also
 * checks the address each connection actually uses, closing the gap between check and connect.
 */
import dns from "node:dns";
import net from "node:net";

export type UrlCheck = { ok: true } | { ok: false; reason: string };

export interface UrlCheckOptions {
  /** `ALLOW_PRIVATE_WEBHOOKS=1`: plain http and any address (local development, tests). */
  allowPrivate: boolean;
  /** Resolver (tests inject one); defaults to `dns.promises.lookup`. */
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>;
}

const blocked = new net.BlockList();
for (const [prefix, bits] of [
  ["0.0.0.0", 8], // "this network", 0.0.0.0
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, incl. cloud metadata 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(prefix, bits, "ipv4");
}
for (const [prefix, bits] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  blocked.addSubnet(prefix, bits, "ipv6");
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d` or `::ffff:xxxx:xxxx`). */
function mappedIPv4(address: string): string | undefined {
  const m = /^::ffff:(?:0:)?(.+)$/i.exec(address);
  if (!m?.[1]) return undefined;
  if (net.isIPv4(m[1])) return m[1];
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(m[1]);
  if (!hex?.[1] || !hex[2]) return undefined;
  const hi = Number.parseInt(hex[1], 16);
  const lo = Number.parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether an IP address is publicly routable (not loopback, private, link-local, …). */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return !blocked.check(address, "ipv4");
  if (family === 6) {
    const v4 = mappedIPv4(address);
    if (v4 !== undefined) return isPublicAddress(v4);
    return !blocked.check(address, "ipv6");
  }
  return false;
}

const defaultLookup = (host: string) => dns.promises.lookup(host, { all: true, verbatim: true });

/**
 * Whether webhooks may be sent to `url`: https, no credentials, and every address the host
 * resolves to public — unless `allowPrivate`, when http and any address are fine.
 */
export async function checkWebhookUrl(url: string, options: UrlCheckOptions): Promise<UrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  const allowed = options.allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(parsed.protocol)) {
    return {
      ok: false,
      reason: options.allowPrivate
        ? `scheme ${parsed.protocol} not allowed (http or https only)`
        : `scheme ${parsed.protocol} not allowed (https only; ALLOW_PRIVATE_WEBHOOKS=1 allows http)`,
    };
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return { ok: false, reason: "credentials in the URL are not allowed" };
  }
  if (options.allowPrivate) return { ok: true };

  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") return { ok: false, reason: "no host" };
  let addresses: string[];
  if (net.isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await (options.lookup ?? defaultLookup)(host)).map((a) => a.address);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "lookup failed";
      return { ok: false, reason: `cannot resolve ${host}: ${code}` };
    }
    if (addresses.length === 0) return { ok: false, reason: `cannot resolve ${host}: no addresses` };
  }
  const refused = addresses.find((a) => !isPublicAddress(a));
  if (refused !== undefined) {
    return {
      ok: false,
      reason: `${host} resolves to non-public address ${refused} (ALLOW_PRIVATE_WEBHOOKS=1 allows it)`,
    };
  }
  return { ok: true };
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `net.connect` / `tls.connect` (undici `connect.lookup`) that refuses to
 * connect to non-public addresses: DNS answers that change between check and connect
 * (rebinding) cannot reach the internal network.
 */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, options.all ? [] : "", undefined);
      return;
    }
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad !== undefined || addresses.length === 0) {
      const e: NodeJS.ErrnoException = new Error(
        `webhook host ${hostname} resolves to non-public address ${bad?.address ?? "(none)"}`,
      );
      e.code = "ENONPUBLIC";
      callback(e, options.all ? [] : "", undefined);
      return;
    }
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}
