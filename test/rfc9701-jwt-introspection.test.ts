import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ISSUER, basic, call, createClient, expectError, nowSeconds, tokenRequest } from "./helpers";
import { frozenClock } from "./oidc-helpers";
import { credentials, formPost, introspect, offlineTokens, refreshClient, type Registered } from "./rfc6749-6-helpers";
import { expectRegistrationError, manage, register, registered } from "./rfc7591-helpers";

/**
 * RFC 9701, JWT Response for OAuth Token Introspection: a resource server that asks with
 * `Accept: application/token-introspection+jwt` (§4) gets the RFC 7662 answer as a JWT signed with
 * our key (§5): `typ: token-introspection+jwt`, `iss`, `aud` = the caller, `iat`, and the answer in
 * `token_introspection`; the alg is the caller's `introspection_signed_response_alg` (§6, default
 * RS256). Without that Accept the answer is the plain JSON of RFC 7662; errors are always JSON.
 */

afterEach(() => vi.useRealTimers());

const JWT_TYPE = "application/token-introspection+jwt";
const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };

/** Introspection by `caller` with the given Accept header; the raw response. */
function introspectWith(caller: Registered, token: string, accept: string | null): Promise<Response> {
  const { form, headers } = credentials(caller);
  return formPost("/introspect", { token, ...form }, { ...headers, ...(accept !== null && { accept }) });
}

/** An RFC 9701 answer: 200, the JWT content type, no-store; verified against our published JWKS. */
async function introspectJwt(caller: Registered, token: string, alg = "RS256"): Promise<{ payload: JWTPayload; jwt: string }> {
  const res = await introspectWith(caller, token, JWT_TYPE);
  // Decoded by hand: workerd warns when .text() reads a type it does not know as text.
  const jwt = new TextDecoder().decode(await res.arrayBuffer());
  expect(res.status, jwt).toBe(200);
  expect(res.headers.get("content-type")).toBe(JWT_TYPE);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("vary")).toMatch(/accept/i);
  const jwks = (await (await call("/jwks")).json()) as JSONWebKeySet;
  const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
    typ: "token-introspection+jwt",
    issuer: ISSUER,
    audience: caller.client_id,
    algorithms: [alg],
  });
  expect(protectedHeader).toEqual({ alg, kid: expect.any(String), typ: "token-introspection+jwt" });
  return { payload, jwt };
}

describe("RFC 9701 §5 the JWT response", () => {
  it("an active access token: typ, iss, aud = the caller, iat now, token_introspection = the RFC 7662 answer; no top-level sub or exp", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client, { scope: "openid email offline_access" });
    const plain = await introspect(client, tokens.access_token);
    expect(plain.active).toBe(true);
    const { payload } = await introspectJwt(client, tokens.access_token);
    expect(payload).toEqual({ iss: ISSUER, aud: client.client_id, iat: nowSeconds(), token_introspection: plain });
    clock.restore();
  });

  it("an active refresh token: token_introspection is its RFC 7662 answer", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const plain = await introspect(client, tokens.refresh_token);
    expect(plain).toMatchObject({ active: true, token_type: "refresh_token" });
    expect((await introspectJwt(client, tokens.refresh_token)).payload.token_introspection).toEqual(plain);
  });

  it("aud is the resource server that asked, not the client the token was issued to", async () => {
    const client = await refreshClient();
    const rs = await createClient({ grant_types: ["client_credentials"], introspection: "any" });
    const { tokens } = await offlineTokens(client);
    const { payload } = await introspectJwt(rs, tokens.access_token);
    expect(payload.aud).toBe(rs.client_id);
    expect(payload.token_introspection).toMatchObject({ active: true, client_id: client.client_id });
  });

  it("an unknown, forged or other client's token: token_introspection is {active: false} and nothing else", async () => {
    const client = await refreshClient();
    const other = await refreshClient();
    const { tokens } = await offlineTokens(other);
    for (const token of ["x".repeat(43), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", tokens.access_token, tokens.refresh_token]) {
      const { payload } = await introspectJwt(client, token);
      expect(payload).toEqual({ iss: ISSUER, aud: client.client_id, iat: expect.any(Number), token_introspection: { active: false } });
    }
  });

  it("the answer is not an access token: UserInfo refuses it", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const { jwt } = await introspectJwt(client, tokens.access_token);
    const res = await call("/userinfo", { headers: { authorization: `Bearer ${jwt}` } });
    await expectError(res, 401, "invalid_token");
  });
});

describe("RFC 9701 §6 introspection_signed_response_alg", () => {
  it("a client registered by the operator with ES256 gets ES256 answers; the member is echoed back", async () => {
    const rs = await createClient({ introspection_signed_response_alg: "ES256" });
    expect(rs.introspection_signed_response_alg).toBe("ES256");
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "read" }, { authorization: basic(rs.client_id, rs.client_secret!) });
    const { access_token } = (await res.json()) as { access_token: string };
    const { payload, jwt } = await introspectJwt(rs, access_token, "ES256");
    expect(decodeProtectedHeader(jwt).alg).toBe("ES256");
    expect(payload.token_introspection).toMatchObject({ active: true, client_id: rs.client_id, scope: "read" });
    const read = await call(`/admin/clients/${rs.client_id}`, { headers: admin });
    expect(((await read.json()) as Record<string, unknown>).introspection_signed_response_alg).toBe("ES256");
  });

  it("a client registering itself (RFC 7591) with EdDSA gets EdDSA answers; the member is in its registration and RFC 7592 read", async () => {
    const rs = await registered({
      grant_types: ["client_credentials"], token_endpoint_auth_method: "client_secret_basic", introspection_signed_response_alg: "EdDSA",
    });
    expect(rs.introspection_signed_response_alg).toBe("EdDSA");
    const read = await manage("GET", rs.registration_client_uri, rs.registration_access_token);
    expect(((await read.json()) as Record<string, unknown>).introspection_signed_response_alg).toBe("EdDSA");
    const { payload } = await introspectJwt(rs, "unknown-token", "EdDSA");
    expect(payload.token_introspection).toEqual({ active: false });
  });

  it("omitted: RS256, and nothing is added to the registration", async () => {
    const rs = await createClient({});
    expect(rs).not.toHaveProperty("introspection_signed_response_alg");
    await introspectJwt(rs, "unknown-token", "RS256");
  });

  it.each([["PS256"], ["HS256"], ["none"], [256]])("refused at registration, dynamic and operator alike: %s", async (alg) => {
    await expectRegistrationError(
      await register({ grant_types: ["client_credentials"], introspection_signed_response_alg: alg }),
      "invalid_client_metadata", "introspection_signed_response_alg_unsupported", "introspection_signed_response_alg",
    );
    const res = await call("/admin/clients/rs-bad-introspection-alg", {
      method: "PUT", headers: admin, body: JSON.stringify({ grant_types: ["client_credentials"], introspection_signed_response_alg: alg }),
    });
    await expectError(res, 400, "invalid_client_metadata", "introspection_signed_response_alg_unsupported");
  });

  it.each([
    ["introspection_encrypted_response_alg", "RSA-OAEP-256"],
    ["introspection_encrypted_response_enc", "A128CBC-HS256"],
  ])("%s: encrypted answers are not supported, so it is refused rather than ignored", async (member, value) => {
    await expectRegistrationError(
      await register({ grant_types: ["client_credentials"], introspection_signed_response_alg: "RS256", [member]: value }),
      "invalid_client_metadata", "encrypted_responses_unsupported", member,
    );
  });
});

describe("RFC 9701 §4 only a request for the JWT gets one", () => {
  it.each([
    ["no Accept header", null],
    ["application/json", "application/json"],
    ["*/*", "*/*"],
    ["application/jwt (an early draft's type)", "application/jwt"],
    ["JSON preferred by q", `application/json, ${JWT_TYPE};q=0.5`],
    ["the JWT type refused with q=0", `${JWT_TYPE};q=0`],
  ])("%s → the plain RFC 7662 JSON", async (_name, accept) => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const res = await introspectWith(client, tokens.access_token, accept);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual(await introspect(client, tokens.access_token));
  });

  it("the JWT type among others, preferred by q → the JWT", async () => {
    const client = await refreshClient();
    const res = await introspectWith(client, "unknown-token", `application/json;q=0.4, ${JWT_TYPE}`);
    expect(res.headers.get("content-type")).toBe(JWT_TYPE);
  });

  it("errors stay JSON (RFC 7662 §2.3): bad client authentication → 401, no token → 400, a public client → 401", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const accept = { accept: JWT_TYPE };
    const wrong = await formPost("/introspect", { token: tokens.access_token }, { ...accept, authorization: basic(client.client_id, "w".repeat(86)) });
    await expectError(wrong, 401, "invalid_client", "invalid_client_secret");
    await expectError(await formPost("/introspect", { token: tokens.access_token }, accept), 401, "invalid_client", "missing_client_credentials");
    await expectError(await formPost("/introspect", {}, { ...accept, ...credentials(client).headers }), 400, "invalid_request", "missing_parameter");
    const pub = await refreshClient({ token_endpoint_auth_method: "none" });
    await expectError(await formPost("/introspect", { token: tokens.access_token, client_id: pub.client_id }, accept), 401, "invalid_client", "introspection_public_client");
  });
});
