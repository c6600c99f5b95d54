import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { accountKey, durableLoginThrottle, ipKey, ipPrefix, loginThrottleKeys, tooManyAttempts } from "../src/users/throttle";
import { nowSeconds, uniqueId } from "./helpers";

const policy = configFrom(env).loginThrottle;
const throttle = (now = nowSeconds()) => durableLoginThrottle(env.LOGIN_THROTTLE, policy, now);
const account = () => accountKey(`${uniqueId("victim")}@example.com`);
const ip = () => ipKey(`198.51.100.${Math.floor(Math.random() * 250)}-${uniqueId("ip")}`);

/** One failed attempt: a reservation that is kept. Resolves with whether it took the keys' last unit. */
async function fail(keys: string[], now = nowSeconds()): Promise<{ lastAllowed: boolean }> {
  const attempt = await throttle(now).reserve(keys);
  expect(attempt.allowed).toBe(true);
  return { lastAllowed: attempt.allowed && attempt.lastAllowed };
}

describe("login throttling (RFC 9700 4.x, OWASP: limit online guessing; ASVS 2.2.1)", () => {
  it("policy: 5 attempts per account and 50 per client IP within 15 minutes", () => {
    expect(policy).toEqual({ account: { limit: 5, windowSeconds: 900 }, ip: { limit: 50, windowSeconds: 900 } });
  });

  it("an account is refused after 5 failures, with retryAfter until the window (from the first attempt) closes", async () => {
    const key = account();
    const t0 = nowSeconds();
    for (let i = 0; i < 4; i++) expect(await fail([key], t0 + i)).toEqual({ lastAllowed: true });
    expect(await fail([key], t0 + 10)).toEqual({ lastAllowed: false });
    expect(await throttle(t0 + 100).reserve([key])).toEqual({ allowed: false, retryAfter: 800 });
    expect(await throttle(t0 + 899).reserve([key])).toEqual({ allowed: false, retryAfter: 1 });
  });

  it("once the window has passed, the account may try again with a fresh budget", async () => {
    const key = account();
    const t0 = nowSeconds();
    for (let i = 0; i < 5; i++) await fail([key], t0);
    expect((await throttle(t0 + 899).reserve([key])).allowed).toBe(false);
    expect(await fail([key], t0 + 900)).toEqual({ lastAllowed: true });
    for (let i = 0; i < 3; i++) await fail([key], t0 + 901);
    expect(await fail([key], t0 + 902)).toEqual({ lastAllowed: false });
    expect(await throttle(t0 + 903).reserve([key])).toEqual({ allowed: false, retryAfter: 900 - 3 });
  });

  it("an IP is refused after 50 attempts spread over many accounts; the accounts alone are not", async () => {
    const source = ip();
    const t0 = nowSeconds();
    await Promise.all(Array.from({ length: 49 }, () => fail([account(), source], t0)));
    const fresh = account();
    expect(await fail([fresh, source], t0)).toEqual({ lastAllowed: false });
    expect(await throttle(t0 + 60).reserve([account(), source])).toEqual({ allowed: false, retryAfter: 840 });
    expect((await throttle(t0 + 60).reserve([fresh])).allowed).toBe(true);
  });

  it("several keys: refused if any key is, retryAfter the longest wait; the keys that granted get their unit back", async () => {
    const a = account();
    const b = account();
    const open = account();
    const t0 = nowSeconds();
    for (let i = 0; i < 5; i++) await fail([a], t0);
    for (let i = 0; i < 5; i++) await fail([b], t0 + 300);
    expect(await throttle(t0 + 400).reserve([a, b])).toEqual({ allowed: false, retryAfter: 800 });
    // 10 attempts on an open account alongside a full one are all refused and cost the open one nothing.
    for (let i = 0; i < 10; i++) expect((await throttle(t0 + 400).reserve([open, a])).allowed).toBe(false);
    for (let i = 0; i < 4; i++) expect(await fail([open], t0 + 400)).toEqual({ lastAllowed: true });
    expect(await fail([open], t0 + 400)).toEqual({ lastAllowed: false });
  });

  it("concurrency: of 50 parallel attempts on one account and IP exactly 5 are granted, and the refused ones leave the IP's budget as it was", async () => {
    const key = account();
    const source = ip();
    const t0 = nowSeconds();
    const attempts = await Promise.all(Array.from({ length: 50 }, () => throttle(t0).reserve([key, source])));
    expect(attempts.filter((a) => a.allowed)).toHaveLength(5);
    expect(attempts.filter((a) => a.allowed && !a.lastAllowed)).toHaveLength(1);
    // The IP counted 5 (the granted ones) and has 45 left: 45 more attempts for other accounts pass, the next does not.
    const others = await Promise.all(Array.from({ length: 46 }, () => throttle(t0).reserve([account(), source])));
    expect(others.filter((a) => a.allowed)).toHaveLength(45);
  });

  it("concurrency: the object grants the counts 1..limit to N parallel reservations and refuses the rest", async () => {
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(uniqueId("throttle-count")));
    const now = nowSeconds();
    const results = await Promise.all(Array.from({ length: 30 }, () => stub.reserve("k", 5, 900, now)));
    const granted = results.flatMap((r) => (r.granted ? [r.count] : []));
    expect(granted.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    for (const r of results) if (!r.granted) expect(r.retryAfter).toBe(900);
  });

  it("a success resets the account's attempts and gives the IP back only its own unit", async () => {
    const key = account();
    const source = ip();
    const t0 = nowSeconds();
    for (let i = 0; i < 4; i++) await fail([key, source], t0);
    await Promise.all(Array.from({ length: 45 }, () => fail([account(), source], t0)));
    const good = await throttle(t0).reserve([key, source]);
    expect(good.allowed).toBe(true);
    if (good.allowed) await good.succeeded();
    // The account has its whole budget again; the IP still holds its 49 failures (one unit left).
    for (let i = 0; i < 4; i++) expect(await fail([key], t0)).toEqual({ lastAllowed: true });
    expect(await fail([account(), source], t0)).toEqual({ lastAllowed: false });
    expect((await throttle(t0).reserve([account(), source])).allowed).toBe(false);
  });

  it("a unit given back after its window closed does not touch the window that followed", async () => {
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(uniqueId("throttle-release")));
    const t0 = nowSeconds();
    const old = await stub.reserve("k", 5, 60, t0);
    expect(old).toEqual({ granted: true, count: 1, expiresAt: t0 + 60 });
    expect(await stub.reserve("k", 5, 60, t0 + 61)).toEqual({ granted: true, count: 1, expiresAt: t0 + 121 });
    await stub.release("k", t0 + 60);
    expect(await stub.reserve("k", 5, 60, t0 + 62)).toEqual({ granted: true, count: 2, expiresAt: t0 + 121 });
  });

  it("account keys are case-insensitive, so changing the case of the address does not buy more attempts", async () => {
    const local = uniqueId("Case");
    for (let i = 0; i < 5; i++) await fail([accountKey(`${local}@Example.com`)]);
    expect((await throttle().reserve([accountKey(` ${local.toUpperCase()}@EXAMPLE.COM`)])).allowed).toBe(false);
  });

  it("keys: the account, and the client IP from CF-Connecting-IP (IPv6 by /64); no IP key without the header", () => {
    const withIp = new Request("https://latchkey.test/login", { headers: { "cf-connecting-ip": "2001:db8:1:2:3:4:5:6" } });
    expect(loginThrottleKeys("Ada@Example.com", withIp)).toEqual(["account:ada@example.com", "ip:2001:db8:1:2::/64"]);
    expect(loginThrottleKeys("ada@example.com", new Request("https://latchkey.test/login"))).toEqual(["account:ada@example.com"]);
    expect(ipPrefix("203.0.113.9")).toBe("203.0.113.9");
    expect(ipPrefix("2001:DB8::1")).toBe("2001:db8:0:0::/64");
    expect(ipPrefix("2001:db8:0:0:ffff::1")).toBe(ipPrefix("2001:db8::2"));
    expect(ipPrefix("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(ipPrefix("::1")).toBe("0:0:0:0::/64");
  });

  it("a refused attempt is too_many_attempts (429) with Retry-After", () => {
    const err = tooManyAttempts(120);
    expect(err.code).toBe("too_many_attempts");
    expect(err.entry.status).toBe(429);
    expect(err.headers).toEqual({ "retry-after": "120" });
  });

  it("the alarm purges closed windows and keeps open ones", async () => {
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(uniqueId("throttle-purge")));
    const now = nowSeconds();
    await stub.reserve("closed", 5, 60, now - 120);
    await stub.reserve("open", 5, 900, now);
    // The closed window's alarm was due at once; run the handler ourselves so the check is deterministic.
    await runInDurableObject(stub, (instance) => instance.alarm());
    const remaining = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ key: string }>("SELECT key FROM failures").toArray().map((r) => r.key),
    );
    expect(remaining).toEqual(["open"]);
    // The next alarm is due when the open window closes.
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBe((now + 900 + 1) * 1000);
  });

  it("no email address or IP is stored in the objects, only hashes", async () => {
    const key = accountKey("stored-plainly@example.com");
    await fail([key]);
    // Find the object the key lives in: any row must be a 64-hex-digit digest.
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key))), (b) => b.toString(16).padStart(2, "0")).join("");
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(`login/account/${digest.slice(0, 2)}`));
    const keys = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ key: string }>("SELECT key FROM failures").toArray().map((r) => r.key));
    expect(keys).toContain(digest);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{64}$/);
  });
});
