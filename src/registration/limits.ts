import type { Config } from "../config";
import { OAuthError } from "../errors/oauth-error";
import type { Step } from "../http/context";
import { registrationBudget } from "../services";
import { ipPrefix } from "../users/throttle";

/**
 * Budgets of POST /register (config.registrationLimits): per client network and for the whole
 * server, per hour. They are counted by the sign-in throttle's mechanism (src/users/throttle.ts, the
 * `LoginThrottle` Durable Object), not by a second counter: each key's reservation is one SQL
 * upsert in one object that refuses a full window, so of N concurrent registrations from one
 * network at most the budget get through (test/rfc7591-3-registration-limits.test.ts). Cloudflare's
 * rate-limiting binding was the other choice. It is not used: its counts are kept per Cloudflare
 * location and are eventually consistent (a flood spread over locations, or a burst, gets past
 * it), its period is 10 or 60 seconds (no hourly budget), it says nothing of when to retry, and
 * Miniflare simulates it with one exact counter, so a test passing locally would show nothing
 * about what it does deployed. The Durable Object counts the same way in both.
 *
 * Every registration that passes the policy check (src/endpoints/registration.ts
 * requireInitialAccessToken) takes one unit of each budget before its body is read or any of its
 * URLs fetched, and keeps it whatever happens next: refused metadata costs the server work too.
 * The policy check comes first because, with initial access tokens, anyone could otherwise spend
 * the global budget of those who hold one; that check is one indexed D1 read. A request refused by
 * one budget gives the other its unit back. Without `CF-Connecting-IP` (local development, tests)
 * only the global budget applies. The operator API (/admin/clients) is never limited.
 */

/**
 * The keys a registration request reserves on, scope "register" the whole server's, "register-ip"
 * its network's (IPv6 per /64); a limit turned off (null) has no key.
 */
export function registrationKeys(request: Request, limits: Config["registrationLimits"]): string[] {
  const ip = request.headers.get("cf-connecting-ip");
  return [
    ...(limits.global ? ["register:all"] : []),
    ...(limits.ip && ip ? [`register-ip:${ipPrefix(ip.trim())}`] : []),
  ];
}

/** RFC 6585 §4: 429 with Retry-After, before any work is done for the registration. */
export const limitRegistrations: Step = async function limitRegistrations(c, next) {
  const keys = registrationKeys(c.req.raw, c.get("config").registrationLimits);
  if (keys.length > 0) {
    const attempt = await registrationBudget(c).reserve(keys);
    if (!attempt.allowed) {
      throw new OAuthError("registration_rate_limited", undefined, { headers: { "retry-after": String(Math.max(1, attempt.retryAfter)) } });
    }
  }
  await next();
};
