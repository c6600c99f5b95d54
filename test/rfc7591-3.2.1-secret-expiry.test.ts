import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { utf8 } from "../src/crypto/encoding";
import type { Env } from "../src/env";
import { ISSUER, JWT_BEARER, assertion, basic, call, expectError, nowSeconds, tokenRequest } from "./helpers";
import { frozenClock } from "./oidc-helpers";
import { OPEN, registered, registrationRequest, type Registration } from "./rfc7591-helpers";

/**
 * RFC 7591 §3.2.1 client_secret_expires_at: the time at which the client secret will expire, or 0
 * if it will not. The registration endpoint gives the secrets it issues the lifetime
 * config.dynamicClientSecretTtl (DYNAMIC_CLIENT_SECRET_TTL; default 0, never); a secret past it no
 * longer authenticates its client (invalid_client, client_secret_expired) by any secret-based
 * method, and a new one — through RFC 7592 (`rotate_client_secret`) or the operator — starts afresh.
 */

const HOUR = 3600;
const EXPIRING: Partial<Env> = { ...OPEN, DYNAMIC_CLIENT_SECRET_TTL: String(HOUR) };
const CC = { grant_type: "client_credentials" };
const ccClient = (method = "client_secret_basic") => ({ grant_types: ["client_credentials"], token_endpoint_auth_method: method });

/** A client_credentials token request authenticated as the client's method says, with `secret`. */
function authenticate(reg: Registration, secret: string, method = "client_secret_basic"): Promise<Response> {
  if (method === "client_secret_post") return tokenRequest({ ...CC, client_id: reg.client_id, client_secret: secret });
  return tokenRequest(CC, { authorization: basic(reg.client_id, secret) });
}

/** RFC 7592 PUT of the client's own registration, under the expiring policy. */
async function replace(reg: Registration, extra: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await registrationRequest(reg.registration_client_uri, {
    method: "PUT",
    headers: { authorization: `Bearer ${reg.registration_access_token}`, "content-type": "application/json" },
    body: JSON.stringify({ client_id: reg.client_id, ...ccClient(), ...extra }),
  }, EXPIRING);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

let clock: ReturnType<typeof frozenClock> | undefined;
afterEach(() => {
  clock?.restore();
  clock = undefined;
});

describe("RFC 7591 §3.2.1 client_secret_expires_at in the registration response", () => {
  it("by default a dynamic client's secret never expires (0), and keeps working", async () => {
    const reg = await registered(ccClient());
    expect(reg.client_secret_expires_at).toBe(0);
    expect((await authenticate(reg, reg.client_secret!)).status).toBe(200);
  });

  it("with DYNAMIC_CLIENT_SECRET_TTL the response names the expiry, client_id_issued_at + TTL; RFC 7592 GET says the same", async () => {
    const before = nowSeconds();
    const reg = await registered(ccClient(), { env: EXPIRING });
    expect(reg.client_secret_expires_at).toBe((reg.client_id_issued_at as number) + HOUR);
    expect(reg.client_secret_expires_at as number).toBeGreaterThanOrEqual(before + HOUR);
    const read = await registrationRequest(reg.registration_client_uri, { headers: { authorization: `Bearer ${reg.registration_access_token}` } }, EXPIRING);
    expect(((await read.json()) as Record<string, unknown>).client_secret_expires_at).toBe(reg.client_secret_expires_at);
  });

  it("clients without a secret have no client_secret_expires_at", async () => {
    const reg = await registered({ redirect_uris: ["https://rp.example/cb"], token_endpoint_auth_method: "none" }, { env: EXPIRING });
    expect(reg).not.toHaveProperty("client_secret_expires_at");
    expect(reg).not.toHaveProperty("client_secret");
  });
});

describe("RFC 7591 §3.2.1 an expired secret does not authenticate its client", () => {
  for (const method of ["client_secret_basic", "client_secret_post"]) {
    it(`${method}: accepted until client_secret_expires_at, then 401 invalid_client client_secret_expired`, async () => {
      clock = frozenClock();
      const reg = await registered(ccClient(method), { env: EXPIRING });
      clock.advance(HOUR - 5);
      expect((await authenticate(reg, reg.client_secret!, method)).status).toBe(200);
      clock.advance(10);
      await expectError(await authenticate(reg, reg.client_secret!, method), 401, "invalid_client", "client_secret_expired");
    });
  }

  it("client_secret_jwt: an assertion keyed with the expired secret is refused too", async () => {
    clock = frozenClock();
    const reg = await registered(ccClient("client_secret_jwt"), { env: EXPIRING });
    const send = async () => tokenRequest({
      ...CC, client_assertion_type: JWT_BEARER, client_assertion: await assertion(reg.client_id, utf8(reg.client_secret!), { alg: "HS256" }),
    });
    expect((await send()).status).toBe(200);
    clock.advance(HOUR + 1);
    await expectError(await send(), 401, "invalid_client", "client_secret_expired");
  });

  it("a wrong secret is still invalid_client_secret after expiry: expiry is only told to the secret's holder", async () => {
    clock = frozenClock();
    const reg = await registered(ccClient(), { env: EXPIRING });
    clock.advance(HOUR + 1);
    await expectError(await authenticate(reg, "not-the-secret"), 401, "invalid_client", "invalid_client_secret");
  });
});

describe("RFC 7591 §3.2.1 a new secret starts a new lifetime", () => {
  it("RFC 7592 rotate_client_secret after expiry: a new secret with a new expiry works; the old one does not", async () => {
    clock = frozenClock();
    const reg = await registered(ccClient(), { env: EXPIRING });
    clock.advance(HOUR + 1);
    const rotated = await replace(reg, { rotate_client_secret: true });
    expect(rotated.client_secret).toEqual(expect.any(String));
    expect(rotated.client_secret_expires_at).toBe(nowSeconds() + HOUR);
    expect((await authenticate(reg, rotated.client_secret as string)).status).toBe(200);
    await expectError(await authenticate(reg, reg.client_secret!), 401, "invalid_client", "invalid_client_secret");
  });

  it("an RFC 7592 PUT that keeps the secret keeps its expiry (it may send it back unchanged)", async () => {
    clock = frozenClock();
    const reg = await registered(ccClient(), { env: EXPIRING });
    clock.advance(600);
    const kept = await replace(reg, { client_name: "Renamed", client_secret_expires_at: reg.client_secret_expires_at });
    expect(kept).not.toHaveProperty("client_secret");
    expect(kept.client_secret_expires_at).toBe(reg.client_secret_expires_at);
  });

  it("the operator's rotation (POST /admin/clients/:id/secret) gives a secret that does not expire", async () => {
    clock = frozenClock();
    const reg = await registered(ccClient(), { env: EXPIRING });
    clock.advance(HOUR + 1);
    const res = await call(`/admin/clients/${reg.client_id}/secret`, { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(body.client_secret_expires_at).toBe(0);
    expect((await authenticate(reg, body.client_secret as string)).status).toBe(200);
  });
});

describe("DYNAMIC_CLIENT_SECRET_TTL", () => {
  it("seconds, 0 (the default) for never; anything but a whole number is refused", () => {
    const base = { ISSUER, ENCRYPTION_KEY: env.ENCRYPTION_KEY } as Env;
    expect(configFrom({ ...base }).dynamicClientSecretTtl).toBe(0);
    expect(configFrom({ ...base, DYNAMIC_CLIENT_SECRET_TTL: "86400" }).dynamicClientSecretTtl).toBe(86400);
    for (const value of ["-5", "1e3", "soon"]) {
      expect(() => configFrom({ ...base, DYNAMIC_CLIENT_SECRET_TTL: value })).toThrow(/DYNAMIC_CLIENT_SECRET_TTL/);
    }
  });
});
