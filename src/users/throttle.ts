import type { LoginThrottle as LoginThrottleObject } from "../../workers/login-throttle";
import type { Config, ThrottlePolicy } from "../config";
import { hex } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";
import { OAuthError } from "../errors/oauth-error";

/**
 * Login throttling: failed sign-ins are counted per account and per client IP, and sign-in is
 * refused once a key has used its budget (config.loginThrottle) until its window has passed.
 *
 * Usage on the sign-in path:
 *   const keys = loginThrottleKeys(email, request);
 *   const verdict = await throttle.check(keys);        // before verifying the password
 *   if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfter);
 *   if (!(await verifyPassword(...))) await throttle.recordFailure(keys);
 *   else await throttle.reset(accountKey(email));      // never the IP key: one good account must
 *                                                       // not wipe a source's record of failures
 *
 * Counting is done by the `LoginThrottle` Durable Object: each key maps (by a hash, so no email
 * address or IP is stored in the object) to one of SHARDS objects per scope, whose single-threaded
 * SQLite counts concurrent failures exactly. KV could not: it has no atomic increment.
 */
export interface ThrottleVerdict {
  /** False when at least one key has used its budget. */
  allowed: boolean;
  /** Seconds until every key is allowed again (0 when allowed). */
  retryAfter: number;
}

export interface Throttle {
  /** Whether a sign-in attempt under these keys may proceed. */
  check(keys: readonly string[]): Promise<ThrottleVerdict>;
  /** Counts one failure against each key; returns the verdict for the next attempt. */
  recordFailure(keys: readonly string[]): Promise<ThrottleVerdict>;
  /** Forgets one key's failures (the account key, after a successful sign-in). */
  reset(key: string): Promise<void>;
}

type Scope = keyof Config["loginThrottle"];

/** Objects per scope: spreads the load (a password-spraying source hits many accounts) over 256 objects. */
const SHARD_HEX_DIGITS = 2;

/** The account key: the email address, case-folded, so "Alice@x" and "alice@x" share a budget. */
export const accountKey = (email: string): string => `account:${email.trim().normalize("NFC").toLowerCase()}`;

/** The client-IP key. IPv6 addresses are keyed by their /64, which one subscriber typically holds whole. */
export const ipKey = (ip: string): string => `ip:${ipPrefix(ip.trim())}`;

/**
 * Both keys for a sign-in attempt. The IP comes from `CF-Connecting-IP`, which Cloudflare's edge
 * always sets (and overwrites when a client sends it); when it is absent (local development,
 * tests) there is no IP key, rather than one key shared by every caller.
 */
export function loginThrottleKeys(email: string, request: Request): string[] {
  const ip = request.headers.get("cf-connecting-ip");
  return ip ? [accountKey(email), ipKey(ip)] : [accountKey(email)];
}

/** The error for a refused attempt, with Retry-After (RFC 9110 §10.2.3). */
export function tooManyAttempts(retryAfter: number): OAuthError {
  return new OAuthError("too_many_attempts", undefined, { headers: { "retry-after": String(Math.max(1, retryAfter)) } });
}

export function durableLoginThrottle(
  namespace: DurableObjectNamespace<LoginThrottleObject>,
  policy: Config["loginThrottle"],
  now: number,
): Throttle {
  async function locate(key: string): Promise<{ stub: DurableObjectStub<LoginThrottleObject>; digest: string; policy: ThrottlePolicy }> {
    const scope = key.slice(0, key.indexOf(":")) as Scope;
    const p = policy[scope];
    if (!p) throw new Error(`login throttle key without a known scope: ${scope}`);
    const digest = hex(await sha256(key));
    const stub = namespace.get(namespace.idFromName(`login/${scope}/${digest.slice(0, SHARD_HEX_DIGITS)}`));
    return { stub, digest, policy: p };
  }

  const verdict = (waits: number[]): ThrottleVerdict => {
    const retryAfter = Math.max(0, ...waits);
    return { allowed: retryAfter === 0, retryAfter };
  };

  return {
    async check(keys) {
      const waits = await Promise.all(
        keys.map(async (key) => {
          const { stub, digest, policy: p } = await locate(key);
          return stub.retryAfter(digest, p.limit, now);
        }),
      );
      return verdict(waits);
    },
    async recordFailure(keys) {
      const waits = await Promise.all(
        keys.map(async (key) => {
          const { stub, digest, policy: p } = await locate(key);
          const { count, expiresAt } = await stub.fail(digest, p.windowSeconds, now);
          return count >= p.limit ? expiresAt - now : 0;
        }),
      );
      return verdict(waits);
    },
    async reset(key) {
      const { stub, digest } = await locate(key);
      await stub.reset(digest);
    },
  };
}

/** An IPv4 address as given; an IPv6 address as its /64 prefix ("2001:db8:0:1::/64"); IPv4-mapped IPv6 as IPv4. */
export function ipPrefix(ip: string): string {
  const text = ip.toLowerCase();
  if (!text.includes(":")) return text;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (mapped) return mapped[1]!;
  const halves = text.split("::");
  if (halves.length > 2) return text;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return text;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  if (!groups.slice(0, 4).every((g) => /^[0-9a-f]{1,4}$/.test(g))) return text;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}
