import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { durableLoginThrottle, ipKey } from "../src/users/throttle";
import { call, nowSeconds, uniqueId } from "./helpers";
import { countingPbkdf2 } from "./pbkdf2-count";
import { PASSWORD, hiddenFields, person } from "./oidc-helpers";

/**
 * ASVS 4.0.3 V2.2.1 / 5.0 V6.3.1 (anti-automation against brute force) on the real sign-in
 * route: an attempt takes a reservation from the account's and the IP's budget in the LoginThrottle
 * Durable Object before its password is checked, so concurrent attempts can never check more
 * passwords than the budget (config.loginThrottle: 5 per account, 50 per IP, 15 minutes).
 *
 * Each attempt is a real POST /login with a valid CSRF token. A checked password answers 400 (the
 * sign-in page again, "incorrect" or, for the attempt that used up the budget, "too many"); a
 * refused attempt answers 429 before any PBKDF2 runs. The PBKDF2 runs are also counted directly:
 * the Worker runs in the tests' isolate, so a spy on crypto.subtle.deriveBits sees them.
 */

const policy = configFrom(env).loginThrottle;
const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** A CSRF cookie and its form token, from the sign-in page (one browser, reused by every attempt). */
async function signInForm(): Promise<{ cookie: string; fields: Record<string, string> }> {
  const page = await call("/login?return=account");
  expect(page.status).toBe(200);
  const cookie = page.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
  return { cookie, fields: hiddenFields(await page.text()) };
}

function attempt(form: { cookie: string; fields: Record<string, string> }, email: string, password: string, ip?: string) {
  return call("/login", {
    method: "POST",
    headers: { ...FORM, cookie: form.cookie, ...(ip !== undefined && { "cf-connecting-ip": ip }) },
    body: new URLSearchParams({ ...form.fields, email, password }).toString(),
  });
}

const statuses = (responses: Response[]) => {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
};

describe("ASVS 2.2.1: concurrent sign-in attempts never check more passwords than the budget", () => {
  // PBKDF2 runs of 50 requests on 2 shared cores: more time than vitest's default 5 s.
  const SLOW = 30_000;

  it(`50 concurrent wrong passwords for one account check at most ${policy.account.limit}; then even the right one is refused`, async () => {
    const user = await person();
    const form = await signInForm();
    // Each from its own IP, so only the account's budget is in play.
    const { result, pbkdf2 } = await countingPbkdf2(() =>
      Promise.all(Array.from({ length: 50 }, (_, i) => attempt(form, user.email, `wrong password ${i}`, `192.0.2.${i + 1}`))),
    );
    const counts = statuses(result);
    console.log(`account: ${JSON.stringify(counts)}, PBKDF2 runs: ${pbkdf2}`);
    expect(pbkdf2).toBeLessThanOrEqual(policy.account.limit);
    expect(counts[400] ?? 0).toBe(pbkdf2);
    expect((counts[400] ?? 0) + (counts[429] ?? 0)).toBe(50);
    const refused = result.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);

    const right = await attempt(form, user.email, PASSWORD, "192.0.2.200");
    expect(right.status).toBe(429);
  }, SLOW);

  it(`50 concurrent attempts from one IP with ${policy.ip.limit - 5} failures behind it check at most 5 (IP budget ${policy.ip.limit})`, async () => {
    const form = await signInForm();
    const ip = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::1`;
    const stranger = () => `${uniqueId("nobody")}@example.com`;
    // 45 failures behind the IP: reservations that were kept (what a failed sign-in leaves).
    const throttle = durableLoginThrottle(env.LOGIN_THROTTLE, policy, nowSeconds());
    const behind = await Promise.all(Array.from({ length: policy.ip.limit - 5 }, () => throttle.reserve([ipKey(ip)])));
    expect(behind.every((a) => a.allowed)).toBe(true);
    const { result, pbkdf2 } = await countingPbkdf2(() =>
      Promise.all(Array.from({ length: 50 }, () => attempt(form, stranger(), "wrong password", ip))),
    );
    const counts = statuses(result);
    console.log(`ip: ${JSON.stringify(counts)}, PBKDF2 runs: ${pbkdf2}`);
    expect(pbkdf2).toBeLessThanOrEqual(5);
    expect(counts[400] ?? 0).toBe(pbkdf2);
    expect((counts[400] ?? 0) + (counts[429] ?? 0)).toBe(50);
  }, SLOW);
});
