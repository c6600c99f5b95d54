import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { ISSUER, basic, call, createClient, expectError, tokenRequest } from "./helpers";

async function localJwks() {
  return createLocalJWKSet(await (await call("/jwks")).json());
}

describe("RFC 6749 §4.4 client_credentials", () => {
  it("§4.4.3 issues an access token, no refresh token, with no-store headers (§5.1)", async () => {
    const c = await createClient({});
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "read" }, { authorization: basic(c.client_id, c.client_secret!) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("pragma")).toBe("no-cache");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 600, scope: "read" });
  });

  it("§3.3 grants the client's allowed scopes when none is requested", async () => {
    const c = await createClient({ scope: "read write admin" });
    const res = await tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(c.client_id, c.client_secret!) });
    expect(((await res.json()) as { scope: string }).scope).toBe("read write admin");
  });

  it("§3.3 scope order does not matter and duplicates collapse", async () => {
    const c = await createClient({ scope: "read write" });
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "write read write" }, { authorization: basic(c.client_id, c.client_secret!) });
    expect(((await res.json()) as { scope: string }).scope).toBe("write read");
  });

  it("§5.2 a scope the client may not have is invalid_scope", async () => {
    const c = await createClient({ scope: "read" });
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "read admin" }, { authorization: basic(c.client_id, c.client_secret!) });
    const body = await expectError(res, 400, "invalid_scope", "invalid_scope");
    expect(body.error_description).toContain("admin");
  });

  it("§3.3 a malformed scope (double space, quote, non-ASCII) is invalid_scope", async () => {
    const c = await createClient({ scope: "read" });
    for (const scope of ["read  write", 'read "x"', "lecture-é", " read"]) {
      const res = await tokenRequest({ grant_type: "client_credentials", scope }, { authorization: basic(c.client_id, c.client_secret!) });
      await expectError(res, 400, "invalid_scope", "malformed_scope");
    }
  });

  it("§5.2 a client not registered for the grant is unauthorized_client", async () => {
    const c = await createClient({ grant_types: ["authorization_code"] });
    const res = await tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(c.client_id, c.client_secret!) });
    await expectError(res, 400, "unauthorized_client", "unauthorized_client");
  });

  it("§5.2 an unknown grant_type is unsupported_grant_type; a missing one invalid_request", async () => {
    const c = await createClient({});
    const auth = { authorization: basic(c.client_id, c.client_secret!) };
    await expectError(await tokenRequest({ grant_type: "password" }, auth), 400, "unsupported_grant_type", "unsupported_grant_type");
    await expectError(await tokenRequest({}, auth), 400, "invalid_request", "missing_grant_type");
  });
});

describe("RFC 9068 JWT access tokens", () => {
  it("§2 header typ at+jwt with kid, and the required claims; verifiable with the published JWKS", async () => {
    const c = await createClient({ scope: "read write" });
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "read" }, { authorization: basic(c.client_id, c.client_secret!) });
    const { access_token } = (await res.json()) as { access_token: string };
    const header = decodeProtectedHeader(access_token);
    expect(header).toMatchObject({ typ: "at+jwt", alg: "ES256", kid: expect.any(String) });
    const { payload } = await jwtVerify(access_token, await localJwks(), { issuer: ISSUER, audience: ISSUER, typ: "at+jwt" });
    expect(payload).toMatchObject({ iss: ISSUER, sub: c.client_id, aud: ISSUER, client_id: c.client_id, scope: "read" });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  });

  it("§2.2 every token has a distinct jti", async () => {
    const c = await createClient({});
    const jtis = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(c.client_id, c.client_secret!) });
      const { access_token } = (await res.json()) as { access_token: string };
      jtis.add(JSON.parse(atob(access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).jti);
    }
    expect(jtis.size).toBe(5);
  });
});
