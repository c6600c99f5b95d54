import { readBounded } from "./body";

/**
 * The outbound-fetch policy (ASVS 5.0 V1.3.6, server-side request forgery): the ONE way to fetch a
 * URL that a client or a person supplied — today a client's `jwks_uri` (client authentication),
 * `sector_identifier_uri` (registration) and `backchannel_logout_uri` (logout deliveries), request
 * URIs, CIBA notification endpoints, and client ID metadata documents (src/clients/metadata-document.ts).
 * docs/security.md ("Outbound fetches") lists every use.
 *
 * `outboundUrlProblem` is the URL rule on its own, for registration to refuse such a URL before it
 * is stored; `outboundFetch` applies it again to every fetch (a URL stored before a rule existed is
 * refused too), and then bounds the exchange:
 *
 * - https only; http only with the local-development setting (config.allowInsecureClientUris);
 * - no user name or password in the URL (RFC 9110 §4.2.4), no fragment;
 * - the host must be public: no IP literal in a loopback, private, link-local, CGNAT, unspecified,
 *   documentation, multicast or otherwise special-purpose range (RFC 6890 and the IANA registries),
 *   in any spelling the WHATWG URL parser accepts (it turns 2130706433, 0177.0.0.1, 0x7f.1, 127.1,
 *   percent-encoded and full-width digits into 127.0.0.1 before we look), nor an IPv6 address
 *   spelling an IPv4 one (mapped, compatible, translated, NAT64); no `localhost`, `*.localhost`,
 *   special-use or internal suffix (RFC 6761, 6762, 8375, 9476), nor a single-label name. The
 *   local-development setting allows loopback (127.0.0.0/8, ::1, localhost) and nothing more;
 * - no redirects (`redirect: "manual"`; a 3xx is a failure, nothing is followed);
 * - one deadline for the whole exchange (answer and body), and a body bound: a declared
 *   Content-Length over it is refused unread, a streamed body is cut off as it passes it.
 *
 * What it cannot see: a public name that RESOLVES to a private address. A Worker cannot resolve a
 * name before fetching it, so the address check covers IP literals and well-known local names
 * only (docs/security.md).
 *
 * Failures are `OutboundError`s with a `failure` kind; each caller maps them to its own catalog
 * codes and log lines.
 */

/** Why a URL is not one the server fetches. */
export type OutboundUrlProblem = "not_url" | "scheme" | "credentials" | "fragment" | "forbidden_host";

/** Why a fetch failed. `forbidden_url`: refused by the URL rule, nothing was sent. */
export type OutboundFailure = "forbidden_url" | "timeout" | "unreachable" | "redirect" | "status" | "too_large";

/** One use of the policy: what the fetch is for and its bounds. */
export interface OutboundUse {
  /** What the fetch is for (names it in errors and logs): "jwks_uri", "sector_identifier_uri" … */
  readonly purpose: string;
  /** The media types expected (sent as Accept); null when the answer's body is not read. */
  readonly accept: string | null;
  /** Largest body read, in bytes; 0 when the body is not read at all. */
  readonly maxBytes: number;
  /** Deadline for the whole exchange (connection, answer, body), in milliseconds. */
  readonly timeoutMs: number;
  /** The statuses that count as success. */
  readonly okStatus: readonly number[];
}

export interface OutboundAnswer {
  readonly status: number;
  /** The answer's headers (a client ID metadata document's caching headers, RFC 9111 §5.2, §5.3). */
  readonly headers: Headers;
  /** The body, at most `maxBytes` (empty when the use does not read it). */
  readonly body: Uint8Array;
}

export class OutboundError extends Error {
  constructor(
    readonly failure: OutboundFailure,
    message: string,
    readonly extra: { problem?: OutboundUrlProblem; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = "OutboundError";
  }

  /** For log lines: the message and, for a network failure, what the runtime said (bounded). */
  get reason(): string {
    const cause = this.cause === undefined ? "" : this.cause instanceof Error ? `${this.cause.name}: ${this.cause.message}` : String(this.cause);
    return (cause === "" ? this.message : `${this.message} (${cause})`).slice(0, 300);
  }
}

/** The first rule `uri` breaks, or undefined for a URL the server may fetch. */
export function outboundUrlProblem(uri: string, allowInsecure: boolean): OutboundUrlProblem | undefined {
  const checked = checkedUrl(uri, allowInsecure);
  return typeof checked === "string" ? checked : undefined;
}

/** The URL as parsed (what is fetched is what was checked), or the first rule it breaks. */
function checkedUrl(uri: string, allowInsecure: boolean): URL | OutboundUrlProblem {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "not_url";
  }
  if (url.protocol !== "https:" && !(allowInsecure && url.protocol === "http:")) return "scheme";
  if (url.username !== "" || url.password !== "") return "credentials";
  if (uri.includes("#")) return "fragment";
  return isPublicHost(url.hostname, allowInsecure) ? url : "forbidden_host";
}

const PROBLEM_TEXT: Record<OutboundUrlProblem, string> = {
  not_url: "it is not an absolute URL",
  scheme: "it must use https",
  credentials: "it must not contain a user name or password",
  fragment: "it must not contain a fragment",
  forbidden_host: "its host is not a public one (a loopback, private, link-local or special-purpose address or name)",
};

/**
 * Fetches `uri` under the policy: the URL rule, no redirects, the use's deadline, statuses and
 * body bound. `post` sends a POST with that body instead of a GET; `bearer` adds
 * `Authorization: Bearer <bearer>`.
 */
export async function outboundFetch(
  uri: string,
  use: OutboundUse,
  opts: { allowInsecure: boolean; post?: { contentType: string; body: string }; bearer?: string },
): Promise<OutboundAnswer> {
  const url = checkedUrl(uri, opts.allowInsecure);
  if (typeof url === "string") {
    throw new OutboundError("forbidden_url", `${use.purpose} refused: ${PROBLEM_TEXT[url]}.`, { problem: url });
  }
  const signal = AbortSignal.timeout(use.timeoutMs);
  const timeout = () => new OutboundError("timeout", `${use.purpose} took longer than ${use.timeoutMs} ms.`);
  // The deadline holds even against a fetch that ignores its signal.
  const deadline = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(timeout()), { once: true }));
  deadline.catch(() => {});

  const headers: Record<string, string> = {};
  if (use.accept !== null) headers.accept = use.accept;
  if (opts.post) headers["content-type"] = opts.post.contentType;
  // A credential the receiver gave us for its callbacks (CIBA §10.2 client_notification_token).
  if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
  let response: Response;
  try {
    response = await Promise.race([
      fetch(url.href, { method: opts.post ? "POST" : "GET", headers, body: opts.post?.body, redirect: "manual", signal }),
      deadline,
    ]);
  } catch (cause) {
    if (cause instanceof OutboundError) throw cause;
    if (signal.aborted) throw timeout();
    throw new OutboundError("unreachable", `${use.purpose} could not be reached.`, { cause });
  }
  const { status } = response;
  const refuse = async (failure: OutboundFailure, message: string): Promise<never> => {
    await response.body?.cancel().catch(() => {});
    throw new OutboundError(failure, message, { status });
  };
  if (status >= 300 && status < 400) return refuse("redirect", `${use.purpose} answered with a redirect (${status}), which is not followed.`);
  if (!use.okStatus.includes(status)) return refuse("status", `${use.purpose} answered ${status}.`);
  if (use.maxBytes === 0) {
    await response.body?.cancel().catch(() => {});
    return { status, headers: response.headers, body: new Uint8Array() };
  }
  const tooLarge = `${use.purpose}: the answer is larger than ${use.maxBytes} bytes.`;
  const declared = response.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > use.maxBytes) return refuse("too_large", tooLarge);
  let body: Uint8Array | undefined;
  try {
    body = await readBounded(response.body, use.maxBytes, signal);
  } catch (cause) {
    if (signal.aborted) throw timeout();
    throw new OutboundError("unreachable", `${use.purpose}: the answer could not be read.`, { cause, status });
  }
  if (body === undefined) throw new OutboundError("too_large", tooLarge, { status });
  return { status, headers: response.headers, body };
}

// ── hosts ──────────────────────────────────────────────────────────────────────────────────────

/**
 * Name suffixes that never name a public host: loopback (RFC 6761 §6.3), multicast DNS (RFC 6762),
 * the residential home network (home.arpa, RFC 8375; all of .arpa is infrastructure), ICANN's
 * private-use .internal, the alternative namespaces .alt (RFC 9476) and .onion (RFC 7686),
 * .invalid (RFC 6761 §6.4), and names operating systems and routers use for the local network.
 * (.test and .example, RFC 6761 §6.2 and §6.5, are left alone: tests use them, and no public
 * resolver answers for them.)
 */
const SPECIAL_SUFFIXES: ReadonlySet<string> = new Set([
  "localhost", "local", "arpa", "internal", "alt", "onion", "invalid", "localdomain", "lan", "home", "corp", "intranet", "private",
]);

/**
 * IPv4 ranges never fetched (RFC 6890 and the IANA IPv4 Special-Purpose Address Registry): what
 * is not globally reachable, plus multicast and reserved space. Loopback comes separately.
 */
const IPV4_FORBIDDEN: readonly (readonly [string, number])[] = [
  ["0.0.0.0", 8], //          "this network", unspecified (RFC 791, RFC 1122 §3.2.1.3)
  ["10.0.0.0", 8], //         private (RFC 1918)
  ["100.64.0.0", 10], //      shared address space, CGNAT (RFC 6598)
  ["169.254.0.0", 16], //     link-local, cloud metadata services (RFC 3927)
  ["172.16.0.0", 12], //      private (RFC 1918)
  ["192.0.0.0", 24], //       IETF protocol assignments (RFC 6890)
  ["192.0.2.0", 24], //       documentation TEST-NET-1 (RFC 5737)
  ["192.88.99.0", 24], //     6to4 relay anycast (RFC 7526)
  ["192.168.0.0", 16], //     private (RFC 1918)
  ["198.18.0.0", 15], //      benchmarking (RFC 2544)
  ["198.51.100.0", 24], //    documentation TEST-NET-2 (RFC 5737)
  ["203.0.113.0", 24], //     documentation TEST-NET-3 (RFC 5737)
  ["224.0.0.0", 4], //        multicast (RFC 5771)
  ["240.0.0.0", 4], //        reserved, and the limited broadcast 255.255.255.255 (RFC 1112, RFC 919)
];

/**
 * IPv6: only global unicast, 2000::/3 (RFC 4291 §2.4), is fetched. Everything else — the
 * unspecified address ::, loopback ::1, IPv4-compatible ::/96, IPv4-mapped ::ffff:0:0/96,
 * IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48 (RFC 6052, RFC 8215),
 * discard 100::/64, SRv6 5f00::/16, unique-local fc00::/7, link-local fe80::/10, site-local
 * fec0::/10, multicast ff00::/8 — lies outside it. Inside it, these are refused too; 6to4
 * 2002::/16 (RFC 3056) is judged by the IPv4 address it embeds.
 */
const IPV6_FORBIDDEN_IN_GLOBAL: readonly (readonly [string, number])[] = [
  ["2001::", 23], //    IETF protocol assignments, Teredo 2001::/32 among them (RFC 2928, RFC 4380)
  ["2001:db8::", 32], // documentation (RFC 3849)
  ["3fff::", 20], //    documentation (RFC 9637)
];

function isPublicHost(hostname: string, allowLoopback: boolean): boolean {
  if (hostname.startsWith("[")) {
    const address = parseIpv6(hostname.slice(1, -1));
    return address !== undefined && isPublicIpv6(address, allowLoopback);
  }
  const v4 = parseIpv4(hostname);
  if (v4 !== undefined) return isPublicIpv4(v4, allowLoopback);
  const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  const labels = name.toLowerCase().split(".");
  if (labels.some((l) => l === "")) return false;
  const last = labels[labels.length - 1]!;
  if (last === "localhost") return allowLoopback;
  return labels.length >= 2 && !SPECIAL_SUFFIXES.has(last);
}

function isPublicIpv4(address: Uint8Array, allowLoopback: boolean): boolean {
  if (address[0] === 127) return allowLoopback; // loopback 127.0.0.0/8 (RFC 1122 §3.2.1.3)
  return !IPV4_RANGES.some(([prefix, bits]) => inPrefix(address, prefix, bits));
}

function isPublicIpv6(address: Uint8Array, allowLoopback: boolean): boolean {
  if (address.every((b, i) => b === (i === 15 ? 1 : 0))) return allowLoopback; // ::1
  if ((address[0]! & 0xe0) !== 0x20) return false; // outside 2000::/3
  if (address[0] === 0x20 && address[1] === 0x02) return isPublicIpv4(address.subarray(2, 6), false); // 6to4
  return !IPV6_RANGES.some(([prefix, bits]) => inPrefix(address, prefix, bits));
}

const IPV4_RANGES = IPV4_FORBIDDEN.map(([text, bits]) => [parseIpv4(text)!, bits] as const);
const IPV6_RANGES = IPV6_FORBIDDEN_IN_GLOBAL.map(([text, bits]) => [parseIpv6(text)!, bits] as const);

function inPrefix(address: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const mask = bits - i >= 8 ? 0xff : (0xff << (8 - (bits - i))) & 0xff;
    if ((address[i / 8]! & mask) !== (prefix[i / 8]! & mask)) return false;
  }
  return true;
}

/** A dotted quad as the WHATWG parser serializes every IPv4 host; undefined for anything else. */
function parseIpv4(text: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? Uint8Array.from(octets) : undefined;
}

/** An IPv6 address (hex groups, one `::`, an optional trailing dotted quad) as 16 bytes; undefined if malformed. */
function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.toLowerCase().split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (const [i, part] of parts.entries()) {
      const v4 = i === parts.length - 1 && part.includes(".") ? parseIpv4(part) : undefined;
      if (v4 !== undefined) {
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}
