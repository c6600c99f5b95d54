import { describe, expect, it } from "vitest";
import { expectError } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectErrorPage, expectRedirectError, expectTokenResponse,
  oidcClient, person, redeem,
} from "./oidc-helpers";

/**
 * RFC 6749 §3.1.2 (redirection endpoint), §3.1.2.4 and §4.1.2.1 (never redirect before client_id
 * and redirect_uri are validated), RFC 9700 §2.1 / §4.1.3 (exact string matching), OIDC Core
 * §3.1.2.1 (redirect_uri required). Anything but an exact match is an HTML error page: no Location
 * header, nothing sent to the URI in the request.
 */

const send = (query: string) => new Browser().fetch(`/authorize?${query}`);
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe("RFC 9700 §4.1.3 exact matching of redirect_uri (conformance: oidcc-redirect-uri-query-*)", () => {
  const cases: [string, string[], string][] = [
    ["an added query", [REDIRECT_URI], `${REDIRECT_URI}?x=1`],
    ["an empty query", [REDIRECT_URI], `${REDIRECT_URI}?`],
    ["a query value mismatch", ["https://rp.example/cb?tenant=a"], "https://rp.example/cb?tenant=b"],
    ["an added query parameter", ["https://rp.example/cb?tenant=a"], "https://rp.example/cb?tenant=a&x=1"],
    ["a missing query", ["https://rp.example/cb?tenant=a"], "https://rp.example/cb"],
    ["a trailing slash", [REDIRECT_URI], `${REDIRECT_URI}/`],
    ["a missing trailing slash", ["https://rp.example/"], "https://rp.example"],
    ["the host in another case", [REDIRECT_URI], "https://RP.example/callback"],
    ["the path in another case", [REDIRECT_URI], "https://rp.example/Callback"],
    ["the scheme in another case", [REDIRECT_URI], "HTTPS://rp.example/callback"],
    ["the default port spelled out", [REDIRECT_URI], "https://rp.example:443/callback"],
    ["http instead of https", [REDIRECT_URI], "http://rp.example/callback"],
    ["a percent-encoded path", [REDIRECT_URI], "https://rp.example/%63allback"],
    ["userinfo", [REDIRECT_URI], "https://user@rp.example/callback"],
    ["a fragment", [REDIRECT_URI], `${REDIRECT_URI}#x`],
    ["a subdomain", [REDIRECT_URI], "https://evil.rp.example/callback"],
    ["a prefix of the registered path", ["https://rp.example/callback/deeper"], REDIRECT_URI],
    ["a longer path", [REDIRECT_URI], `${REDIRECT_URI}/deeper`],
    ["whitespace around it", [REDIRECT_URI], ` ${REDIRECT_URI}`],
    ["not a URI", [REDIRECT_URI], "callback"],
  ];
  for (const [what, registered, requested] of cases) {
    it(`${what} → error page`, async () => {
      const client = await oidcClient({ redirect_uris: registered });
      const { params } = await codeRequest(client.client_id, { redirect_uri: requested });
      await expectErrorPage(await send(q(params)), "authorize_redirect_uri_mismatch");
    });
  }

  it("the registered URI with its query works; the response parameters are added to that query", async () => {
    const redirectUri = "https://rp.example/cb?tenant=a";
    const client = await oidcClient({ redirect_uris: [redirectUri, REDIRECT_URI] });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { redirect_uri: redirectUri });
    const { response } = await authorize(new Browser(), params, user);
    const back = clientRedirect(response, redirectUri);
    expect(back.get("tenant")).toBe("a");
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier, { redirect_uri: redirectUri }));
  });

  it("each of several registered URIs matches itself", async () => {
    const uris = ["https://rp.example/one", "https://rp.example/two"];
    const client = await oidcClient({ redirect_uris: uris });
    for (const uri of uris) {
      const { params } = await codeRequest(client.client_id, { redirect_uri: uri, prompt: "none" });
      expectRedirectError(await send(q(params)), "login_required", { state: params.state, redirectUri: uri });
    }
  });
});

describe("RFC 6749 §3.1.2.3 / OIDC Core §3.1.2.1 a missing redirect_uri", () => {
  it("an OpenID request without redirect_uri → error page, even with one URI registered", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    delete params.redirect_uri;
    await expectErrorPage(await send(q(params)), "authorize_missing_redirect_uri");
  });

  it("a plain OAuth request without redirect_uri and one URI registered → that URI; the token request then omits it too", async () => {
    const client = await oidcClient({ plain_oauth2: true, scope: "api" });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { scope: "api" });
    delete params.redirect_uri;
    delete params.nonce;
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    const code = back.get("code")!;
    // §4.1.3: redirect_uri is required at the token endpoint only if it was in the authorization request.
    const tokens = await expectTokenResponse(await redeem(client, code, verifier, { redirect_uri: "" }));
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.scope).toBe("api");
  });

  it("a plain OAuth request without redirect_uri and two URIs registered → error page", async () => {
    const client = await oidcClient({ plain_oauth2: true, scope: "api", redirect_uris: ["https://rp.example/one", "https://rp.example/two"] });
    const { params } = await codeRequest(client.client_id, { scope: "api" });
    delete params.redirect_uri;
    await expectErrorPage(await send(q(params)), "authorize_missing_redirect_uri");
  });

  it("a client with no redirect URI registered → error page", async () => {
    const client = await oidcClient({ redirect_uris: [] });
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await send(q(params)), "authorize_redirect_uri_mismatch");
  });
});

describe("RFC 6749 §4.1.2.1 client_id problems are pages, never redirects", () => {
  it("missing client_id → error page", async () => {
    const { params } = await codeRequest("x");
    delete params.client_id;
    await expectErrorPage(await send(q(params)), "authorize_missing_client_id");
  });

  it("unknown client_id → error page (nothing redirected to the URI in the request)", async () => {
    const { params } = await codeRequest("no-such-client-for-sure");
    await expectErrorPage(await send(q(params)), "authorize_unknown_client");
  });

  it("client_id sent twice → error page, even if both values are the same (RFC 6749 §3.1)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await send(`${q(params)}&client_id=${encodeURIComponent(client.client_id)}`), "authorize_duplicate_parameter");
  });

  it("redirect_uri sent twice → error page", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await send(`${q(params)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`), "authorize_duplicate_parameter");
  });

  it("an empty client_id counts as missing (RFC 6749 §3.1: no value = omitted)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await send(q({ ...params, client_id: "" })), "authorize_missing_client_id");
  });
});

describe("RFC 6749 §4.1.3 redirect_uri at the token endpoint", () => {
  async function issued(extra: Record<string, string> = {}) {
    const client = await oidcClient({ redirect_uris: [REDIRECT_URI, "https://rp.example/other"] });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, extra);
    const back = clientRedirect((await authorize(new Browser(), params, user)).response, params.redirect_uri);
    return { client, code: back.get("code")!, verifier };
  }

  it("another registered URI than the authorization request's → invalid_grant; the right one still works", async () => {
    const { client, code, verifier } = await issued();
    await expectError(await redeem(client, code, verifier, { redirect_uri: "https://rp.example/other" }), 400, "invalid_grant", "redirect_uri_mismatch");
    await expectTokenResponse(await redeem(client, code, verifier));
  });

  it("omitted although the authorization request had it → invalid_grant", async () => {
    const { client, code, verifier } = await issued();
    await expectError(await redeem(client, code, verifier, { redirect_uri: "" }), 400, "invalid_grant", "redirect_uri_mismatch");
  });

  it("a near miss (trailing slash) → invalid_grant", async () => {
    const { client, code, verifier } = await issued();
    await expectError(await redeem(client, code, verifier, { redirect_uri: `${REDIRECT_URI}/` }), 400, "invalid_grant", "redirect_uri_mismatch");
  });
});
