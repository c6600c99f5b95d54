import { env } from "cloudflare:workers";
import { base64url, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { keyring } from "../src/keys/keyring";
import { d1KeyStore } from "../src/keys/store";
import { issueAccessToken } from "../src/tokens/access-token";
import { issueIdToken, type IdTokenInput } from "../src/tokens/id-token";
import { ISSUER, call, nowSeconds, uniqueId } from "./helpers";

async function deps() {
  const now = nowSeconds();
  return { config: configFrom(env), keys: await keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, now), now };
}

async function published(): Promise<JSONWebKeySet> {
  return (await call("/jwks")).json();
}

/** at_hash computed here from the spec text alone: left half of the alg's hash of the token's ASCII octets. */
async function expectedAtHash(token: string, hash: "SHA-256" | "SHA-512"): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(token)));
  return base64url.encode(digest.subarray(0, digest.length / 2));
}

const base = (overrides: Partial<IdTokenInput> = {}): IdTokenInput => ({
  sub: uniqueId("user"),
  clientId: uniqueId("client"),
  alg: "RS256",
  ttl: 300,
  ...overrides,
});

describe("OIDC Core §2 / §3.1.3.6 ID token", () => {
  for (const [alg, hash] of [["RS256", "SHA-256"], ["ES256", "SHA-256"], ["EdDSA", "SHA-512"]] as const) {
    it(`${alg}: verifies with the published JWKS, kid resolves, typ JWT, at_hash uses ${hash}`, async () => {
      const d = await deps();
      const access = await issueAccessToken({ sub: "s", clientId: "c", scope: ["openid"] }, d);
      const input = base({ alg, accessToken: access.token, nonce: "n-0S6_WzA2Mj" });
      const idToken = await issueIdToken(input, d);

      const jwks = await published();
      const header = decodeProtectedHeader(idToken);
      expect(header).toEqual({ alg, kid: expect.any(String), typ: "JWT" });
      const jwk = jwks.keys.find((k) => k.kid === header.kid);
      expect(jwk, "kid is in the JWKS").toBeDefined();
      expect(jwk!.alg).toBe(alg);

      const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
        issuer: ISSUER,
        audience: input.clientId,
        algorithms: [alg],
        typ: "JWT",
      });
      expect(payload).toEqual({
        iss: ISSUER,
        sub: input.sub,
        aud: input.clientId,
        iat: d.now,
        exp: d.now + 300,
        nonce: "n-0S6_WzA2Mj",
        at_hash: await expectedAtHash(access.token, hash),
      });
    });
  }

  it("RS256 is the default alg when the client registered none (Client.idTokenSignedResponseAlg)", async () => {
    const idToken = await issueIdToken(base(), await deps());
    expect(decodeProtectedHeader(idToken).alg).toBe("RS256");
  });

  it("§3.1.2.1 nonce is echoed unchanged when sent and absent when not; at_hash absent without an access token", async () => {
    const d = await deps();
    const nonce = "a".repeat(64) + " ünïcode";
    const withNonce = await issueIdToken(base({ nonce }), d);
    const without = await issueIdToken(base(), d);
    const jwks = createLocalJWKSet(await published());
    expect((await jwtVerify(withNonce, jwks)).payload.nonce).toBe(nonce);
    const { payload } = await jwtVerify(without, jwks);
    expect(payload).not.toHaveProperty("nonce");
    expect(payload).not.toHaveProperty("at_hash");
    expect(payload).not.toHaveProperty("azp");
  });

  it("§2 auth_time, amr, acr and sid when provided", async () => {
    const d = await deps();
    const idToken = await issueIdToken(base({ authTime: d.now - 30, amr: ["pwd"], acr: "urn:latchkey:pwd", sid: "sid-1" }), d);
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(await published()));
    expect(payload).toMatchObject({ auth_time: d.now - 30, amr: ["pwd"], acr: "urn:latchkey:pwd", sid: "sid-1" });
  });

  it("§2 azp is the client when aud has more than one value", async () => {
    const d = await deps();
    const input = base({ extraAudiences: ["https://other.example"] });
    const { payload } = await jwtVerify(await issueIdToken(input, d), createLocalJWKSet(await published()));
    expect(payload.aud).toEqual([input.clientId, "https://other.example"]);
    expect(payload.azp).toBe(input.clientId);
  });

  it("refuses to sign with an alg the server has no keys for (never alg none)", async () => {
    const d = await deps();
    for (const alg of ["none", "HS256", "PS256"]) {
      await expect(issueIdToken(base({ alg }), d)).rejects.toThrow(/cannot sign/);
    }
  });
});
