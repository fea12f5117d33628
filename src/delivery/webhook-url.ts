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
  ["2001::", 32], // Teredo: carries an obfuscated IPv4 address
  ["2001:2::", 48], // benchmarking
  ["2001:10::", 28], // ORCHID (deprecated)
  ["2001:20::", 28], // ORCHIDv2: cryptographic identifiers, not locators
  ["2001:db8::", 32], // documentation
  ["3fff::", 20], // documentation
  ["5f00::", 16], // segment-routing SIDs
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  blocked.addSubnet(prefix, bits, "ipv6");
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted quad split). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad?.[1]) {
    if (!net.isIPv4(quad[1])) return undefined;
    const [a, b, c, d] = quad[1].split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, -quad[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return undefined;
  const part = (s: string | undefined) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address an IPv6 address carries and may be routed to: IPv4-mapped (`::ffff:a.b.c.d`),
 * IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`). Each is
 * judged by its IPv4 address, so none of them reaches a private or loopback one.
 */
function embeddedIPv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (g === undefined) return undefined;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return v4(g[6]!, g[7]!);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!); // IPv4-translated
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

/** Whether an IP address is publicly routable (not loopback, private, link-local, …). */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return !blocked.check(address, "ipv4");
  if (family === 6) {
    const inner = embeddedIPv4(address);
    if (inner !== undefined) return isPublicAddress(inner);
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
