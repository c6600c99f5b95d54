import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createInitialAccessToken } from "../src/registration/initial-access-token";
import { ISSUER, basic, call, expectError, nowSeconds, tokenRequest } from "./helpers";
import { REDIRECT_URI, frozenClock } from "./oidc-helpers";
import {
  GATED, OPEN, expectInvalidToken, expectRegistrationError, initialAccessToken, register, registered, registrationRequest, webClient,
} from "./rfc7591-helpers";

/**
 * RFC 7591 §3 (and OpenID Connect Dynamic Client Registration 1.0 §3): the registration endpoint.
 * The request (§3.1), the policy (§3: open, or an initial access token), the response (§3.2.1)
 * and the error response (§3.2.2).
 */

const hashOf = async (text: string) => {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

describe("RFC 7591 §3.1 the client registration request", () => {
  it("POST with a JSON object body is accepted (application/json; charset=utf-8 too)", async () => {
    const res = await register(webClient(), { headers: { "content-type": "application/json; charset=utf-8" } });
    expect(res.status).toBe(201);
  });

  it("another content type → 400 invalid_request (a form body, text/plain, none)", async () => {
    for (const type of ["application/x-www-form-urlencoded", "text/plain", ""]) {
      const res = await register("redirect_uris=https://rp.example/cb", { headers: { "content-type": type } });
      await expectRegistrationError(res, "invalid_request", "registration_unsupported_content_type");
    }
  });

  it("a body that is not JSON, or JSON but not an object → 400 invalid_request", async () => {
    for (const body of ["{not json", "[]", "null", '"text"', "42"]) {
      await expectRegistrationError(await register(body), "invalid_request", "registration_body_malformed");
    }
  });

  it("a body over 64 KiB → 400 invalid_request", async () => {
    const res = await register(webClient({ client_name: "x".repeat(70_000) }));
    await expectRegistrationError(res, "invalid_request", "request_body_too_large");
  });

  it("other methods → 405 with Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const res = await registrationRequest("/register", { method });
      await expectError(res, 405, "invalid_request", "method_not_allowed");
      expect(res.headers.get("allow")).toBe("POST");
    }
  });
});

describe("RFC 7591 §3.2.1 the client information response", () => {
  it("201 JSON, no-store, with client_id, client_id_issued_at, the secret, every registered value and the server's defaults", async () => {
    const before = nowSeconds();
    const body = await registered({ redirect_uris: [REDIRECT_URI], client_name: "Defaults RP" });
    expect(body).toEqual({
      client_id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      client_id_issued_at: expect.any(Number),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
      client_secret_expires_at: 0,
      client_name: "Defaults RP",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      application_type: "web",
      id_token_signed_response_alg: "RS256",
      registration_access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      registration_client_uri: `${ISSUER}/register/${body.client_id}`,
    });
    expect(body.client_id_issued_at as number).toBeGreaterThanOrEqual(before);
  });

  it("every supported member is echoed as registered, including localized ones (RFC 7591 §2.2)", async () => {
    const metadata = {
      redirect_uris: [REDIRECT_URI, "https://rp.example/cb2"],
      client_name: "Full RP",
      "client_name#fr": "RP complet",
      client_uri: "https://rp.example/",
      logo_uri: "https://rp.example/logo.png",
      "logo_uri#fr": "https://rp.example/logo-fr.png",
      policy_uri: "https://rp.example/privacy",
      tos_uri: "https://rp.example/terms",
      initiate_login_uri: "https://rp.example/login",
      contacts: ["admin@rp.example"],
      software_id: "4NRB1-0XZABZI9E6-5SM3R",
      software_version: "2.1",
      scope: "openid profile read",
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code", "client_credentials"],
      response_types: ["code"],
      post_logout_redirect_uris: ["https://rp.example/bye"],
      require_auth_time: false,
      id_token_signed_response_alg: "ES256",
    };
    const body = await registered(metadata);
    expect(body).toMatchObject(metadata);
  });

  it("a client_credentials client gets response_types [] (RFC 7591 §2.1: consistent with its grant types)", async () => {
    const body = await registered({ grant_types: ["client_credentials"], scope: "read" });
    expect(body).toMatchObject({ grant_types: ["client_credentials"], response_types: [], redirect_uris: [], scope: "read" });
  });

  it("unknown members are ignored: not stored, not echoed (RFC 7591 §2)", async () => {
    const body = await registered(webClient({ favourite_colour: "blue", "client_name#": "no tag", "client_name#not a tag": "x", "client_name#fr#x": "x", extra: { nested: true } }));
    for (const member of ["favourite_colour", "client_name#", "client_name#not a tag", "client_name#fr#x", "extra"]) expect(body).not.toHaveProperty([member]);
  });

  it("a secret only for the methods that use one; client_secret_expires_at with it (RFC 7591 §3.2.1)", async () => {
    for (const method of ["client_secret_basic", "client_secret_post", "client_secret_jwt"]) {
      const body = await registered(webClient({ token_endpoint_auth_method: method }));
      expect(body, method).toMatchObject({ client_secret: expect.any(String), client_secret_expires_at: 0 });
    }
    const pub = await registered({ application_type: "native", token_endpoint_auth_method: "none", redirect_uris: ["http://127.0.0.1/cb"] });
    expect(pub).not.toHaveProperty("client_secret");
    expect(pub).not.toHaveProperty("client_secret_expires_at");
  });

  it("the secret and the registration access token are stored only as hashes", async () => {
    const body = await registered(webClient());
    const client = await env.DB.prepare("SELECT client_secret_hash FROM clients WHERE client_id = ?").bind(body.client_id).first<{ client_secret_hash: string }>();
    const rat = await env.DB.prepare("SELECT token_hash FROM registration_tokens WHERE client_id = ?").bind(body.client_id).first<{ token_hash: string }>();
    expect(client!.client_secret_hash).toBe(await hashOf(body.client_secret!));
    expect(rat!.token_hash).toBe(await hashOf(body.registration_access_token));
    const row = JSON.stringify(await env.DB.prepare("SELECT * FROM clients WHERE client_id = ?").bind(body.client_id).first());
    expect(row).not.toContain(body.client_secret);
    expect(row).not.toContain(body.registration_access_token);
  });

  it("the registered client works at once: client_credentials with its secret and registered scope", async () => {
    const body = await registered({ grant_types: ["client_credentials"], scope: "read write" });
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "read" }, { authorization: basic(body.client_id, body.client_secret!) });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("error responses: 400 application/json, one ASCII error code, a description naming the field (RFC 7591 §3.2.2)", async () => {
    const body = await expectRegistrationError(await register(webClient({ logo_uri: "http://rp.example/l\u00e9go.png" })), "invalid_client_metadata", "logo_uri_malformed", "logo_uri");
    expect(body.error).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe("RFC 7591 §3: registration policy", () => {
  it("REGISTRATION_POLICY unset means initial access tokens: without one → 401 invalid_token with a Bearer challenge", async () => {
    await expectInvalidToken(await register(webClient(), { env: { ...OPEN, REGISTRATION_POLICY: "" } }), "initial_access_token_missing");
    await expectInvalidToken(await register(webClient(), { env: GATED }), "initial_access_token_missing");
  });

  it("open: anyone registers; an Authorization header is not needed", async () => {
    expect((await register(webClient(), { env: OPEN })).status).toBe(201);
  });

  it("a bad token, another scheme, or a malformed credential → 401 invalid_token", async () => {
    await expectInvalidToken(await register(webClient(), { env: GATED, token: "not-a-real-token" }), "initial_access_token_invalid");
    const token = await initialAccessToken();
    await expectInvalidToken(await register(webClient(), { env: GATED, headers: { authorization: `Basic ${token}` } }), "initial_access_token_missing");
    await expectInvalidToken(await register(webClient(), { env: GATED, headers: { authorization: "Bearer a b" } }), "initial_access_token_missing");
  });

  it("a valid token registers (Bearer scheme case-insensitive); with max_uses 1 a second use → 401", async () => {
    const token = await initialAccessToken({ maxUses: 1 });
    expect((await register(webClient(), { env: GATED, headers: { authorization: `bearer ${token}` } })).status).toBe(201);
    await expectInvalidToken(await register(webClient(), { env: GATED, token }), "initial_access_token_used_up");
  });

  it("an invalid registration does not use the token up", async () => {
    const token = await initialAccessToken({ maxUses: 1 });
    await expectRegistrationError(await register(webClient({ redirect_uris: ["http://rp.example/cb"] }), { env: GATED, token }), "invalid_redirect_uri", "redirect_uri_web_not_https");
    expect((await register(webClient(), { env: GATED, token })).status).toBe(201);
  });

  it("per-token limits: max_uses counts registrations; null is unlimited", async () => {
    const three = await initialAccessToken({ maxUses: 3 });
    for (let i = 0; i < 3; i++) expect((await register(webClient(), { env: GATED, token: three })).status).toBe(201);
    await expectInvalidToken(await register(webClient(), { env: GATED, token: three }), "initial_access_token_used_up");
    const unlimited = await initialAccessToken({ maxUses: null });
    for (let i = 0; i < 4; i++) expect((await register(webClient(), { env: GATED, token: unlimited })).status).toBe(201);
  });

  it("per-token limits: an expired token → 401 (default lifetime 7 days)", async () => {
    const clock = frozenClock();
    try {
      const token = await initialAccessToken();
      clock.advance(7 * 24 * 3600 - 10);
      expect((await register(webClient(), { env: GATED, token })).status).toBe(201);
      const short = await initialAccessToken({ ttl: 60 });
      clock.advance(61);
      await expectInvalidToken(await register(webClient(), { env: GATED, token: short }), "initial_access_token_expired");
    } finally {
      clock.restore();
    }
  });

  it("single use is atomic: ten concurrent registrations with a one-use token, exactly one succeeds", async () => {
    const token = await initialAccessToken({ maxUses: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, () => register(webClient(), { env: GATED, token })));
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(401)]);
  });

  it("the token is stored only as a hash; createInitialAccessToken validates its limits", async () => {
    const created = await createInitialAccessToken(env.DB, { ttl: 3600, maxUses: 2 }, 1000);
    expect(created).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expires_at: 4600, max_uses: 2, created_at: 1000 });
    const row = await env.DB.prepare("SELECT * FROM initial_access_tokens WHERE token_hash = ?").bind(await hashOf(created.token)).first();
    expect(row).toMatchObject({ expires_at: 4600, max_uses: 2, uses: 0 });
    for (const bad of [{ ttl: 0 }, { ttl: 1.5 }, { maxUses: 0 }, { maxUses: -1 }]) {
      await expect(createInitialAccessToken(env.DB, bad, 1000)).rejects.toMatchObject({ code: "invalid_request" });
    }
  });

  it("a bad REGISTRATION_POLICY is a configuration error (server_error), never open by accident", async () => {
    const res = await register(webClient(), { env: { ...OPEN, REGISTRATION_POLICY: "opne" } });
    expect(res.status).toBe(500);
  });
});

describe("scope policy (RFC 7591 §2 scope, REGISTRATION_SCOPES)", () => {
  it("OpenID Connect scopes are always allowed; others only when the operator lists them", async () => {
    await registered(webClient({ scope: "openid profile email address phone offline_access" }), { env: { ...OPEN, REGISTRATION_SCOPES: "" } });
    await expectRegistrationError(await register(webClient({ scope: "read" }), { env: { ...OPEN, REGISTRATION_SCOPES: "" } }), "invalid_client_metadata", "scope_not_allowed", "read");
    await registered(webClient({ scope: "read" }), { env: { ...OPEN, REGISTRATION_SCOPES: "read" } });
  });

  it("a registered client without scope gets none beyond the OpenID Connect ones: client_credentials issues an empty scope", async () => {
    const body = await registered({ grant_types: ["client_credentials"] });
    expect(body).not.toHaveProperty("scope");
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "read" }, { authorization: basic(body.client_id, body.client_secret!) });
    await expectError(res, 400, "invalid_scope");
  });

  it("the token endpoint's CORS: a self-registered client's redirect URI origins only (RFC 9700 §2.6)", async () => {
    const body = await registered(webClient());
    const res = await call("/token", { method: "OPTIONS", headers: { origin: "https://rp.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://rp.example");
    expect(body.client_id).toBeDefined();
  });
});
