import { decodeProtectedHeader } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FULL_CLAIMS, ISSUER, basic, call, expectError, tokenRequest } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectTokenResponse, frozenClock, oidcClient,
  person, redeem, signIn, verifyIdToken,
} from "./oidc-helpers";

/**
 * The OpenID Foundation "Basic OP" plan (oidcc-basic-certification-test-plan, see
 * ../shared/reference/conformance-modules.md): the modules about the code itself, the token
 * response, the ID token and UserInfo. Each test names its module; the checks are the ones the
 * module makes. Every client authenticates with client_secret_basic unless the module says otherwise.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function userinfoJson(res: Response): Promise<Record<string, unknown>> {
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return res.json();
}

/** The whole flow for a scope: a new browser, sign-in, consent, code, tokens; returns UserInfo. */
async function claimsFor(scope: string) {
  const client = await oidcClient();
  const user = await person({ claims: FULL_CLAIMS });
  const { tokens, idToken } = await signIn(new Browser(), client, user, { scope });
  const info = await userinfoJson(await call("/userinfo", { headers: bearer(tokens.access_token) }));
  expect(info.sub).toBe(idToken.sub);
  return { info, user, tokens };
}

afterEach(() => vi.useRealTimers());

describe("oidcc-server: the happy path", () => {
  it("discovery and JWKS, state and iss echoed, token response, ID token checks, UserInfo", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.issuer).toBe(ISSUER);
    for (const endpoint of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"]) {
      expect(String(meta[endpoint])).toMatch(/^https:\/\//);
    }
    const jwks = (await (await call(new URL(String(meta.jwks_uri)).pathname)).json()) as { keys: { kid?: string }[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.every((k) => typeof k.kid === "string")).toBe(true);

    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const { params, verifier } = await codeRequest(client.client_id);
    const { response, pages } = await authorize(browser, params, user);
    expect(pages).toEqual(["login", "consent"]);
    const back = clientRedirect(response);
    expect(back.get("state")).toBe(params.state);
    expect(back.get("iss")).toBe(ISSUER);
    const code = back.get("code")!;
    expect(code).toMatch(/^[\x20-\x7e]+$/);
    expect(response.headers.get("cache-control")).toBe("no-store");

    const tokens = await expectTokenResponse(await redeem(client, code, verifier));
    expect(tokens.scope).toBe("openid");
    expect(tokens.refresh_token).toBeUndefined();
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
    expect(idToken.sub).toBe(user.id);

    const info = await userinfoJson(await call("/userinfo", { headers: bearer(tokens.access_token) }));
    expect(info).toEqual({ sub: user.id });
  });
});

describe("oidcc-idtoken-signature and oidcc-idtoken-unsigned", () => {
  it("a client that asks for no alg gets RS256 ID tokens signed with a /jwks key (kid)", async () => {
    const client = await oidcClient();
    const { tokens } = await signIn(new Browser(), client, await person());
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: "RS256", typ: "JWT" });
  });

  for (const alg of ["ES256", "EdDSA"]) {
    it(`a client registered with id_token_signed_response_alg=${alg} gets ${alg} ID tokens (at_hash with that alg's hash)`, async () => {
      const client = await oidcClient({ id_token_signed_response_alg: alg });
      const user = await person();
      const browser = new Browser();
      const { params, verifier } = await codeRequest(client.client_id);
      const back = clientRedirect((await authorize(browser, params, user)).response);
      const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
      const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { alg, nonce: params.nonce, accessToken: tokens.access_token });
      expect(idToken.sub).toBe(user.id);
    });
  }

  it("alg none is neither advertised nor accepted at registration (so oidcc-idtoken-unsigned is skipped)", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, string[]>;
    expect(meta.id_token_signing_alg_values_supported).toContain("RS256");
    expect(meta.id_token_signing_alg_values_supported).not.toContain("none");
    const res = await call("/admin/clients/unsigned-id-tokens", {
      method: "PUT",
      headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], id_token_signed_response_alg: "none" }),
    });
    await expectError(res, 400, "invalid_client_metadata");
  });
});

describe("oidcc-userinfo-get, -post-header, -post-body", () => {
  it("GET with the Authorization header, POST with the header, POST with access_token in the body: same claims, sub = the ID token's", async () => {
    const client = await oidcClient();
    const user = await person({ claims: { name: "Grace Hopper" } });
    const { tokens, idToken } = await signIn(new Browser(), client, user, { scope: "openid profile" });
    const expected = { sub: idToken.sub, name: "Grace Hopper" };
    const get = await userinfoJson(await call("/userinfo", { headers: bearer(tokens.access_token) }));
    const postHeader = await userinfoJson(await call("/userinfo", { method: "POST", headers: bearer(tokens.access_token) }));
    const postBody = await userinfoJson(
      await call("/userinfo", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ access_token: tokens.access_token }).toString(),
      }),
    );
    for (const info of [get, postHeader, postBody]) expect(info).toMatchObject(expected);
  });
});

describe("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", () => {
  it("no nonce in the request → success, and no nonce in the ID token", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    delete params.nonce;
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: undefined, accessToken: tokens.access_token });
  });
});

describe("oidcc-scope-profile, -email, -address, -phone, -all (claims from UserInfo in the code flow)", () => {
  it("oidcc-scope-profile: the profile claims", async () => {
    const { info } = await claimsFor("openid profile");
    expect(info).toMatchObject({ name: "Ada Lovelace", given_name: "Ada", family_name: "Lovelace", birthdate: "1815-12-10", locale: "en-GB" });
    expect(typeof info.updated_at).toBe("number");
    expect(info).not.toHaveProperty("email");
    expect(info).not.toHaveProperty("address");
  });

  it("oidcc-scope-email: email and email_verified", async () => {
    const { info, user } = await claimsFor("openid email");
    expect(info).toEqual({ sub: user.id, email: user.email, email_verified: true });
  });

  it("oidcc-scope-address: the address object", async () => {
    const { info, user } = await claimsFor("openid address");
    expect(info).toEqual({ sub: user.id, address: FULL_CLAIMS.address });
  });

  it("oidcc-scope-phone: phone_number and phone_number_verified", async () => {
    const { info, user } = await claimsFor("openid phone");
    expect(info).toEqual({ sub: user.id, phone_number: FULL_CLAIMS.phone_number, phone_number_verified: true });
  });

  it("oidcc-scope-all: every standard claim", async () => {
    const { info, user, tokens } = await claimsFor("openid profile email address phone");
    const { address, ...flat } = FULL_CLAIMS;
    expect(info).toMatchObject({ ...flat, address, sub: user.id, email: user.email, email_verified: true });
    expect(tokens.scope!.split(" ").sort()).toEqual(["address", "email", "openid", "phone", "profile"]);
  });
});

describe("oidcc-alternate-happy-flow", () => {
  it("scope values in reverse order and the parameters reordered → success (RFC 6749 §3.3)", async () => {
    const client = await oidcClient();
    const user = await person({ claims: { name: "Ada" } });
    const { params, verifier } = await codeRequest(client.client_id, { scope: "email profile openid" });
    const reordered = Object.fromEntries(Object.entries(params).reverse());
    expect(Object.keys(reordered)[0]).not.toBe(Object.keys(params)[0]);
    const back = clientRedirect((await authorize(new Browser(), reordered, user)).response);
    expect(back.get("state")).toBe(params.state);
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
    const info = await userinfoJson(await call("/userinfo", { headers: bearer(tokens.access_token) }));
    expect(info).toMatchObject({ name: "Ada", email: user.email });
  });
});

describe("oidcc-codereuse and oidcc-codereuse-30seconds (RFC 6749 §4.1.2, §10.5)", () => {
  it("oidcc-codereuse: a second redemption at once → 400 invalid_grant", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const code = clientRedirect((await authorize(new Browser(), params, user)).response).get("code")!;
    await expectTokenResponse(await redeem(client, code, verifier));
    await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "code_reused");
  });

  it("oidcc-codereuse-30seconds: 30 s later → invalid_grant, and the first access token stops working at UserInfo", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const { params, verifier } = await codeRequest(client.client_id);
    const code = clientRedirect((await authorize(new Browser(), params, user)).response).get("code")!;
    const first = await expectTokenResponse(await redeem(client, code, verifier));
    expect((await call("/userinfo", { headers: bearer(first.access_token) })).status).toBe(200);

    clock.advance(30);
    const again = await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "code_reused");
    expect(again.error_description).toMatch(/revoked/);
    const after = await call("/userinfo", { headers: bearer(first.access_token) });
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect(((await after.json()) as Record<string, string>).error_code).toBe("token_revoked");
  });
});

describe("oidcc-ensure-post-request-succeeds", () => {
  it("the authorization request as a form POST (OIDC Core §3.1.2.1) → 303 to the client with a code that redeems", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id);
    const { response, pages } = await authorize(browser, params, user, { method: "POST" });
    expect(pages).toEqual([]);
    expect(response.status).toBe(303);
    const back = clientRedirect(response);
    expect(back.get("state")).toBe(params.state);
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce });
  });

  it("a POST that needs sign-in goes through the pages like a GET", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const { response, pages } = await authorize(new Browser(), params, user, { method: "POST" });
    expect(pages).toEqual(["login", "consent"]);
    const back = clientRedirect(response);
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  });
});

describe("oidcc-server-client-secret-post", () => {
  it("the happy path with client_id and client_secret in the token request body", async () => {
    const client = await oidcClient({ token_endpoint_auth_method: "client_secret_post" });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    const tokens = await expectTokenResponse(
      await tokenRequest({
        grant_type: "authorization_code",
        code: back.get("code")!,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        client_id: client.client_id,
        client_secret: client.client_secret!,
      }),
    );
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
    expect(idToken.sub).toBe(user.id);
  });

  it("a client_secret_post client may not use Basic instead (its registered method only)", async () => {
    const client = await oidcClient({ token_endpoint_auth_method: "client_secret_post" });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    await expectError(await redeem(client, back.get("code")!, verifier), 401, "invalid_client");
  });
});

describe("oidcc-refresh-token (the refresh grant comes with issue 4)", () => {
  it("offline_access with prompt=consent → a refresh_token is issued; without offline_access none is", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const plain = await signIn(browser, client, user);
    expect(plain.tokens.refresh_token).toBeUndefined();

    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid offline_access", prompt: "consent" });
    const { response, pages } = await authorize(browser, params, user);
    expect(pages).toEqual(["consent"]);
    const tokens = await expectTokenResponse(await redeem(client, clientRedirect(response).get("code")!, verifier));
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(tokens.scope!.split(" ").sort()).toEqual(["offline_access", "openid"]);

    // Another client cannot get anything for it (today: no refresh grant at all; issue 4: invalid_grant).
    const other = await oidcClient();
    const res = await tokenRequest(
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token! },
      { authorization: basic(other.client_id, other.client_secret!) },
    );
    expect(res.status).toBe(400);
    expect(["invalid_grant", "unsupported_grant_type", "unauthorized_client"]).toContain(((await res.json()) as Record<string, string>).error);
  });
});

describe("oidcc-ensure-request-with-valid-pkce-succeeds", () => {
  it("a confidential client with S256 PKCE → success", async () => {
    const client = await oidcClient();
    expect(client.client_secret).toBeTruthy();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    expect(params.code_challenge_method).toBe("S256");
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  });

  it("a public client (token_endpoint_auth_method none) with S256 PKCE → success, client_id in the body", async () => {
    const client = await oidcClient({ token_endpoint_auth_method: "none" });
    expect(client.client_secret).toBeUndefined();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier, { client_id: client.client_id }));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
  });
});
