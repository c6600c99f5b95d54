import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { DPOP_SIGNING_ALGS } from "../src/dpop/proof";
import { ISSUER, basic, createClient, expectError } from "./helpers";
import {
  OTHER_RESOURCE, RESOURCE, accessClaims, bearer, challenges, kit, latchkey, mintToken, refused, resourceRequest, signedByLatchkey, tokenClient,
} from "./resource-server-helpers";

/**
 * The resource-server kit's token checks (src/resource-server/index.ts) and their RFC 6750 §3
 * challenges, against tokens from Latchkey's real token endpoint and keys (RFC 9068 §4: typ, alg,
 * signature, iss, aud, exp, scope). Every refusal is the catalog's JSON with a Bearer challenge
 * carrying `resource_metadata` (RFC 9728 §5.1).
 */
const METADATA = 'resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"';

describe("RFC 6750 §2.1, RFC 9068 §4: a good token", () => {
  it("Bearer with Latchkey's token for this resource → ok, with sub, client_id, scope and the claims", async () => {
    const token = await mintToken({ scope: "read write" });
    const auth = await kit().authenticate(bearer(token));
    expect(auth.ok).toBe(true);
    const { client_id } = await tokenClient();
    expect(auth.ok && auth.token).toMatchObject({ sub: client_id, clientId: client_id, scope: ["read", "write"], scheme: "Bearer" });
    expect(auth.ok && auth.token.claims.jti).toBe(decodeJwt(token).jti);
  });

  it("the scheme name is case-insensitive (RFC 9110 §11.1)", async () => {
    const auth = await kit().authenticate(resourceRequest({ authorization: `bEaReR ${await mintToken()}` }));
    expect(auth.ok).toBe(true);
  });
});

describe("RFC 6750 §3.1: no token, or a malformed request", () => {
  it("no Authorization header → 401 with challenges naming no error, only resource_metadata and the scope to ask for", async () => {
    const res = await refused(resourceRequest());
    await expectError(res.clone(), 401, "invalid_request", "bearer_token_missing");
    expect(challenges(res)).toBe(`Bearer ${METADATA}, scope="read", DPoP ${METADATA}, scope="read", algs="${DPOP_SIGNING_ALGS.join(" ")}"`);
  });

  it("another scheme (Basic) counts as no token → the same bare 401", async () => {
    const res = await refused(resourceRequest({ authorization: "Basic dXNlcjpwYXNz" }));
    await expectError(res.clone(), 401, "invalid_request", "bearer_token_missing");
    expect(challenges(res)).not.toContain("error=");
  });

  it("a Bearer header without a token68 credential → 400 invalid_request", async () => {
    await expectError(await refused(resourceRequest({ authorization: "Bearer a b" })), 400, "invalid_request");
    await expectError(await refused(resourceRequest({ authorization: "Bearer" })), 400, "invalid_request");
  });

  it("§2.3 / RFC 9700 §4.3.2: a token in the query → 400 invalid_request, even beside a good header", async () => {
    const token = await mintToken();
    const res = await refused(new Request(`${RESOURCE}?access_token=${token}`, { headers: { authorization: `Bearer ${token}` } }));
    await expectError(res, 400, "invalid_request");
  });

  it("a token that is not a JWT → 401 invalid_token, the challenge naming it after resource_metadata's scheme", async () => {
    const res = await refused(bearer("not-a-jwt"));
    await expectError(res.clone(), 401, "invalid_token", "invalid_token");
    expect(challenges(res)).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="[^"]+", scope="read", DPoP resource_metadata=/);
  });
});

describe("RFC 9068 §4: the token's signature and claims", () => {
  it("a changed signature → 401 invalid_token", async () => {
    const token = await mintToken();
    const [h, p, s] = token.split(".");
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith("AA") ? "BB" : "AA"}`;
    const body = await expectError(await refused(bearer(flipped)), 401, "invalid_token");
    expect(body.error_description).toMatch(/signature/);
  });

  it("a changed payload (scope widened) under the original signature → 401 invalid_token", async () => {
    const token = await mintToken();
    const [h, , s] = token.split(".");
    const payload = btoa(JSON.stringify({ ...decodeJwt(token), scope: "read admin" })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    await expectError(await refused(bearer(`${h}.${payload}.${s}`)), 401, "invalid_token");
  });

  it("typ other than at+jwt (an ID-token-like JWT signed by Latchkey's key) → 401 invalid_token", async () => {
    const body = await expectError(await refused(bearer(await signedByLatchkey(accessClaims(), "JWT"))), 401, "invalid_token");
    expect(body.error_description).toMatch(/typ/);
  });

  it("an alg off the kit's allow-list → 401 invalid_token", async () => {
    const body = await expectError(await refused(bearer(await mintToken()), kit({ algs: ["RS256"] })), 401, "invalid_token");
    expect(body.error_description).toMatch(/alg/);
  });

  it("another iss (signed by Latchkey's key all the same) → 401 invalid_token", async () => {
    const body = await expectError(await refused(bearer(await signedByLatchkey(accessClaims({ iss: "https://other.test" })))), 401, "invalid_token");
    expect(body.error_description).toMatch(/issuer/);
  });

  it("a required claim missing (client_id, jti, sub) → 401 invalid_token naming it", async () => {
    for (const claim of ["client_id", "jti", "sub"]) {
      const body = await expectError(await refused(bearer(await signedByLatchkey(accessClaims({ [claim]: undefined })))), 401, "invalid_token");
      expect(body.error_description).toContain(claim);
    }
  });
});

describe("RFC 8707 §2, RFC 9068 §4: aud is exactly this resource", () => {
  it("a token for another path of the same host → 401 invalid_token; the same token works at that path's kit", async () => {
    const token = await mintToken({ audience: OTHER_RESOURCE });
    expect(decodeJwt(token).aud).toBe(OTHER_RESOURCE);
    const body = await expectError(await refused(bearer(token)), 401, "invalid_token");
    expect(body.error_description).toMatch(/not meant for/);
    const there = await kit({ resource: OTHER_RESOURCE }).authenticate(resourceRequest({ authorization: `Bearer ${token}` }, OTHER_RESOURCE));
    expect(there.ok).toBe(true);
  });

  it("a token for the issuer (Latchkey's default audience), a prefix or a trailing-slash variant → 401", async () => {
    for (const audience of [ISSUER, "https://mcp.example", "https://mcp.example/mcp/", "https://mcp.example/mcp/tools"]) {
      await expectError(await refused(bearer(await mintToken({ audience }))), 401, "invalid_token");
    }
  });

  it("an aud array naming this resource among others is accepted (RFC 7519 §4.1.3); one that does not is refused", async () => {
    expect((await kit().authenticate(bearer(await signedByLatchkey(accessClaims({ aud: [OTHER_RESOURCE, RESOURCE] }))))).ok).toBe(true);
    await expectError(await refused(bearer(await signedByLatchkey(accessClaims({ aud: [OTHER_RESOURCE] })))), 401, "invalid_token");
  });
});

describe("RFC 9068 §4: exp, iat and nbf with the clock skew", () => {
  it("past exp + skew → 401 invalid_token (token_expired); within the skew it still works", async () => {
    const token = await mintToken();
    const { exp } = decodeJwt(token) as { exp: number };
    expect((await kit({ now: () => exp + 14 }).authenticate(bearer(token))).ok).toBe(true);
    await expectError(await refused(bearer(token), kit({ now: () => exp + 15 })), 401, "invalid_token", "token_expired");
  });

  it("iat ahead of the clock beyond the skew, or nbf ahead → 401 invalid_token", async () => {
    const token = await mintToken();
    const { iat } = decodeJwt(token) as { iat: number };
    await expectError(await refused(bearer(token), kit({ now: () => iat - 16 })), 401, "invalid_token");
    const later = Math.floor(Date.now() / 1000) + 120;
    await expectError(await refused(bearer(await signedByLatchkey(accessClaims({ nbf: later })))), 401, "invalid_token");
  });
});

describe("RFC 6750 §3.1: insufficient_scope", () => {
  it("a token without a required scope → 403 insufficient_scope, the challenge naming the scope needed", async () => {
    const res = await refused(bearer(await mintToken({ scope: "write" })));
    const body = await expectError(res.clone(), 403, "insufficient_scope");
    expect(body.error_description).toContain("read");
    expect(challenges(res)).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+", resource_metadata="[^"]+", scope="read"/);
  });

  it("every required scope is needed; scopes_supported (what to ask for) is named on a 401 instead", async () => {
    const rs = kit({ scopes: ["read", "write"], scopesSupported: ["read", "write", "offline_access"] });
    await expectError(await refused(bearer(await mintToken({ scope: "read" })), rs), 403, "insufficient_scope");
    expect((await rs.authenticate(bearer(await mintToken({ scope: "read write" })))).ok).toBe(true);
    expect(challenges(await refused(resourceRequest(), rs))).toContain('scope="read write offline_access"');
  });
});

describe("RFC 7662 §2: the optional revocation check by introspection", () => {
  it("a revoked token is refused once the cached answer (cacheSeconds) runs out; until then the answer is reused", async () => {
    const rsClient = await createClient({ grant_types: ["client_credentials"], scope: "read", introspection: "any" });
    let now = Math.floor(Date.now() / 1000);
    const log: string[] = [];
    const rs = kit({ introspection: { clientId: rsClient.client_id, clientSecret: rsClient.client_secret!, cacheSeconds: 30 }, now: () => now }, log);
    const token = await mintToken();
    expect((await rs.authenticate(bearer(token))).ok).toBe(true);
    expect(log.filter((p) => p === "/introspect")).toHaveLength(1);

    const c = await tokenClient();
    const revoked = await latchkey(new Request(`${ISSUER}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(c.client_id, c.client_secret!) },
      body: new URLSearchParams({ token }).toString(),
    }));
    expect(revoked.status).toBe(200);
    expect((await rs.authenticate(bearer(token))).ok).toBe(true);
    expect(log.filter((p) => p === "/introspect")).toHaveLength(1);

    now += 30;
    await expectError(await refused(bearer(token), rs), 401, "invalid_token", "token_revoked");
    expect(log.filter((p) => p === "/introspect")).toHaveLength(2);
  });

  it("introspection credentials the issuer refuses → 503 temporarily_unavailable, never a 500 or an accepted token", async () => {
    const rs = kit({ introspection: { clientId: "nobody", clientSecret: "wrong" } });
    const res = await refused(bearer(await mintToken()), rs);
    await expectError(res.clone(), 503, "temporarily_unavailable");
    expect(res.headers.get("www-authenticate")).toBeNull();
  });
});
