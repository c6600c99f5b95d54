import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { app } from "../src/app";
import { configFrom } from "../src/config";
import { hex } from "../src/crypto/encoding";
import { sha256 } from "../src/crypto/hash";
import type { Env } from "../src/env";
import { ISSUER, expectError } from "./helpers";
import { GATED, OPEN, expectRegistrationError, initialAccessToken, register, webClient } from "./rfc7591-helpers";

/**
 * RFC 7591 §3 leaves who may register to the server; an open registration endpoint is a flood
 * target. POST /register takes a unit of a per-network and a global hourly budget
 * (config.registrationLimits, src/registration/limits.ts) in the LoginThrottle Durable Object
 * before the registration is looked at; beyond them it answers 429 temporarily_unavailable with
 * Retry-After (RFC 6585 §4). Each budget is set small per test through the environment.
 */

const limits = (perIp: number, global: number, base: Partial<Env> = OPEN): Partial<Env> => ({
  ...base,
  REGISTRATION_LIMIT_PER_IP: String(perIp),
  REGISTRATION_LIMIT_GLOBAL: String(global),
});

const from = (ip: string) => ({ "cf-connecting-ip": ip });
let subnet = 0;
/** An IPv4 network of its own for each test (198.18.0.0/15 is for benchmarking, RFC 2544). */
const freshIp = () => `198.18.${++subnet}.7`;

const statuses = (responses: Response[]) => responses.map((r) => r.status).sort();

async function expectRateLimited(res: Response): Promise<void> {
  await expectError(res, 429, "temporarily_unavailable", "registration_rate_limited");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(3600);
}

/** The global key's window, emptied: every test in this file starts with the whole server's budget unused. */
beforeEach(async () => {
  const digest = hex(await sha256("register:all"));
  await env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(`login/register/${digest.slice(0, 2)}`)).reset(digest);
});

describe("RFC 7591 §3 registration limits: per network", () => {
  it("50 concurrent registrations from one IP over a budget of 5: exactly 5 are registered, 45 get 429 with Retry-After", async () => {
    const ip = freshIp();
    const responses = await Promise.all(Array.from({ length: 50 }, () => register(webClient(), { headers: from(ip), env: limits(5, 0) })));
    expect(statuses(responses)).toEqual([...Array<number>(5).fill(201), ...Array<number>(45).fill(429)]);
    for (const res of responses.filter((r) => r.status === 429)) await expectRateLimited(res);
    // Another network is not affected.
    expect((await register(webClient(), { headers: from(freshIp()), env: limits(5, 0) })).status).toBe(201);
  });

  it("IPv6 addresses share their /64's budget; another /64 has its own", async () => {
    const env = limits(2, 0);
    const net = `2001:db8:${(++subnet).toString(16)}:1`;
    expect((await register(webClient(), { headers: from(`${net}::1`), env })).status).toBe(201);
    expect((await register(webClient(), { headers: from(`${net}:aaaa::2`), env })).status).toBe(201);
    await expectRateLimited(await register(webClient(), { headers: from(`${net}:ffff:ffff:ffff:ffff`), env }));
    expect((await register(webClient(), { headers: from(`2001:db8:${subnet.toString(16)}:2::1`), env })).status).toBe(201);
  });

  it("the unit is taken before the metadata is looked at: refused metadata spends it too", async () => {
    const ip = freshIp();
    for (let i = 0; i < 2; i++) {
      await expectRegistrationError(await register(webClient({ redirect_uris: "https://rp.example/cb" }), { headers: from(ip), env: limits(2, 0) }),
        "invalid_redirect_uri", "redirect_uris_malformed");
    }
    await expectRateLimited(await register(webClient(), { headers: from(ip), env: limits(2, 0) }));
  });
});

describe("RFC 7591 §3 registration limits: the whole server", () => {
  it("50 concurrent registrations from 50 networks over a global budget of 7: exactly 7 are registered", async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => register(webClient(), { headers: from(freshIp()), env: limits(20, 7) })),
    );
    expect(statuses(responses)).toEqual([...Array<number>(7).fill(201), ...Array<number>(43).fill(429)]);
    for (const res of responses.filter((r) => r.status === 429)) await expectRateLimited(res);
  });

  it("without CF-Connecting-IP (local development) only the global budget counts", async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => register(webClient(), { env: limits(1, 3) })));
    expect(statuses(responses)).toEqual([201, 201, 201, ...Array<number>(7).fill(429)]);
  });

  it("a request refused by the global budget costs its network nothing", async () => {
    for (let i = 0; i < 3; i++) expect((await register(webClient(), { headers: from(freshIp()), env: limits(2, 3) })).status).toBe(201);
    const ip = freshIp();
    for (let i = 0; i < 10; i++) await expectRateLimited(await register(webClient(), { headers: from(ip), env: limits(2, 3) }));
    // With the global limit turned off, that network still has its whole budget of 2.
    expect((await register(webClient(), { headers: from(ip), env: limits(2, 0) })).status).toBe(201);
    expect((await register(webClient(), { headers: from(ip), env: limits(2, 0) })).status).toBe(201);
    await expectRateLimited(await register(webClient(), { headers: from(ip), env: limits(2, 0) }));
  });

  it("with initial access tokens, requests without one are refused first and spend nothing", async () => {
    const env = limits(20, 3, GATED);
    for (let i = 0; i < 10; i++) expect((await register(webClient(), { headers: from(freshIp()), env })).status).toBe(401);
    const token = await initialAccessToken({ maxUses: null });
    const responses = await Promise.all(Array.from({ length: 5 }, () => register(webClient(), { token, headers: from(freshIp()), env })));
    expect(statuses(responses)).toEqual([201, 201, 201, 429, 429]);
  });
});

describe("RFC 7591 §3 registration limits: what they do not limit, and the settings", () => {
  it("the operator API registers clients beyond both budgets", async () => {
    const limited = { ...env, ...limits(1, 1) } as Env;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`${ISSUER}/admin/clients`, {
          method: "POST",
          headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json", ...from("198.51.100.1") },
          body: JSON.stringify(webClient()),
        }),
        limited,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 201, 201]);
  });

  it("defaults 20 per network and 1000 in all per hour; 0 turns a limit off; anything but a whole number is refused", () => {
    const base = { ISSUER, ENCRYPTION_KEY: env.ENCRYPTION_KEY } as Env;
    expect(configFrom({ ...base }).registrationLimits).toEqual({ ip: { limit: 20, windowSeconds: 3600 }, global: { limit: 1000, windowSeconds: 3600 } });
    expect(configFrom({ ...base, REGISTRATION_LIMIT_PER_IP: "0", REGISTRATION_LIMIT_GLOBAL: "50" }).registrationLimits)
      .toEqual({ ip: null, global: { limit: 50, windowSeconds: 3600 } });
    for (const value of ["-1", "1.5", "ten", " 5"]) {
      expect(() => configFrom({ ...base, REGISTRATION_LIMIT_PER_IP: value })).toThrow(/REGISTRATION_LIMIT_PER_IP/);
    }
  });
});
