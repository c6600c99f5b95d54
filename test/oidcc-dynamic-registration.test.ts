import { afterEach, describe, expect, it, vi } from "vitest";
import { JWT_BEARER, assertion, basic, call, keyPair, tokenRequest, type KeyPair } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectErrorPage, expectTokenResponse, person, signIn, verifyIdToken,
} from "./oidc-helpers";
import { expectRegistrationError, manage, register, registered, serveRpDocuments, webClient, type Registration } from "./rfc7591-helpers";

/**
 * The OpenID Foundation "Dynamic OP" plan (oidcc-dynamic-certification-test-plan, see
 * ../shared/reference/conformance-modules.md) and the dynamic_client variant of the Basic plan:
 * every module registers its client at the registration endpoint (201 JSON; client_secret_expires_at
 * when a secret is issued; registration_access_token and registration_client_uri together, https),
 * runs its checks, and cleans up with DELETE registration_client_uri → 204 (RFC 7591 §3.2, RFC 7592
 * §2.3). Each test names its module. Modules that need features Latchkey does not offer (signed
 * UserInfo, request_uri, unsigned ID tokens) are covered by the refusal the suite then sees.
 */

afterEach(() => vi.restoreAllMocks());

/** CallDynamicRegistrationEndpointAndVerifySuccessfulResponse, as the suite checks it. */
async function dynamicClient(metadata: Record<string, unknown>): Promise<Registration> {
  const body = await registered(metadata);
  expect(typeof body.client_id).toBe("string");
  if (body.client_secret !== undefined) expect(body.client_secret_expires_at).toBe(0);
  expect(body.registration_client_uri).toMatch(/^https:\/\//);
  expect(typeof body.registration_access_token).toBe("string");
  return body;
}

/** The suite's cleanup: DELETE the registration → 204 (RFC 7592 §2.3). */
async function cleanup(reg: Registration): Promise<void> {
  const res = await manage("DELETE", reg.registration_client_uri, reg.registration_access_token);
  expect(res.status).toBe(204);
}

/**
 * The browser part of the code flow, then the code redeemed as the client would: `form` (its
 * credentials in the body) and `headers` (Basic) added; the ID token verified for `alg`.
 */
async function codeFlow(reg: Registration, form: Record<string, string>, opts: { headers?: Record<string, string>; alg?: string } = {}) {
  const user = await person();
  const { params, verifier } = await codeRequest(reg.client_id);
  const back = clientRedirect((await authorize(new Browser(), params, user)).response);
  const res = await tokenRequest({ grant_type: "authorization_code", code: back.get("code")!, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...form }, opts.headers);
  const tokens = await expectTokenResponse(res);
  await verifyIdToken(tokens.id_token!, reg.client_id, { nonce: params.nonce, accessToken: tokens.access_token, ...(opts.alg !== undefined && { alg: opts.alg }) });
  return tokens;
}

const jwtAuth = async (clientId: string, key: CryptoKey | Uint8Array, alg: string, kid?: string) => ({
  client_assertion_type: JWT_BEARER,
  client_assertion: await assertion(clientId, key, { alg, ...(kid !== undefined && { header: { kid } }) }),
});

describe("oidcc-server (dynamic_client): register, the happy flow, cleanup", () => {
  it("client_secret_basic (the default method): 201, code flow, ID token, UserInfo, DELETE → 204", async () => {
    const reg = await dynamicClient(webClient());
    expect(reg.token_endpoint_auth_method).toBe("client_secret_basic");
    const { tokens } = await signIn(new Browser(), reg, await person());
    expect((await call("/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
    await cleanup(reg);
  });
});

describe("registration of each client type, then a code flow with it", () => {
  it("client_secret_post (oidcc-server-client-secret-post)", async () => {
    const reg = await dynamicClient(webClient({ token_endpoint_auth_method: "client_secret_post" }));
    await signIn(new Browser(), reg, await person());
    await cleanup(reg);
  });

  it("client_secret_jwt (HS256)", async () => {
    const reg = await dynamicClient(webClient({ token_endpoint_auth_method: "client_secret_jwt", token_endpoint_auth_signing_alg: "HS256" }));
    await codeFlow(reg, await jwtAuth(reg.client_id, new TextEncoder().encode(reg.client_secret!), "HS256"));
    await cleanup(reg);
  });

  it("private_key_jwt with jwks (the Dynamic plan's default; oidcc-ensure-client-assertion-with-iss-aud-succeeds: aud is the issuer)", async () => {
    const key = await keyPair("ES256", "dyn-es256");
    const reg = await dynamicClient(webClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] } }));
    expect(reg).not.toHaveProperty("client_secret");
    await codeFlow(reg, await jwtAuth(reg.client_id, key.privateKey, "ES256", "dyn-es256"));
    await cleanup(reg);
  });

  it("oidcc-registration-jwks-uri: private_key_jwt with keys at the client's jwks_uri", async () => {
    const key: KeyPair = await keyPair("RS256", "dyn-rs256");
    const fetched = serveRpDocuments({ "https://rp.example/jwks.json": () => Response.json({ keys: [key.publicJwk] }) });
    const reg = await dynamicClient(webClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://rp.example/jwks.json" }));
    expect(fetched).toEqual([]); // not fetched at registration, only to verify an assertion
    await codeFlow(reg, await jwtAuth(reg.client_id, key.privateKey, "RS256", "dyn-rs256"));
    expect(fetched).toContain("https://rp.example/jwks.json");
    await cleanup(reg);
  });

  it("a public client (none) with PKCE", async () => {
    const reg = await dynamicClient(webClient({ token_endpoint_auth_method: "none" }));
    expect(reg).not.toHaveProperty("client_secret");
    expect(reg).not.toHaveProperty("client_secret_expires_at");
    await codeFlow(reg, { client_id: reg.client_id });
    await cleanup(reg);
  });

  it("a native app (application_type native, a loopback redirect URI on any port, RFC 8252 §7.3)", async () => {
    const reg = await dynamicClient({ application_type: "native", token_endpoint_auth_method: "none", redirect_uris: ["http://127.0.0.1/callback"] });
    const user = await person();
    const { params } = await codeRequest(reg.client_id, { redirect_uri: "http://127.0.0.1:51234/callback" });
    const back = clientRedirect((await authorize(new Browser(), params, user)).response, "http://127.0.0.1:51234/callback");
    expect(back.get("code")).toEqual(expect.any(String));
    await cleanup(reg);
  });
});

describe("Dynamic plan modules", () => {
  it("oidcc-redirect-uri-regfrag: a redirect URI with a fragment → 400 invalid_redirect_uri", async () => {
    await expectRegistrationError(await register(webClient({ redirect_uris: [`${REDIRECT_URI}#fragment`] })), "invalid_redirect_uri", "redirect_uri_fragment", "redirect_uris");
  });

  it("oidcc-registration-sector-uri: a sector_identifier_uri listing the redirect URI → registered", async () => {
    serveRpDocuments({ "https://rp.example/sector": () => Response.json([REDIRECT_URI]) });
    const reg = await dynamicClient(webClient({ sector_identifier_uri: "https://rp.example/sector" }));
    await cleanup(reg);
  });

  it("oidcc-registration-sector-bad: a sector_identifier_uri not listing it → 400 invalid_client_metadata", async () => {
    serveRpDocuments({ "https://rp.example/sector": () => Response.json(["https://rp.example/other"]) });
    await expectRegistrationError(await register(webClient({ sector_identifier_uri: "https://rp.example/sector" })), "invalid_client_metadata",
      "sector_identifier_uri_missing_redirect_uri");
  });

  for (const [module, member, value] of [
    ["oidcc-registration-logo-uri", "logo_uri", "https://rp.example/logo.png"],
    ["oidcc-registration-policy-uri", "policy_uri", "https://rp.example/privacy"],
    ["oidcc-registration-tos-uri", "tos_uri", "https://rp.example/terms"],
  ] as const) {
    it(`${module}: registered and echoed; the sign-in flow works`, async () => {
      const reg = await dynamicClient(webClient({ [member]: value }));
      expect(reg[member]).toBe(value);
      await signIn(new Browser(), reg, await person());
      await cleanup(reg);
    });

    // These modules ask a tester to see the logo, policy or terms in a screenshot of the sign-in
    // page; the logo loads only because its exact origin is in that response's CSP img-src.
    it(`${module}: the sign-in page shows the ${member}`, async () => {
      const reg = await dynamicClient(webClient({ [member]: value }));
      const { params } = await codeRequest(reg.client_id);
      const browser = new Browser();
      const page = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
      const html = await page.text();
      expect(html).toContain(value);
      const imgSrc = /(?:^|;\s*)img-src ([^;]*)/.exec(page.headers.get("content-security-policy") ?? "")?.[1];
      expect(imgSrc).toBe(member === "logo_uri" ? "'self' data: https://rp.example" : "'self' data:");
      if (member === "logo_uri") expect(html).toMatch(/<img src="https:\/\/rp\.example\/logo\.png"[^>]*referrerpolicy="no-referrer"/);
      await cleanup(reg);
    });
  }

  it("oidcc-ensure-redirect-uri-in-authorization-request: two registered redirect URIs, none in the request → error page", async () => {
    const reg = await dynamicClient(webClient({ redirect_uris: [REDIRECT_URI, "https://rp.example/second"] }));
    const { params } = await codeRequest(reg.client_id);
    delete params.redirect_uri;
    await expectErrorPage(await call(`/authorize?${new URLSearchParams(params)}`), "authorize_missing_redirect_uri");
    await cleanup(reg);
  });

  it("oidcc-redirect-uri-query-OK / -mismatch / -added", async () => {
    const withQuery = `${REDIRECT_URI}?tenant=a`;
    const reg = await dynamicClient(webClient({ redirect_uris: [withQuery] }));
    const user = await person();
    const ok = await codeRequest(reg.client_id, { redirect_uri: withQuery });
    const back = clientRedirect((await authorize(new Browser(), ok.params, user)).response, withQuery);
    expect(back.get("tenant")).toBe("a");
    expect(back.get("code")).toEqual(expect.any(String));
    for (const redirect of [`${REDIRECT_URI}?tenant=b`, `${withQuery}&extra=1`]) {
      const { params } = await codeRequest(reg.client_id, { redirect_uri: redirect });
      await expectErrorPage(await call(`/authorize?${new URLSearchParams(params)}`), "authorize_redirect_uri_mismatch");
    }
    const plain = await dynamicClient(webClient());
    const { params } = await codeRequest(plain.client_id, { redirect_uri: withQuery });
    await expectErrorPage(await call(`/authorize?${new URLSearchParams(params)}`), "authorize_redirect_uri_mismatch");
    await cleanup(reg);
    await cleanup(plain);
  });

  it("oidcc-idtoken-rs256 (and ES256): the registered id_token_signed_response_alg signs the ID token", async () => {
    for (const alg of ["RS256", "ES256", "EdDSA"]) {
      const reg = await dynamicClient(webClient({ id_token_signed_response_alg: alg }));
      await codeFlow(reg, {}, { headers: { authorization: basic(reg.client_id, reg.client_secret!) }, alg });
      await cleanup(reg);
    }
  });

  it("oidcc-idtoken-unsigned: none is not advertised (the module is skipped) and registering it is refused", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as { id_token_signing_alg_values_supported: string[] };
    expect(meta.id_token_signing_alg_values_supported).not.toContain("none");
    await expectRegistrationError(await register(webClient({ id_token_signed_response_alg: "none" })), "invalid_client_metadata", "id_token_signed_response_alg_unsupported");
  });

  it("oidcc-userinfo-rs256: RS256 is advertised and registering for it works (the signed response: test/oidc-core-5.3.2-signed-userinfo.test.ts)", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.userinfo_signing_alg_values_supported).toContain("RS256");
    const reg = await dynamicClient(webClient({ userinfo_signed_response_alg: "RS256" }));
    expect(reg.userinfo_signed_response_alg).toBe("RS256");
    await cleanup(reg);
  });

  it("oidcc-refresh-token (dynamic_client): a client registered for refresh_token refreshes; another client's refresh token → invalid_grant", async () => {
    const reg = await dynamicClient(webClient({ grant_types: ["authorization_code", "refresh_token"] }));
    const other = await dynamicClient(webClient({ grant_types: ["authorization_code", "refresh_token"] }));
    const { tokens } = await signIn(new Browser(), reg, await person(), { scope: "openid offline_access", prompt: "consent" });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const basicAuth = (r: Registration) => ({ authorization: basic(r.client_id, r.client_secret!) });
    await expectTokenResponse(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token! }, basicAuth(reg)));
    const stolen = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token! }, basicAuth(other));
    expect(stolen.status).toBe(400);
    expect(((await stolen.json()) as { error: string }).error).toBe("invalid_grant");
    await cleanup(reg);
    await cleanup(other);
  });
});
