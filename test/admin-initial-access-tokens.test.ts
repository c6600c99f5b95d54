import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INITIAL_ACCESS_TOKEN_TTL } from "../src/registration/initial-access-token";
import { call, expectError, nowSeconds } from "./helpers";
import { GATED, register, webClient } from "./rfc7591-helpers";

/**
 * POST /admin/initial-access-tokens: the operator hands out the Bearer tokens that open the
 * registration endpoint when REGISTRATION_POLICY is initial_access_token (RFC 7591 §3). The token is
 * answered once; limits are an expiry (ttl) and a number of registrations (max_uses).
 */
const operator = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const create = (body?: unknown) =>
  call("/admin/initial-access-tokens", { method: "POST", headers: operator, ...(body !== undefined && { body: JSON.stringify(body) }) });

describe("POST /admin/initial-access-tokens", () => {
  it("with no body: a token for one registration within 7 days, shown once; it opens /register exactly once", async () => {
    const res = await create();
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { token: string; expires_at: number; max_uses: number; created_at: number };
    expect(body).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expires_at: expect.any(Number), max_uses: 1, created_at: expect.any(Number) });
    expect(body.expires_at - body.created_at).toBe(INITIAL_ACCESS_TOKEN_TTL);
    expect(Math.abs(body.created_at - nowSeconds())).toBeLessThan(5);
    expect((await register(webClient(), { env: GATED, token: body.token })).status).toBe(201);
    expect((await register(webClient(), { env: GATED, token: body.token })).status).toBe(401);
  });

  it("takes ttl and max_uses, null meaning no limit", async () => {
    const res = await create({ ttl: null, max_uses: null });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string };
    expect(body).toMatchObject({ expires_at: null, max_uses: null });
    for (let i = 0; i < 3; i++) expect((await register(webClient(), { env: GATED, token: body.token })).status).toBe(201);
    expect(await (await create({ ttl: 60, max_uses: 5 })).json()).toMatchObject({ max_uses: 5, expires_at: expect.any(Number) });
  });

  it("refuses bad limits and unknown members", async () => {
    for (const body of [{ ttl: 0 }, { ttl: "60" }, { max_uses: -1 }, { max_uses: 1.5 }, { uses: 3 }]) {
      await expectError(await create(body), 400, "invalid_request");
    }
    await expectError(await call("/admin/initial-access-tokens", { method: "POST", headers: operator, body: "[1]" }), 400, "invalid_request");
  });

  it("needs the operator token", async () => {
    const res = await call("/admin/initial-access-tokens", { method: "POST", headers: { authorization: "Bearer nope" } });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    await expectError(res, 401, "invalid_token");
  });
});
