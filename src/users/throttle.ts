import type { LoginThrottle as LoginThrottleObject } from "../../workers/login-throttle";
import type { ThrottlePolicy } from "../config";
import { hex } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";
import { OAuthError } from "../errors/oauth-error";

/**
 * Login throttling: every sign-in attempt takes one unit of budget per account and per client IP
 * (config.loginThrottle) BEFORE its password is checked, and sign-in is refused once a key's budget
 * is used up, until its window (opened by the key's first counted attempt) has passed.
 *
 * Usage on the sign-in path:
 *   const attempt = await throttle.reserve(loginThrottleKeys(email, request));
 *   if (!attempt.allowed) throw tooManyAttempts(attempt.retryAfter);   // no password checked
 *   if (!(await verifyPassword(...))) → a failure: the reservations stay counted (nothing to call);
 *                                       attempt.lastAllowed says whether this one used the budget up
 *   else await attempt.succeeded();    // the account key is reset; the IP key only gets its one
 *                                      // reservation back (a good account never wipes a source's record)
 *
 * The reservation, not a check followed by a count, is what makes the budget hold under
 * concurrency: a check-then-count lets every attempt that checks before the first one counts through
 * (50 concurrent guesses checked 50 passwords against a budget of 5). Each key's reservation is one
 * SQL statement in the `LoginThrottle` Durable Object, so of N concurrent attempts at most the
 * budget get a password checked (test/asvs-2.2.1-login-throttle.test.ts).
 *
 * Rules for several keys: an attempt reserves on every key at once; if any key refuses, the keys
 * that granted get their reservation back, so a refused attempt costs no key anything (and, while
 * the give-back is under way, a concurrent attempt may see one unit fewer: it is refused, never let
 * through). An attempt whose outcome never comes (the request fails after reserving) keeps its
 * reservations, i.e. counts as a failure.
 *
 * The same mechanism bounds the mail sign-up and resend send to one address (`mailKey`, scope
 * `mail`, config.signUpMailThrottle; src/users/sign-up.ts): there every reservation is kept.
 *
 * Each key maps (by a hash, so no email address or IP is stored in the object) to one of 256
 * objects per scope, whose single-threaded SQLite counts exactly. KV could not: it has no atomic
 * conditional increment.
 */

/** A granted attempt: its reservations are taken; the password may be checked once. */
export interface Attempt {
  allowed: true;
  /** False when this attempt took a key's last unit: if it fails, the next attempt is refused. */
  lastAllowed: boolean;
  /** After a correct password: resets the account key, gives the other keys their reservation back. */
  succeeded(): Promise<void>;
}

/** A refused attempt: some key's budget is used up; nothing was counted. */
export interface Refusal {
  allowed: false;
  /** Seconds until every refusing key's window closes. */
  retryAfter: number;
}

export interface Throttle {
  /** Reserves one attempt on every key, or refuses (nothing counted) when any key's budget is used up. */
  reserve(keys: readonly string[]): Promise<Attempt | Refusal>;
}

/** The budgets by key scope (the part of a key before ":"): config.loginThrottle, or { mail: config.signUpMailThrottle }. */
export type ThrottlePolicies = Readonly<Record<string, ThrottlePolicy>>;

/** Objects per scope: spreads the load (a password-spraying source hits many accounts) over 256 objects. */
const SHARD_HEX_DIGITS = 2;

const folded = (email: string): string => email.trim().normalize("NFC").toLowerCase();

/** The account key: the email address, case-folded, so "Alice@x" and "alice@x" share a budget. */
export const accountKey = (email: string): string => `account:${folded(email)}`;

/** The key of the mail that sign-up and resend may send to an address (config.signUpMailThrottle). */
export const mailKey = (email: string): string => `mail:${folded(email)}`;

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
  policy: ThrottlePolicies,
  now: number,
): Throttle {
  async function locate(key: string): Promise<{ stub: DurableObjectStub<LoginThrottleObject>; digest: string; scope: string; policy: ThrottlePolicy }> {
    const scope = key.slice(0, key.indexOf(":"));
    const p = policy[scope];
    if (!p) throw new Error(`login throttle key without a known scope: ${scope}`);
    const digest = hex(await sha256(key));
    const stub = namespace.get(namespace.idFromName(`login/${scope}/${digest.slice(0, SHARD_HEX_DIGITS)}`));
    return { stub, digest, scope, policy: p };
  }

  return {
    async reserve(keys) {
      const taken = await Promise.all(
        keys.map(async (key) => {
          const { stub, digest, scope, policy: p } = await locate(key);
          const result = await stub.reserve(digest, p.limit, p.windowSeconds, now);
          const giveBack = result.granted ? () => stub.release(digest, result.expiresAt) : undefined;
          return { stub, digest, scope, limit: p.limit, result, giveBack };
        }),
      );
      const refusals = taken.flatMap((t) => (t.result.granted ? [] : [t.result.retryAfter]));
      if (refusals.length > 0) {
        await Promise.all(taken.map((t) => t.giveBack?.()));
        return { allowed: false, retryAfter: Math.max(...refusals) };
      }
      return {
        allowed: true,
        lastAllowed: taken.every((t) => t.result.granted && t.result.count < t.limit),
        async succeeded() {
          await Promise.all(taken.map((t) => (t.scope === "account" ? t.stub.reset(t.digest) : t.giveBack?.())));
        },
      };
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
