import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { ISSUER, call, expectError } from "./helpers";
import { Browser, oidcClient, person, signIn } from "./oidc-helpers";
import { expectRegistrationError, register, registered, webClient } from "./rfc7591-helpers";

/**
 * OIDC Core §5.3.2 (signed UserInfo responses), OIDC Registration §2 `userinfo_signed_response_alg`
 * and OIDC Discovery §3 `userinfo_signing_alg_values_supported`: a client registered with the alg
 * gets UserInfo as a JWS (`Content-Type: application/jwt`) of the claims with `iss` (the issuer) and
 * `aud` (its client_id); without it, JSON as before. The conformance module is oidcc-userinfo-rs256.
 */

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const userinfo = (accessToken: string) => call("/userinfo", { headers: { authorization: `Bearer ${accessToken}` } });

async function signedUserinfo(res: Response, clientId: string, alg: string) {
  // Read as bytes: the body is application/jwt (compact JWS, ASCII), not text/*.
  const body = new TextDecoder().decode(await res.arrayBuffer());
  expect(res.status, body).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/jwt");
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(decodeProtectedHeader(body).alg).toBe(alg);
  const jwks = (await (await call("/jwks")).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(body, createLocalJWKSet(jwks), { issuer: ISSUER, audience: clientId, algorithms: [alg] });
  return payload;
}

describe("OIDC Discovery §3: userinfo_signing_alg_values_supported", () => {
  it("lists the algs the server signs with (RS256 among them)", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.userinfo_signing_alg_values_supported).toEqual(["ES256", "RS256", "EdDSA"]);
  });
});

describe("OIDC Registration §2: userinfo_signed_response_alg", () => {
  it("dynamic registration accepts an alg we sign with and echoes it; the configuration read shows it", async () => {
    const reg = await registered(webClient({ userinfo_signed_response_alg: "RS256" }));
    expect(reg.userinfo_signed_response_alg).toBe("RS256");
  });

  it("an alg we do not sign with (or none) → invalid_client_metadata userinfo_signed_response_alg_unsupported, at registration and by the admin API", async () => {
    for (const alg of ["none", "HS256", "PS256", 7]) {
      await expectRegistrationError(await register(webClient({ userinfo_signed_response_alg: alg })),
        "invalid_client_metadata", "userinfo_signed_response_alg_unsupported");
      const res = await call("/admin/clients", { method: "POST", headers: admin, body: JSON.stringify(webClient({ userinfo_signed_response_alg: alg })) });
      await expectError(res, 400, "invalid_client_metadata", "userinfo_signed_response_alg_unsupported");
    }
  });

  it("the admin API sets it (ES256) and the client reads it back", async () => {
    const client = await oidcClient({ userinfo_signed_response_alg: "ES256" });
    const read = await call(`/admin/clients/${client.client_id}`, { headers: admin });
    expect(((await read.json()) as Record<string, unknown>).userinfo_signed_response_alg).toBe("ES256");
  });
});

describe("OIDC Core §5.3.2: the signed UserInfo response", () => {
  it("oidcc-userinfo-rs256: a JWS with iss, aud = client_id, sub equal to the ID token's, and the scope's claims", async () => {
    const client = await oidcClient({ userinfo_signed_response_alg: "RS256" });
    const user = await person({ claims: { name: "Ada Lovelace" } });
    const { tokens, idToken } = await signIn(new Browser(), client, user, { scope: "openid profile email" });
    const claims = await signedUserinfo(await userinfo(tokens.access_token), client.client_id, "RS256");
    expect(claims.sub).toBe(idToken.sub);
    expect(claims.aud).toBe(client.client_id);
    expect(claims.name).toBe("Ada Lovelace");
    expect(claims.email).toBe(user.email);
  });

  it("each alg we sign with (ES256, EdDSA) is honoured; POST with the token in the body is signed too", async () => {
    for (const alg of ["ES256", "EdDSA"]) {
      const client = await oidcClient({ userinfo_signed_response_alg: alg });
      const { tokens } = await signIn(new Browser(), client, await person());
      await signedUserinfo(await userinfo(tokens.access_token), client.client_id, alg);
      const posted = await call("/userinfo", {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `access_token=${tokens.access_token}`,
      });
      await signedUserinfo(posted, client.client_id, alg);
    }
  });

  it("unsigned stays the default: a client without the member gets JSON", async () => {
    const client = await oidcClient();
    const { tokens } = await signIn(new Browser(), client, await person());
    const res = await userinfo(tokens.access_token);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await res.json()) as Record<string, unknown>).iss).toBeUndefined();
  });

  it("errors stay RFC 6750 JSON challenges for a signing client", async () => {
    await oidcClient({ userinfo_signed_response_alg: "RS256" });
    const res = await userinfo("not-a-token");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("www-authenticate")).toMatch(/invalid_token/);
  });
});
