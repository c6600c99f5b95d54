import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import type { Client } from "../src/clients/model";
import { configFrom } from "../src/config";
import { keyring } from "../src/keys/keyring";
import { d1KeyStore } from "../src/keys/store";
import { atHash } from "../src/tokens/id-token";
import { mintTokens, type MintRequest, type SenderConstraint } from "../src/tokens/minter";
import { findRefreshToken, rotateRefreshToken } from "../src/tokens/refresh-token";
import { ISSUER, call, nowSeconds, uniqueId } from "./helpers";

/**
 * The one token minter (src/tokens/minter.ts) that every grant answers through: the RFC 6749 §5.1
 * members, the RFC 9068 access token, the ID token (OIDC Core §3.1.3.6) only for a person's sign-in
 * with `openid`, the refresh token only with `offline_access` and a consent grant, and a sender
 * constraint (RFC 9449 §6.1 `jkt`, RFC 8705 §3.1 `x5t#S256`) in the access token and the refresh row.
 */

const config = configFrom(env);

async function deps() {
  const now = nowSeconds();
  return { config, keys: await keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, now), now, db: env.DB };
}

const client = (overrides: Partial<Client> = {}): Client => ({
  clientId: uniqueId("minter-client"), clientName: null, authMethod: "client_secret_basic", authSigningAlg: null, secretHash: null,
  secretSealed: null, secretExpiresAt: 0, grantTypes: ["authorization_code", "refresh_token"], responseTypes: ["code"],
  redirectUris: ["https://rp.example/cb"], scope: [], jwks: null, jwksUri: null, tlsSubjectDn: null, applicationType: "web",
  idTokenSignedResponseAlg: "RS256", firstParty: false, allowPlainPkce: false, plainOAuth2: false, allowedCorsOrigins: [],
  postLogoutRedirectUris: [], metadata: {}, disabled: false, createdAt: 0, updatedAt: 0,
  ...overrides,
});

/** A person's code exchange: everything the authorization_code grant passes. */
const personRequest = (overrides: Partial<MintRequest> = {}): MintRequest => ({
  client: client(),
  subject: uniqueId("user"),
  scope: ["openid", "offline_access", "profile"],
  grantId: uniqueId("grant"),
  authentication: { authTime: nowSeconds() - 60, sid: uniqueId("sid"), amr: ["pwd"] },
  nonce: "n-0S6_WzA2Mj",
  refresh: { kind: "family" },
  ...overrides,
});

async function verified(token: string, typ: string, audience: string) {
  const jwks = (await (await call("/jwks")).json()) as JSONWebKeySet;
  return (await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, typ, audience })).payload;
}

// RFC 9449 §6.1's example thumbprint; RFC 8705 §3.1's example x5t#S256.
const JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
const X5T = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2";
const DPOP: SenderConstraint = { method: "dpop", jkt: JKT };
const MTLS: SenderConstraint = { method: "mtls", x5tS256: X5T };

describe("RFC 6749 §5.1 token response, through the one minter", () => {
  it("a client for itself (client_credentials): exactly access_token, token_type Bearer, expires_in, scope", async () => {
    const d = await deps();
    const c = client();
    // Even with openid and offline_access in the scope: no person, so no ID token and no refresh token.
    const minted = await mintTokens({ client: c, subject: c.clientId, scope: ["openid", "offline_access", "api:read"], refresh: { kind: "family" } }, d);
    expect(Object.keys(minted.response)).toEqual(["access_token", "token_type", "expires_in", "scope"]);
    expect(minted.response).toMatchObject({ token_type: "Bearer", expires_in: config.accessTokenTtl, scope: "openid offline_access api:read" });
    expect(minted.family).toBeUndefined();

    const payload = await verified(minted.response.access_token, "at+jwt", config.accessTokenAudience);
    expect(payload).toEqual({
      iss: ISSUER, sub: c.clientId, aud: config.accessTokenAudience, client_id: c.clientId, scope: "openid offline_access api:read",
      iat: d.now, exp: d.now + config.accessTokenTtl, jti: minted.accessToken.jti,
    });
    expect(minted.accessToken.exp).toBe(d.now + config.accessTokenTtl);
  });

  it("a person's code exchange: every member, in §5.1's order; the access token carries auth_time and gid, no cnf", async () => {
    const d = await deps();
    const request = personRequest();
    const { response } = await mintTokens(request, d);
    expect(Object.keys(response)).toEqual(["access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token"]);
    expect(response).toMatchObject({ token_type: "Bearer", expires_in: config.accessTokenTtl, scope: "openid offline_access profile" });
    const payload = await verified(response.access_token, "at+jwt", config.accessTokenAudience);
    expect(payload).toMatchObject({ sub: request.subject, auth_time: request.authentication!.authTime, gid: request.grantId });
    expect(payload.cnf).toBeUndefined();
  });

  it("ID token (OIDC Core §3.1.3.6): at_hash of this access token, nonce, sid, amr, auth_time", async () => {
    const d = await deps();
    const request = personRequest();
    const { response } = await mintTokens(request, d);
    const idToken = await verified(response.id_token!, "JWT", request.client.clientId);
    expect(idToken).toEqual({
      iss: ISSUER, sub: request.subject, aud: request.client.clientId, iat: d.now, exp: d.now + config.idTokenTtl,
      auth_time: request.authentication!.authTime, nonce: "n-0S6_WzA2Mj", at_hash: await atHash(response.access_token, "RS256"),
      amr: ["pwd"], sid: request.authentication!.sid,
    });
  });

  it("ID token only with openid: a person's tokens without it have none", async () => {
    const { response } = await mintTokens(personRequest({ scope: ["profile", "offline_access"] }), await deps());
    expect(response.id_token).toBeUndefined();
    expect(response.refresh_token).toBeDefined();
  });

  it("refresh token only with offline_access and a consent grant; the rows written are the ones returned", async () => {
    const d = await deps();
    const withIt = await mintTokens(personRequest(), d);
    const stored = await findRefreshToken(env.DB, withIt.response.refresh_token!);
    expect(stored).toMatchObject({ hash: withIt.family!.hash, familyId: withIt.family!.familyId, cnf: null, rotation: null });

    for (const request of [personRequest({ scope: ["openid", "profile"] }), personRequest({ grantId: undefined })]) {
      const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_tokens").first<{ n: number }>();
      const minted = await mintTokens(request, d);
      expect(minted.response.refresh_token).toBeUndefined();
      expect(minted.family).toBeUndefined();
      expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_tokens").first<{ n: number }>()).toEqual(before);
    }
  });

  it("a rotation: the successor in the answer, nothing written (rotateRefreshToken decides), the retry answer the same", async () => {
    const d = await deps();
    const first = await mintTokens(personRequest(), d);
    const current = (await findRefreshToken(env.DB, first.response.refresh_token!))!;
    const request = personRequest({ refresh: { kind: "rotation", current, requestScope: "" } });
    const { response, successor, family } = await mintTokens({ ...request, nonce: undefined }, d);
    expect(family).toBeUndefined();
    expect(successor).toMatchObject({ token: response.refresh_token, accessToken: { exp: d.now + config.accessTokenTtl }, requestScope: "" });
    expect(successor!.retryAnswer).toEqual({ ...response, expires_at: d.now + config.accessTokenTtl });
    expect(await findRefreshToken(env.DB, response.refresh_token!)).toBeNull();
  });

  it("DPoP-bound (RFC 9449 §5, §6.1): token_type DPoP, cnf.jkt in the access token and recorded with the refresh token", async () => {
    const d = await deps();
    const minted = await mintTokens(personRequest({ binding: DPOP }), d);
    expect(minted.response.token_type).toBe("DPoP");
    expect(decodeJwt(minted.response.access_token).cnf).toEqual({ jkt: JKT });
    const stored = (await findRefreshToken(env.DB, minted.response.refresh_token!))!;
    expect(stored.cnf).toEqual({ jkt: JKT });

    // A rotation keeps the binding: the successor's row has the same cnf.
    const next = await mintTokens({ ...personRequest({ binding: DPOP }), refresh: { kind: "rotation", current: stored, requestScope: "" } }, d);
    expect(next.response.token_type).toBe("DPoP");
    expect(await rotateRefreshToken(env.DB, stored, next.successor, { now: d.now, policy: { idle: 3600 }, encryptionKey: env.ENCRYPTION_KEY })).toBe(true);
    expect((await findRefreshToken(env.DB, next.response.refresh_token!))!.cnf).toEqual(stored.cnf);
  });

  it("certificate-bound (RFC 8705 §3): token_type stays Bearer, cnf x5t#S256 in the access token and the refresh row", async () => {
    const minted = await mintTokens(personRequest({ binding: MTLS }), await deps());
    expect(minted.response.token_type).toBe("Bearer");
    expect(decodeJwt(minted.response.access_token).cnf).toEqual({ "x5t#S256": X5T });
    expect((await findRefreshToken(env.DB, minted.response.refresh_token!))!.cnf).toEqual({ "x5t#S256": X5T });
  });
});
