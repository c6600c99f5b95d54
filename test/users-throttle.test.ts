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

describe("login throttling (issue 3; RFC 9700 4.x, OWASP: limit online guessing)", () => {
  it("policy: 5 failures per account and 50 per client IP within 15 minutes", () => {
    expect(policy).toEqual({ account: { limit: 5, windowSeconds: 900 }, ip: { limit: 50, windowSeconds: 900 } });
  });

  it("an account is refused after 5 failures, with retryAfter until the window (from the first failure) closes", async () => {
    const key = account();
    const t0 = nowSeconds();
    for (let i = 0; i < 4; i++) expect((await throttle(t0 + i).recordFailure([key])).allowed).toBe(true);
    expect(await throttle(t0 + 10).check([key])).toEqual({ allowed: true, retryAfter: 0 });
    expect(await throttle(t0 + 10).recordFailure([key])).toEqual({ allowed: false, retryAfter: 890 });
    expect(await throttle(t0 + 100).check([key])).toEqual({ allowed: false, retryAfter: 800 });
    expect(await throttle(t0 + 899).check([key])).toEqual({ allowed: false, retryAfter: 1 });
  });

  it("once the window has passed, the account may try again with a fresh budget", async () => {
    const key = account();
    const t0 = nowSeconds();
    for (let i = 0; i < 5; i++) await throttle(t0).recordFailure([key]);
    expect((await throttle(t0 + 899).check([key])).allowed).toBe(false);
    expect(await throttle(t0 + 900).check([key])).toEqual({ allowed: true, retryAfter: 0 });
    expect(await throttle(t0 + 900).recordFailure([key])).toEqual({ allowed: true, retryAfter: 0 });
    for (let i = 0; i < 3; i++) await throttle(t0 + 901).recordFailure([key]);
    expect(await throttle(t0 + 902).recordFailure([key])).toEqual({ allowed: false, retryAfter: 900 - 2 });
  });

  it("an IP is refused after 50 failures spread over many accounts", async () => {
    const source = ip();
    const t0 = nowSeconds();
    for (let i = 0; i < 49; i++) expect((await throttle(t0).recordFailure([account(), source])).allowed).toBe(true);
    const fresh = account();
    expect((await throttle(t0).check([fresh, source])).allowed).toBe(true);
    expect((await throttle(t0).recordFailure([fresh, source])).allowed).toBe(false);
    // Any account from that IP is now refused, and the account alone is not.
    expect(await throttle(t0 + 60).check([account(), source])).toEqual({ allowed: false, retryAfter: 840 });
    expect((await throttle(t0 + 60).check([fresh])).allowed).toBe(true);
  });

  it("the verdict combines keys: refused if any key is, retryAfter the longest wait", async () => {
    const a = account();
    const b = account();
    const t0 = nowSeconds();
    for (let i = 0; i < 5; i++) await throttle(t0).recordFailure([a]);
    for (let i = 0; i < 5; i++) await throttle(t0 + 300).recordFailure([b]);
    expect(await throttle(t0 + 400).check([a, b])).toEqual({ allowed: false, retryAfter: 800 });
  });

  it("concurrency: N parallel failures count exactly N", async () => {
    const key = account();
    const source = ip();
    const t0 = nowSeconds();
    // 4 and 49 concurrent failures leave the account and the IP one short of their limits …
    await Promise.all(Array.from({ length: 4 }, () => throttle(t0).recordFailure([key, source])));
    await Promise.all(Array.from({ length: 45 }, () => throttle(t0).recordFailure([source])));
    expect(await throttle(t0).check([key, source])).toEqual({ allowed: true, retryAfter: 0 });
    // … and one more reaches both.
    expect(await throttle(t0).recordFailure([key, source])).toEqual({ allowed: false, retryAfter: 900 });
    expect((await throttle(t0).check([key])).allowed).toBe(false);
    expect((await throttle(t0).check([source])).allowed).toBe(false);
  });

  it("concurrency: the object hands out the counts 1..N to N parallel failures", async () => {
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(uniqueId("throttle-count")));
    const counts = await Promise.all(Array.from({ length: 30 }, () => stub.fail("k", 900, nowSeconds())));
    expect(counts.map((c) => c.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("reset forgets an account's failures after a successful sign-in", async () => {
    const key = account();
    for (let i = 0; i < 5; i++) await throttle().recordFailure([key]);
    expect((await throttle().check([key])).allowed).toBe(false);
    await throttle().reset(key);
    expect(await throttle().check([key])).toEqual({ allowed: true, retryAfter: 0 });
  });

  it("account keys are case-insensitive, so changing the case of the address does not buy more attempts", async () => {
    const local = uniqueId("Case");
    for (let i = 0; i < 5; i++) await throttle().recordFailure([accountKey(`${local}@Example.com`)]);
    expect((await throttle().check([accountKey(` ${local.toUpperCase()}@EXAMPLE.COM`)])).allowed).toBe(false);
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
    await stub.fail("closed", 60, now - 120);
    await stub.fail("open", 900, now);
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
    await throttle().recordFailure([key]);
    // Find the object the key lives in: any row must be a 64-hex-digit digest.
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key))), (b) => b.toString(16).padStart(2, "0")).join("");
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(`login/account/${digest.slice(0, 2)}`));
    const keys = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ key: string }>("SELECT key FROM failures").toArray().map((r) => r.key));
    expect(keys).toContain(digest);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{64}$/);
  });
});
