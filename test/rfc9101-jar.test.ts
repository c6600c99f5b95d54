import { afterEach, describe, expect, it, vi } from "vitest";
import { ISSUER, call, expectError, keyPair, nowSeconds } from "./helpers";
import { serveRpDocuments } from "./rfc7591-helpers";
import { Browser, authorize, codeRequest, expectErrorPage, expectTokenResponse, person, verifyIdToken } from "./oidc-helpers";
import { PAR_ENDPOINT, keyClient, push, redeemWith, requestObject, secretClient, unsignedRequestObject, type TestClient } from "./par-jar-helpers";

/**
 * RFC 9101 (JAR) and OIDC Core §6 request objects by value: `request`, signed with the client's
 * registered key and checked by the one JWT verifier (typ, alg, iss, aud, exp, nbf), at the
 * authorization endpoint and inside pushed requests (RFC 9126 §3); unsigned only where registered;
 * which parameters count (RFC 9101 §6.3, OIDC Core §6.3.3); metadata and registration.
 */

const authorizeRequest = (browser: Browser, clientId: string, request: string, extra: Record<string, string> = {}) =>
  browser.fetch(`/authorize?${new URLSearchParams({ client_id: clientId, request, ...extra })}`);

/** The code-flow parameters as request-object claims. */
async function flowClaims(client: TestClient, extra: Record<string, unknown> = {}) {
  const { params, verifier } = await codeRequest(client.client_id);
  return { claims: { ...params, ...extra } as Record<string, unknown>, verifier, params };
}

describe("RFC 9101 §4–§6 / OIDC Core §6.1: request objects by value at the authorization endpoint", () => {
  it("a signed JAR (typ oauth-authz-req+jwt) completes the code flow; only its parameters count (§6.3)", async () => {
    const client = await keyClient();
    const { claims, verifier } = await flowClaims(client);
    const jwt = await requestObject(client, claims);
    // Outside parameters are ignored under JAR: a different state and scope outside change nothing.
    const { params: back } = await authorize(new Browser(), { client_id: client.client_id, request: jwt, state: "outside", scope: "openid profile" }, await person());
    expect(back.get("state")).toBe(claims.state);
    const tokens = await expectTokenResponse(await redeemWith(client, back.get("code")!, verifier));
    expect(tokens.scope).toBe("openid");
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: claims.nonce as string, accessToken: tokens.access_token });
    expect(idToken.nonce).toBe(claims.nonce);
  });

  it("OIDC Core §6.3.3: an OIDC request object (typ JWT) — its values win, parameters only outside are used", async () => {
    const client = await keyClient();
    const { claims } = await flowClaims(client);
    const { state } = claims;
    delete claims.state;
    const jwt = await requestObject(client, { ...claims, max_age: 3600 }, { header: { typ: "JWT" } });
    const { params: back } = await authorize(new Browser(), { client_id: client.client_id, request: jwt, state: state as string, nonce: "outside" }, await person());
    expect(back.get("state")).toBe(state);
    expect(back.get("code")).toBeTruthy();
  });

  it("OIDC Core §6.1: an OIDC object's response_type and the one outside must match", async () => {
    const client = await keyClient();
    const { claims } = await flowClaims(client);
    const jwt = await requestObject(client, claims, { header: { typ: "JWT" } });
    const html = await expectErrorPage(await authorizeRequest(new Browser(), client.client_id, jwt, { response_type: "token" }), "request_object_invalid");
    expect(html).toContain("response_type outside the request object must match");
  });

  it("invalid request objects are invalid_request_object (shown as a page: the redirect URI is inside)", async () => {
    const client = await keyClient();
    const other = await keyPair("ES256");
    const now = nowSeconds();
    const cases: [string, Record<string, unknown>, { header?: Record<string, unknown>; key?: CryptoKey }][] = [
      ["aud must be the issuer", { aud: "https://other.example" }, {}],
      ["iss must be the client_id", { iss: "someone-else" }, {}],
      ["has expired", { exp: now - 60 }, {}],
      ["needs an exp claim", { exp: undefined }, {}],
      ["is not valid yet", { nbf: now + 120 }, {}],
      ["nbf is more than 60 minutes old", { nbf: now - 3700, exp: now + 60 }, {}],
      ["lives too long", { nbf: now, exp: now + 3700 }, {}],
      ["client_id must be the client_id of the request", { client_id: "someone-else" }, {}],
      ["signature does not verify", {}, { key: other.privateKey }],
      ["typ must be oauth-authz-req+jwt or JWT", {}, { header: { typ: "at+jwt" } }],
      ["must not contain request or request_uri", { request_uri: "https://rp.example/r" }, {}],
    ];
    for (const [why, changes, opts] of cases) {
      const { claims } = await flowClaims(client, changes);
      const jwt = await requestObject(client, claims, opts);
      const html = await expectErrorPage(await authorizeRequest(new Browser(), client.client_id, jwt), "request_object_invalid");
      expect(html, why).toContain(why);
    }
    await expectErrorPage(await authorizeRequest(new Browser(), client.client_id, "not-a-jwt"), "request_object_invalid");
  });

  it("alg: the registered request_object_signing_alg is required; none is refused unless registered", async () => {
    const client = await keyClient({ request_object_signing_alg: "RS256" });
    const { claims } = await flowClaims(client);
    await expectErrorPage(await authorizeRequest(new Browser(), client.client_id, await requestObject(client, claims)), "request_object_invalid");
    const plain = await keyClient();
    await expectErrorPage(await authorizeRequest(new Browser(), plain.client_id, unsignedRequestObject(plain, claims)), "request_object_invalid");
  });

  it("OIDC Core §6.1: an unsigned request object (alg none) from a client that registered request_object_signing_alg none", async () => {
    const client = await secretClient({ request_object_signing_alg: "none" });
    const { claims } = await flowClaims(client);
    const { params: back } = await authorize(new Browser(), { client_id: client.client_id, request: unsignedRequestObject(client, claims) }, await person());
    expect(back.get("state")).toBe(claims.state);
    expect(back.get("code")).toBeTruthy();
    // Never for a client that must push its requests (RFC 9126 §2.3, FAPI 2.0).
    const strict = await secretClient({ request_object_signing_alg: "none", require_pushed_authorization_requests: true });
    await expectError(await push(strict, { request: unsignedRequestObject(strict, { ...claims, client_id: strict.client_id }) }), 400, "invalid_request_object", "request_object_invalid");
  });

});

describe("RFC 9101 §5.2 / OIDC Core §6.2: request objects by reference (request_uri)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a registered request_uri is fetched through the outbound policy (Accept the JAR media type) and its object used", async () => {
    const client = await keyClient({ request_uris: ["https://rp.example/request.jwt"] });
    const { claims } = await flowClaims(client);
    const jwt = await requestObject(client, claims);
    const accepts: string[] = [];
    const fetched = serveRpDocuments({
      "https://rp.example/request.jwt": (req) => {
        accepts.push(req.headers.get("accept") ?? "");
        return new Response(jwt, { headers: { "content-type": "application/oauth-authz-req+jwt" } });
      },
    });
    // A fragment (OIDC Core §6.2: the content's hash) is not part of what is fetched or matched.
    const { params: back } = await authorize(new Browser(), { client_id: client.client_id, request_uri: "https://rp.example/request.jwt#abc" }, await person());
    expect(back.get("state")).toBe(claims.state);
    expect(back.get("code")).toBeTruthy();
    expect(fetched).toEqual(["https://rp.example/request.jwt"]);
    expect(accepts[0]).toContain("application/oauth-authz-req+jwt");
  });

  it("an unregistered request_uri is invalid_request_uri, and nothing is fetched", async () => {
    const client = await keyClient({ request_uris: ["https://rp.example/request.jwt"] });
    const fetched = serveRpDocuments({});
    const { params } = await codeRequest(client.client_id, { request_uri: "https://rp.example/other.jwt" });
    await expectErrorPage(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "request_uri_not_registered");
    expect(fetched).toEqual([]);
  });

  it("a failed fetch (404) or an invalid object at the request_uri is invalid_request_uri", async () => {
    const client = await keyClient({ request_uris: ["https://rp.example/missing.jwt", "https://rp.example/bad.jwt"] });
    const { claims } = await flowClaims(client, { aud: "https://other.example" });
    const bad = await requestObject(client, claims);
    serveRpDocuments({ "https://rp.example/bad.jwt": () => new Response(bad) });
    const send = (uri: string) => new Browser().fetch(`/authorize?${new URLSearchParams({ client_id: client.client_id, request_uri: uri })}`);
    await expectErrorPage(await send("https://rp.example/missing.jwt"), "request_uri_fetch_failed");
    await expectErrorPage(await send("https://rp.example/bad.jwt"), "request_uri_object_invalid");
  });

  it("a private host is never registered as a request_uri (RFC 9101 §10.4: the outbound policy's URL rule)", async () => {
    await expect(keyClient({ request_uris: ["https://169.254.169.254/latest/meta-data/"] })).rejects.toThrow(/client_uri_forbidden_host/);
    await expect(keyClient({ request_uris: ["http://rp.example/request.jwt"] })).rejects.toThrow(/request_uris_malformed/);
  });
});

describe("RFC 9126 §3: request objects inside pushed requests", () => {
  it("the full PAR + JAR code flow with private_key_jwt: push a signed request object, authorize with client_id + request_uri, redeem", async () => {
    const client = await keyClient();
    const { claims, verifier } = await flowClaims(client);
    const res = await push(client, { request: await requestObject(client, claims) });
    expect(res.status).toBe(201);
    const { request_uri: requestUri } = (await res.json()) as { request_uri: string };
    const { params: back, pages } = await authorize(new Browser(), { client_id: client.client_id, request_uri: requestUri }, await person());
    expect(pages).toEqual(["login", "consent"]);
    expect(back.get("state")).toBe(claims.state);
    expect(back.get("iss")).toBe(ISSUER);
    const tokens = await expectTokenResponse(await redeemWith(client, back.get("code")!, verifier));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: claims.nonce as string, accessToken: tokens.access_token });
  });

  it("an invalid request object in a pushed request is a JSON invalid_request_object (bad aud, expired, bad signature)", async () => {
    const client = await keyClient();
    const other = await keyPair("ES256");
    for (const [changes, opts] of [[{ aud: PAR_ENDPOINT.replace("/par", "/nope") }, {}], [{ exp: nowSeconds() - 60 }, {}], [{}, { key: other.privateKey }]] as const) {
      const { claims } = await flowClaims(client, changes);
      await expectError(await push(client, { request: await requestObject(client, claims, opts) }), 400, "invalid_request_object", "request_object_invalid");
    }
  });

  it("the object's parameters are validated like any pushed request's: a bad redirect_uri inside is invalid_request", async () => {
    const client = await keyClient();
    const { claims } = await flowClaims(client, { redirect_uri: "https://evil.example/cb" });
    await expectError(await push(client, { request: await requestObject(client, claims) }), 400, "invalid_request", "authorize_redirect_uri_mismatch");
  });
});

describe("metadata and registration", () => {
  it("discovery: request_parameter_supported, request_uri_parameter_supported, require_request_uri_registration, request_object_signing_alg_values_supported", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.request_parameter_supported).toBe(true);
    expect(metadata.request_uri_parameter_supported).toBe(true);
    expect(metadata.require_request_uri_registration).toBe(true);
    expect(metadata.request_object_signing_alg_values_supported).toEqual(expect.arrayContaining(["ES256", "RS256", "PS256", "none"]));
    expect(metadata.request_object_signing_alg_values_supported).not.toContain("HS256");
  });

  it("OIDC Registration §2: request_object_signing_alg is kept; a symmetric or unknown alg is refused", async () => {
    const client = await secretClient({ request_object_signing_alg: "ES256" });
    expect((client as Record<string, unknown>).request_object_signing_alg).toBe("ES256");
    await expect(secretClient({ request_object_signing_alg: "HS256" })).rejects.toThrow(/request_object_signing_alg_unsupported/);
  });

});
