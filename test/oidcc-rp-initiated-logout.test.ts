import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import {
  POST_LOGOUT_URI, expectPostLogoutRedirect, expectSessionCookieCleared, expectSignOutQuestion, expectSignedOutPage, logoutPath,
  promptNone, signedIn,
} from "./logout-helpers";
import { expectErrorPage } from "./oidc-helpers";
import { registered, webClient } from "./rfc7591-helpers";

/**
 * The conformance suite's oidcc-rp-initiated-logout-certification-test-plan (client_registration=
 * dynamic_client): each module registers a client with a post_logout_redirect_uri, runs a normal
 * authorization flow, sends the browser to the end_session_endpoint with its variation, and —
 * where the user is logged out — checks with prompt=none that the session is gone (an error that
 * requires a user interface, login_required). The suite sends a 128-character state.
 * Rule-by-rule tests are test/oidc-rp-initiated-logout.test.ts.
 */

const STATE = "s".repeat(120) + "-state-1";

/** A dynamically registered client (the suite's variant) and a person signed in to it. */
async function authorizationFlow() {
  const client = await registered(webClient({ post_logout_redirect_uris: [POST_LOGOUT_URI] }));
  return signedIn({ client });
}

describe("oidcc-rp-initiated-logout-discovery-endpoint-verification", () => {
  it("end_session_endpoint is advertised, https", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(String(metadata.end_session_endpoint)).toMatch(/^https:\/\/[^?#]+$/);
  });
});

describe("oidcc-rp-initiated-logout", () => {
  it("id_token_hint, post_logout_redirect_uri, state → redirected there with exactly state; prompt=none then → login_required", async () => {
    const { browser, client, idToken } = await authorizationFlow();
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: STATE }));
    expectPostLogoutRedirect(res, STATE);
    expect([...new URL(res.headers.get("location")!).searchParams.keys()]).toEqual(["state"]);
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });
});

describe("oidcc-rp-initiated-logout-no-state", () => {
  it("without state → redirected to the URI with no parameters; logged out", async () => {
    const { browser, client, idToken } = await authorizationFlow();
    expectPostLogoutRedirect(await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI })));
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });
});

describe("oidcc-rp-initiated-logout-no-post-logout-redirect-uri", () => {
  it("id_token_hint and state only → logged out, the 'you are signed out' page, no redirect", async () => {
    const { browser, client, idToken } = await authorizationFlow();
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, state: STATE }));
    expectSessionCookieCleared(res);
    await expectSignedOutPage(res);
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });
});

describe("oidcc-rp-initiated-logout-no-params, oidcc-rp-initiated-logout-only-state", () => {
  for (const params of [{}, { state: STATE }] as Record<string, string>[]) {
    it(`${Object.keys(params).length ? "only state" : "no parameters"} → the person is asked, then signed out (page, no redirect)`, async () => {
      const { browser, client } = await authorizationFlow();
      const question = await expectSignOutQuestion(await browser.fetch(logoutPath(params)));
      const done = await browser.submit(question, { decision: "sign_out" }, "/logout/confirm");
      expectSessionCookieCleared(done);
      await expectSignedOutPage(done);
      expect(await promptNone(browser, client.client_id)).toBe("login_required");
    });
  }
});

describe("error page instead of a redirect to the client", () => {
  const cases: [module: string, code: string, params: (flow: Awaited<ReturnType<typeof authorizationFlow>>) => Promise<Record<string, string>> | Record<string, string>][] = [
    ["oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", "logout_redirect_uri_not_registered",
      ({ idToken }) => ({ id_token_hint: idToken, post_logout_redirect_uri: "https://rp.example/not-registered", state: STATE })],
    ["oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri", "logout_redirect_uri_not_registered",
      ({ idToken }) => ({ id_token_hint: idToken, post_logout_redirect_uri: `${POST_LOGOUT_URI}?foo=bar`, state: STATE })],
    ["oidcc-rp-initiated-logout-no-id-token-hint", "logout_redirect_uri_without_client",
      () => ({ post_logout_redirect_uri: POST_LOGOUT_URI, state: STATE })],
    ["oidcc-rp-initiated-logout-modified-id-token-hint", "logout_id_token_hint_invalid",
      ({ idToken }) => ({ id_token_hint: `${idToken.slice(0, -6)}${idToken.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA"}`, post_logout_redirect_uri: POST_LOGOUT_URI, state: STATE })],
    ["oidcc-rp-initiated-logout-bad-id-token-hint", "logout_id_token_hint_invalid",
      async ({ claims, client }) => ({
        // The suite signs a fake ID token with HS256 under a key derived from the client secret.
        id_token_hint: await new SignJWT({ ...claims, iat: Math.floor(Date.now() / 1000) })
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .sign(new TextEncoder().encode(client.client_secret!)),
        post_logout_redirect_uri: POST_LOGOUT_URI,
        state: STATE,
      })],
  ];

  it.each(cases)("%s → error page (%s); the session is untouched", async (_module, code, params) => {
    const flow = await authorizationFlow();
    await expectErrorPage(await flow.browser.fetch(logoutPath(await params(flow))), code);
    expect(await promptNone(flow.browser, flow.client.client_id)).toBe("code");
  });
});
