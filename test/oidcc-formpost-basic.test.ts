import { afterEach, describe, expect, it, vi } from "vitest";
import { ISSUER, call, expectError, tokenRequest } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, codeRequest, expectErrorPage, expectFormPost, expectTokenResponse, frozenClock, oidcClient, person, redeem,
  signIn, verifyIdToken,
} from "./oidc-helpers";

/**
 * The "Form Post OP" plan (oidcc-formpost-basic-certification-test-plan): the Basic OP modules
 * with response_mode=form_post (OAuth 2.0 Form Post Response Mode). Every authorization response,
 * success or error, is an auto-submitting HTML form POSTed to the redirect URI: nothing in a URL.
 */

afterEach(() => vi.useRealTimers());

const FORM_POST = { response_mode: "form_post" };
const ERROR_MEMBERS = ["error", "error_description", "iss", "state"];

function expectNoCodeInUrls(res: Response) {
  expect(res.headers.get("location")).toBeNull();
}

async function formPostError(res: Response, error: string, state: string | undefined) {
  const fields = await expectFormPost(res);
  expect(fields.get("error")).toBe(error);
  expect(fields.get("iss")).toBe(ISSUER);
  expect(fields.get("state") ?? undefined).toBe(state);
  expect(fields.has("code")).toBe(false);
  for (const name of fields.keys()) expect(ERROR_MEMBERS).toContain(name);
  return fields;
}

describe("oidcc-server (form_post)", () => {
  it("the callback is a form POST to the redirect URI carrying code, state and iss; the code redeems", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, FORM_POST);
    const { response, pages } = await authorize(new Browser(), params, user);
    expect(pages).toEqual(["login", "consent"]);
    expectNoCodeInUrls(response);
    const fields = await expectFormPost(response);
    expect([...fields.keys()].sort()).toEqual(["code", "iss", "state"]);
    expect(fields.get("state")).toBe(params.state);
    expect(fields.get("iss")).toBe(ISSUER);
    const tokens = await expectTokenResponse(await redeem(client, fields.get("code")!, verifier));
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
    expect(idToken.sub).toBe(user.id);
    expect((await call("/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
  });

  it("state and iss with markup characters are attribute-escaped, and come back intact", async () => {
    const client = await oidcClient();
    const user = await person();
    const state = `"><script>alert(1)</script>&amp;`;
    const { params, verifier } = await codeRequest(client.client_id, { ...FORM_POST, state });
    const { response } = await authorize(new Browser(), params, user);
    const html = await response.clone().text();
    expect(html).not.toContain("<script>alert(1)");
    const fields = await expectFormPost(response);
    expect(fields.get("state")).toBe(state);
    await expectTokenResponse(await redeem(client, fields.get("code")!, verifier));
  });

  it("a redirect URI with a query: the form's action keeps it (escaped in HTML)", async () => {
    const redirectUri = "https://rp.example/cb?tenant=a&x=1";
    const client = await oidcClient({ redirect_uris: [redirectUri] });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { ...FORM_POST, redirect_uri: redirectUri });
    const { response } = await authorize(new Browser(), params, user);
    expect(await response.clone().text()).toContain('action="https://rp.example/cb?tenant=a&amp;x=1"');
    const fields = await expectFormPost(response, redirectUri);
    await expectTokenResponse(await redeem(client, fields.get("code")!, verifier, { redirect_uri: redirectUri }));
  });
});

describe("oidcc-ensure-post-request-succeeds, oidcc-server-client-secret-post (form_post)", () => {
  it("an authorization request sent as POST answers with the form_post page (200), not a redirect", async () => {
    const client = await oidcClient({ token_endpoint_auth_method: "client_secret_post" });
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id, FORM_POST);
    const { response, pages } = await authorize(browser, params, user, { method: "POST" });
    expect(pages).toEqual([]);
    const fields = await expectFormPost(response);
    expect(fields.get("state")).toBe(params.state);
    const tokens = await expectTokenResponse(
      await tokenRequest({
        grant_type: "authorization_code",
        code: fields.get("code")!,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        client_id: client.client_id,
        client_secret: client.client_secret!,
      }),
    );
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
  });
});

describe("prompt, max_age and nonce modules (form_post)", () => {
  it("oidcc-prompt-none-not-logged-in: login_required is form-posted with state", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { ...FORM_POST, prompt: "none" });
    await formPostError(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "login_required", params.state);
  });

  it("oidcc-prompt-none-logged-in: a code form-posted at once; same sub and auth_time", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const first = await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id, { ...FORM_POST, prompt: "none" });
    const fields = await expectFormPost(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    const tokens = await expectTokenResponse(await redeem(client, fields.get("code")!, verifier));
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce });
    expect(idToken.sub).toBe(first.idToken.sub);
    expect(idToken.auth_time).toBe(first.idToken.auth_time);
  });

  it("oidcc-prompt-login / oidcc-max-age-1: sign-in again, later auth_time, response form-posted", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const browser = new Browser();
    const first = await signIn(browser, client, user);
    for (const extra of [{ prompt: "login" }, { max_age: "1" }] as Record<string, string>[]) {
      clock.advance(2);
      const { params, verifier } = await codeRequest(client.client_id, { ...FORM_POST, ...extra });
      const { response, pages } = await authorize(browser, params, user);
      expect(pages).toEqual(["login"]);
      const fields = await expectFormPost(response);
      const tokens = await expectTokenResponse(await redeem(client, fields.get("code")!, verifier));
      const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce });
      expect(idToken.auth_time as number).toBeGreaterThan(first.idToken.auth_time as number);
    }
  });

  it("oidcc-ensure-request-without-nonce-succeeds-for-code-flow: no nonce in the ID token", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, FORM_POST);
    delete params.nonce;
    const fields = await expectFormPost((await authorize(new Browser(), params, user)).response);
    const tokens = await expectTokenResponse(await redeem(client, fields.get("code")!, verifier));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: undefined });
  });
});

describe("error modules (form_post)", () => {
  it("oidcc-response-type-missing: invalid_request form-posted", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, FORM_POST);
    delete params.response_type;
    await formPostError(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "invalid_request", params.state);
  });

  it("a refused request object or request_uri is an error page, never form-posted: the redirect URI may be the object's (RFC 9101 §6.3, OIDC Core §6.3)", async () => {
    const client = await oidcClient();
    for (const [name, value, code] of [
      ["request", "eyJhbGciOiJub25lIn0.e30.", "request_object_invalid"],
      ["request_uri", "https://rp.example/request.jwt", "request_uri_not_registered"],
    ] as const) {
      const { params } = await codeRequest(client.client_id, { ...FORM_POST, [name]: value });
      const html = await expectErrorPage(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), code);
      expect(html).not.toContain("<form method=\"post\" action=\"https://");
    }
  });

  it("consent denied: access_denied form-posted (from the consent page's POST)", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params } = await codeRequest(client.client_id, FORM_POST);
    const { response, pages } = await authorize(new Browser(), params, user, { consent: "deny" });
    expect(pages).toEqual(["login", "consent"]);
    await formPostError(response, "access_denied", params.state);
  });

  it("oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri is an error page, never a form to it", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { ...FORM_POST, redirect_uri: "https://attacker.example/cb" });
    const res = await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).not.toContain("attacker.example");
    expect(html).not.toContain("<form");
  });

  it("oidcc-codereuse: a form-posted code is single use like any other", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, FORM_POST);
    const fields = await expectFormPost((await authorize(new Browser(), params, user)).response);
    await expectTokenResponse(await redeem(client, fields.get("code")!, verifier));
    await expectError(await redeem(client, fields.get("code")!, verifier), 400, "invalid_grant", "code_reused");
  });
});
