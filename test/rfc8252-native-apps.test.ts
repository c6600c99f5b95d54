import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectError, uniqueId } from "./helpers";
import {
  Browser, authorize, clientRedirect, codeRequest, expectErrorPage, expectFormPost, expectTokenResponse, oidcClient, person,
  redeemAsRegistered, verifyIdToken, workerWithEnv,
} from "./oidc-helpers";

/**
 * RFC 8252 (OAuth 2.0 for Native Apps) §7: private-use URI schemes (§7.1) and loopback interface
 * redirection (§7.3: any port, chosen at request time), for clients registered with
 * application_type=native; web clients keep exact matching (RFC 9700 §2.1, §4.1.3).
 */

/** A native public client (PKCE, no secret) with these redirect URIs. */
const nativeClient = (redirectUris: string[]) =>
  oidcClient({ application_type: "native", token_endpoint_auth_method: "none", redirect_uris: redirectUris });

/** A full flow to `redirectUri`; returns the Location the browser is sent to and the tokens. */
async function flowTo(client: { client_id: string; token_endpoint_auth_method?: unknown }, redirectUri: string, extra: Record<string, string> = {}) {
  const user = await person();
  const { params, verifier } = await codeRequest(client.client_id, { redirect_uri: redirectUri, ...extra });
  const { response } = await authorize(new Browser(), params, user);
  const back = clientRedirect(response, redirectUri);
  expect(back.get("state")).toBe(params.state);
  return { back, verifier, params, location: response.headers.get("location")! };
}

const firstResponse = (params: Record<string, string>) => new Browser().fetch(`/authorize?${new URLSearchParams(params)}`);

describe("RFC 8252 §7.3 loopback interface redirection", () => {
  for (const host of ["127.0.0.1", "[::1]", "localhost"]) {
    it(`http://${host} registered without a port: any port at request time; the token request repeats that exact URI`, async () => {
      const client = await nativeClient([`http://${host}/cb`]);
      const requested = `http://${host}:51004/cb`;
      const { back, verifier, params, location } = await flowTo(client, requested);
      expect(location.startsWith(`${requested}?`)).toBe(true);
      const tokens = await expectTokenResponse(await redeemAsRegistered(client, back.get("code")!, verifier, { redirect_uri: requested }));
      await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce });
    });
  }

  it("a port registered explicitly does not pin it: another port matches too", async () => {
    const client = await nativeClient(["http://127.0.0.1:8080/cb"]);
    const { location } = await flowTo(client, "http://127.0.0.1:9090/cb");
    expect(location.startsWith("http://127.0.0.1:9090/cb?")).toBe(true);
  });

  it("the exact registered URI (no port) works as is", async () => {
    const client = await nativeClient(["http://127.0.0.1/cb"]);
    await flowTo(client, "http://127.0.0.1/cb");
  });

  it("the code is bound to the port used: the token request with another port → invalid_grant", async () => {
    const client = await nativeClient(["http://127.0.0.1/cb"]);
    const { back, verifier } = await flowTo(client, "http://127.0.0.1:51004/cb");
    await expectError(
      await redeemAsRegistered(client, back.get("code")!, verifier, { redirect_uri: "http://127.0.0.1:51005/cb" }),
      400, "invalid_grant", "redirect_uri_mismatch",
    );
  });

  for (const [what, requested] of [
    ["another path", "http://127.0.0.1:5000/other"],
    ["a path with a trailing slash", "http://127.0.0.1:5000/cb/"],
    ["an added query", "http://127.0.0.1:5000/cb?x=1"],
    ["another loopback host", "http://[::1]:5000/cb"],
    ["https instead of http", "https://127.0.0.1:5000/cb"],
    ["a non-loopback host", "http://127.0.0.2:5000/cb"],
    ["a fragment", "http://127.0.0.1:5000/cb#x"],
  ] as const) {
    it(`only the port may differ: ${what} → error page`, async () => {
      const client = await nativeClient(["http://127.0.0.1/cb"]);
      const { params } = await codeRequest(client.client_id, { redirect_uri: requested });
      await expectErrorPage(await firstResponse(params), "authorize_redirect_uri_mismatch");
    });
  }

  // RFC 8252 §7.3 lets only the port vary: spellings that parse to the same host and path do not match.
  for (const [what, requested] of [
    ["userinfo", "http://evil@127.0.0.1:5000/cb"],
    ["a shortened IPv4 address", "http://127.1:5000/cb"],
    ["dot segments", "http://127.0.0.1:5000/x/../cb"],
    ["a tab inside the path (the URL parser drops it)", "http://127.0.0.1:5000/c\tb"],
  ] as const) {
    it(`only the port may differ: ${what} → error page`, async () => {
      const client = await nativeClient(["http://127.0.0.1/cb"]);
      const { params } = await codeRequest(client.client_id, { redirect_uri: requested });
      await expectErrorPage(await firstResponse(params), "authorize_redirect_uri_mismatch");
    });
  }
});

describe("RFC 8252 §7.1 private-use URI scheme redirection", () => {
  it("com.example.app:/cb works: the code is sent to the app's scheme, and redeems", async () => {
    const redirectUri = `com.example.app${uniqueId("").replace(/[^a-z0-9]/g, "")}:/cb`;
    const client = await nativeClient([redirectUri]);
    const { back, verifier, params, location } = await flowTo(client, redirectUri);
    expect(location.startsWith(`${redirectUri}?code=`)).toBe(true);
    const tokens = await expectTokenResponse(await redeemAsRegistered(client, back.get("code")!, verifier, { redirect_uri: redirectUri }));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce });
  });

  it("the sign-in and consent pages allow the app's scheme as a form-action (the POST ends in a redirect to it)", async () => {
    const client = await nativeClient(["com.example.app:/cb"]);
    const { params } = await codeRequest(client.client_id, { redirect_uri: "com.example.app:/cb" });
    const browser = new Browser();
    const login = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    expect(login.headers.get("content-security-policy")).toMatch(/form-action 'self' com\.example\.app:(;|$)/);
  });

  it("form_post to a private-use scheme: the page's form targets it and the CSP allows the scheme", async () => {
    const client = await nativeClient(["com.example.app:/cb"]);
    const user = await person();
    const { params } = await codeRequest(client.client_id, { redirect_uri: "com.example.app:/cb", response_mode: "form_post" });
    const { response } = await authorize(new Browser(), params, user);
    const fields = await expectFormPost(response, "com.example.app:/cb");
    expect(fields.get("code")).toBeTruthy();
  });

  it("another scheme or path → error page", async () => {
    const client = await nativeClient(["com.example.app:/cb"]);
    for (const requested of ["com.example.evil:/cb", "com.example.app:/other", "com.example.app://cb"]) {
      const { params } = await codeRequest(client.client_id, { redirect_uri: requested });
      await expectErrorPage(await firstResponse(params), "authorize_redirect_uri_mismatch");
    }
  });
});

describe("web clients get no leniency", () => {
  it("an https redirect URI with a port: another port → error page", async () => {
    const client = await oidcClient({ redirect_uris: ["https://rp.example:8443/cb"] });
    const { params } = await codeRequest(client.client_id, { redirect_uri: "https://rp.example:9443/cb" });
    await expectErrorPage(await firstResponse(params), "authorize_redirect_uri_mismatch");
  });

  it("a web client's loopback http URI (allowed only for development) matches exactly: no other port", async () => {
    const dev = workerWithEnv({ ALLOW_INSECURE_CLIENT_URIS: "true" });
    const clientId = uniqueId("web-loopback");
    const put = await dev(`/admin/clients/${clientId}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["authorization_code"], redirect_uris: ["http://127.0.0.1:3000/cb"] }),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const { params } = await codeRequest(clientId, { redirect_uri: "http://127.0.0.1:4000/cb" });
    await expectErrorPage(await firstResponse(params), "authorize_redirect_uri_mismatch");
    const exact = await firstResponse({ ...params, redirect_uri: "http://127.0.0.1:3000/cb" });
    expect(exact.status).toBe(302);
    expect(new URL(exact.headers.get("location")!, "https://latchkey.test").pathname).toBe("/login");
  });

  it("without the development setting a web client cannot register a loopback http URI at all", async () => {
    const prod = workerWithEnv({ ALLOW_INSECURE_CLIENT_URIS: "false" });
    const res = await prod(`/admin/clients/${uniqueId("web-http")}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["authorization_code"], redirect_uris: ["http://127.0.0.1:3000/cb"] }),
    });
    await expectError(res, 400, "invalid_redirect_uri");
  });
});
