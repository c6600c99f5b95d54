import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearClientCache } from "../src/clients/store";
import { ISSUER, JWT_BEARER, assertion, call, expectError, keyPair, tokenRequest } from "./helpers";
import { Browser, PASSWORD, codeRequest, expectErrorPage, expectTokenResponse, hiddenFields, person, verifyIdToken, workerWithEnv } from "./oidc-helpers";
import { POST_LOGOUT_URI, expectPostLogoutRedirect, logoutPath } from "./logout-helpers";
import { credentials, pushed } from "./par-jar-helpers";
import { authorizeRequest, documentFor, documentUrl, json, revokeWithAssertion, serveDocuments, keyDocument } from "./cimd-helpers";

/**
 * Client ID metadata document clients end to end (draft-ietf-oauth-client-id-metadata-document-00
 * §4.5, §6; MCP authorization 2026-07-28 "Client ID Metadata Documents"): the code flow for a
 * public native client (RFC 8252 §7.3 loopback on any port, only because its document says
 * `application_type: native`) and for a private_key_jwt client with a jwks_uri; the consent page
 * (§6.4: the client_id's host; MCP: the redirect URI's host shown clearly, localhost warned); the
 * operator's trust policy (§6.8), listing and block; grants and their withdrawal per client URL.
 */

beforeEach(() => clearClientCache());
afterEach(() => vi.restoreAllMocks());

const admin = (path: string, init: RequestInit = {}) =>
  call(path, { ...init, headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json", ...init.headers } });

/**
 * The browser part of the code flow, keeping the consent page's HTML: authorization request,
 * sign-in, consent (allow), and the redirect that reached the client.
 */
async function signInAndConsent(params: Record<string, string>, user: { email: string }) {
  const browser = new Browser();
  let res = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
  expect(await res.clone().text()).toContain('action="/login"');
  res = await browser.follow(await browser.submit(res, { email: user.email, password: PASSWORD }, "/login"));
  const consent = await res.text();
  expect(consent).toContain('action="/consent"');
  res = await browser.follow(await browser.submit(consent, { decision: "allow" }, "/consent"));
  expect([302, 303]).toContain(res.status);
  return { consent, location: new URL(res.headers.get("location")!), browser };
}

describe("the code flow with a client ID metadata document client (§4.5: its redirect URIs are the registered ones)", () => {
  it("a public native client: loopback redirect on any port (RFC 8252 §7.3), PKCE, tokens, refresh — the consent page says it is not registered", async () => {
    const url = documentUrl();
    const fetched = serveDocuments({
      [url]: () => json(documentFor(url, { application_type: "native", redirect_uris: ["http://127.0.0.1/callback"] })),
    });
    const user = await person();
    const redirectUri = "http://127.0.0.1:54321/callback";
    const { params, verifier } = await codeRequest(url, { redirect_uri: redirectUri, scope: "openid offline_access" });
    const { consent, location } = await signInAndConsent(params, user);

    expect(consent).toContain("Example MCP Client");
    expect(consent).toMatch(/not registered<\/strong> with this server/);
    expect(consent).toContain("<strong>app.example</strong>");
    expect(consent).toContain("<strong>127.0.0.1:54321</strong>");
    expect(consent).toContain("on your own device");

    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get("iss")).toBe(ISSUER);
    const code = location.searchParams.get("code")!;
    const tokens = await expectTokenResponse(await tokenRequest({
      grant_type: "authorization_code", code, redirect_uri: redirectUri, client_id: url, code_verifier: verifier,
    }));
    await verifyIdToken(tokens.id_token!, url, { nonce: params.nonce, accessToken: tokens.access_token });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await expectTokenResponse(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: url }));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // One fetch served the authorization request, the consent page and both token requests (§4.4).
    expect(fetched).toEqual([url]);
  });

  it("loopback on any port only where the document says native: a web document's http loopback URI is refused; its https URI is matched exactly", async () => {
    const web = documentUrl();
    serveDocuments({ [web]: () => json(documentFor(web, { redirect_uris: ["http://127.0.0.1/callback"] })) });
    const html = await expectErrorPage((await authorizeRequest(web, { redirect_uri: "http://127.0.0.1:5000/callback" })).res, "authorize_unusable_client");
    expect(html).toContain("redirect_uri_web_not_https");
    vi.restoreAllMocks();

    const exact = documentUrl();
    serveDocuments({ [exact]: () => json(documentFor(exact, { redirect_uris: ["https://app.example/callback"] })) });
    await expectErrorPage((await authorizeRequest(exact, { redirect_uri: "https://app.example/callback/other" })).res, "authorize_redirect_uri_mismatch");
    await expectErrorPage((await authorizeRequest(exact, { redirect_uri: "https://app.example:8443/callback" })).res, "authorize_redirect_uri_mismatch");
    expect((await authorizeRequest(exact, { redirect_uri: "https://app.example/callback" })).res.status).toBe(302);
  });

  it("a private_key_jwt client with a jwks_uri (§6.2): the code is redeemed with a client assertion; without one it is refused", async () => {
    const url = documentUrl();
    const jwksUri = `https://app.example/jwks/${crypto.randomUUID()}.json`;
    const key = await keyPair("ES256", "k1");
    const fetched = serveDocuments({
      [url]: () => json(documentFor(url, { token_endpoint_auth_method: "private_key_jwt", jwks_uri: jwksUri, token_endpoint_auth_signing_alg: "ES256" })),
      [jwksUri]: () => json({ keys: [key.publicJwk] }),
    });
    const user = await person();
    const { params, verifier } = await codeRequest(url);
    const { location } = await signInAndConsent(params, user);
    const code = location.searchParams.get("code")!;
    const form = { grant_type: "authorization_code", code, redirect_uri: params.redirect_uri!, code_verifier: verifier };
    await expectError(await tokenRequest({ ...form, client_id: url }), 401, "invalid_client", "missing_client_credentials");
    const tokens = await expectTokenResponse(await tokenRequest({
      ...form, client_assertion_type: JWT_BEARER, client_assertion: await assertion(url, key.privateKey, { header: { kid: "k1" } }),
    }));
    expect(tokens.access_token).toBeTruthy();
    expect(fetched).toEqual([url, jwksUri]);
  });
});

describe("the other endpoints take a document client as a registered one: PAR, introspection, RP-initiated logout", () => {
  it("a private_key_jwt document client pushes its request (RFC 9126), redeems the code, introspects its token (RFC 7662), and is sent to its post_logout_redirect_uri", async () => {
    const url = documentUrl();
    const { key, doc } = await keyDocument(url, "k1", { post_logout_redirect_uris: [POST_LOGOUT_URI] });
    serveDocuments({ [url]: () => json(doc) });
    const client = { client_id: url, key };
    const { requestUri, params, verifier } = await pushed(client);
    const user = await person();
    const { location, browser } = await signInAndConsent({ client_id: url, request_uri: requestUri }, user);
    expect(location.searchParams.get("state")).toBe(params.state);
    const redeem = await credentials(client);
    const tokens = await expectTokenResponse(await tokenRequest({
      grant_type: "authorization_code", code: location.searchParams.get("code")!, redirect_uri: params.redirect_uri!, code_verifier: verifier, ...redeem.form,
    }));
    const inspect = await credentials(client, `${ISSUER}/introspect`);
    const res = await call("/introspect", {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.access_token, ...inspect.form }).toString(),
    });
    expect(await res.json()).toMatchObject({ active: true, client_id: url });
    const logout = await browser.fetch(logoutPath({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI, state: "bye" }));
    expectPostLogoutRedirect(logout, "bye");
  });
});

describe("RFC 9700 §2.6: token-endpoint CORS for a browser client known by its document", () => {
  it("a preflight from the origin of one of its redirect URIs is allowed once the document was resolved; other origins, and a blocked client's, are not", async () => {
    const url = documentUrl();
    const origin = `https://${crypto.randomUUID()}.spa.example`;
    serveDocuments({ [url]: () => json(documentFor(url, { redirect_uris: [`${origin}/callback`] })) });
    const preflight = (from: string) =>
      call("/token", { method: "OPTIONS", headers: { origin: from, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    expect((await preflight(origin)).headers.get("access-control-allow-origin")).toBeNull();
    expect((await authorizeRequest(url, { redirect_uri: `${origin}/callback` })).res.status).toBe(302);
    expect((await preflight(origin)).headers.get("access-control-allow-origin")).toBe(origin);
    expect((await preflight(`${origin}.evil.example`)).headers.get("access-control-allow-origin")).toBeNull();
    expect((await preflight("https://spa.example")).headers.get("access-control-allow-origin")).toBeNull();
    await admin(`/admin/client-metadata-documents/${encodeURIComponent(url)}`, { method: "PATCH", body: JSON.stringify({ blocked: true }) });
    const other = `https://${crypto.randomUUID()}.spa.example`;
    const blocked = documentUrl();
    serveDocuments({ [blocked]: () => json(documentFor(blocked, { redirect_uris: [`${other}/callback`] })) });
    expect((await authorizeRequest(blocked, { redirect_uri: `${other}/callback` })).res.status).toBe(302);
    await admin(`/admin/client-metadata-documents/${encodeURIComponent(blocked)}`, { method: "PATCH", body: JSON.stringify({ blocked: true }) });
    expect((await preflight(other)).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("draft-ietf-oauth-client-id-metadata-document-00 §6.8: the operator's trust policy for client_id hosts", () => {
  it("CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED: only those hosts (*.example: subdomains); others refused without a fetch", async () => {
    const worker = workerWithEnv({ CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED: "*.trusted.example, partner.example" });
    const urls = { other: documentUrl("app.example"), sub: documentUrl("mcp.trusted.example"), exact: documentUrl("partner.example"), apex: documentUrl("trusted.example") };
    const fetched = serveDocuments(Object.fromEntries(Object.values(urls).map((u) => [u, () => json(documentFor(u))])));
    const lookup = async (url: string) => (await authorizeRequest(url, {}, new Browser(worker))).res;
    for (const refused of [urls.other, urls.apex]) {
      expect(await expectErrorPage(await lookup(refused), "authorize_unusable_client")).toContain("client_id_metadata_document_host_not_allowed");
    }
    expect((await lookup(urls.sub)).status).toBe(302);
    expect((await lookup(urls.exact)).status).toBe(302);
    expect(fetched).toEqual([urls.sub, urls.exact]);
  });

  it("CLIENT_ID_METADATA_DOCUMENT_HOSTS_BLOCKED wins over the allow-list", async () => {
    const worker = workerWithEnv({ CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED: "*.trusted.example", CLIENT_ID_METADATA_DOCUMENT_HOSTS_BLOCKED: "bad.trusted.example" });
    const bad = documentUrl("bad.trusted.example");
    const fetched = serveDocuments({ [bad]: () => json(documentFor(bad)) });
    const html = await expectErrorPage((await authorizeRequest(bad, {}, new Browser(worker))).res, "authorize_unusable_client");
    expect(html).toContain("client_id_metadata_document_host_not_allowed");
    expect(fetched).toEqual([]);
  });

  it("a host list that is not host names stops the server (the setting is checked when read)", async () => {
    const worker = workerWithEnv({ CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED: "https://app.example/" });
    expect((await worker("/.well-known/openid-configuration")).status).toBe(500);
  });
});

describe("the operator API for client ID metadata document clients: list, block; grants per client URL", () => {
  it("lists the clients seen (URL, name, first and last seen); blocks one everywhere and unblocks it", async () => {
    const url = documentUrl();
    const { key, doc } = await keyDocument(url, "k1");
    serveDocuments({ [url]: () => json(doc) });
    expect((await revokeWithAssertion(url, key, "k1")).status).toBe(200);

    const one = await admin(`/admin/client-metadata-documents/${encodeURIComponent(url)}`);
    expect(one.status).toBe(200);
    const entry = (await one.json()) as Record<string, unknown>;
    expect(entry).toMatchObject({ client_id: url, host: "app.example", client_name: "Example MCP Client", blocked: false });
    expect(Number.isInteger(entry.first_seen) && Number.isInteger(entry.last_seen) && Number.isInteger(entry.expires_at)).toBe(true);
    const list = (await (await admin("/admin/client-metadata-documents?limit=200")).json()) as { documents: Record<string, unknown>[] };
    expect(list.documents.map((d) => d.client_id)).toContain(url);

    const blocked = await admin(`/admin/client-metadata-documents/${encodeURIComponent(url)}`, { method: "PATCH", body: JSON.stringify({ blocked: true }) });
    expect(((await blocked.json()) as Record<string, unknown>).blocked).toBe(true);
    await expectError(await revokeWithAssertion(url, key, "k1"), 401, "invalid_client", "client_disabled");
    await expectErrorPage((await authorizeRequest(url)).res, "authorize_unknown_client");

    await admin(`/admin/client-metadata-documents/${encodeURIComponent(url)}`, { method: "PATCH", body: JSON.stringify({ blocked: false }) });
    expect((await revokeWithAssertion(url, key, "k1")).status).toBe(200);
  });

  it("a URL never seen can be blocked before its first use: nothing is fetched", async () => {
    const url = documentUrl();
    const fetched = serveDocuments({ [url]: () => json(documentFor(url)) });
    const res = await admin(`/admin/client-metadata-documents/${encodeURIComponent(url)}`, { method: "PATCH", body: JSON.stringify({ blocked: true }) });
    expect(((await res.json()) as Record<string, unknown>)).toMatchObject({ client_id: url, blocked: true, fetched_at: null });
    await expectErrorPage((await authorizeRequest(url)).res, "authorize_unknown_client");
    expect(fetched).toEqual([]);
  });

  it("the API refuses what is not a client ID metadata document URL, and answers 404 for one never seen", async () => {
    await expectError(await admin(`/admin/client-metadata-documents/${encodeURIComponent("http://app.example/c.json")}`, { method: "PATCH", body: JSON.stringify({ blocked: true }) }), 400, "invalid_request");
    expect((await admin(`/admin/client-metadata-documents/${encodeURIComponent(documentUrl())}`)).status).toBe(404);
  });

  it("grants are kept per client URL: the operator lists them with the document's name and withdraws one; its refresh token stops working", async () => {
    const url = documentUrl();
    serveDocuments({ [url]: () => json(documentFor(url)) });
    const user = await person();
    const { params, verifier } = await codeRequest(url, { scope: "openid offline_access" });
    const { location } = await signInAndConsent(params, user);
    const tokens = await expectTokenResponse(await tokenRequest({
      grant_type: "authorization_code", code: location.searchParams.get("code")!, redirect_uri: params.redirect_uri!, client_id: url, code_verifier: verifier,
    }));

    const { grants } = (await (await admin(`/admin/users/${user.id}/grants`)).json()) as { grants: Record<string, unknown>[] };
    expect(grants).toEqual([expect.objectContaining({ client_id: url, client_name: "Example MCP Client" })]);
    expect((await admin(`/admin/users/${user.id}/grants/${encodeURIComponent(url)}`, { method: "DELETE" })).status).toBe(204);
    await expectError(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: url }), 400, "invalid_grant");
    expect(((await (await admin(`/admin/users/${user.id}/grants`)).json()) as { grants: unknown[] }).grants).toEqual([]);
  });

  it("the person's account page lists the grant by the document's name, and Revoke withdraws it by the client URL", async () => {
    const url = documentUrl();
    serveDocuments({ [url]: () => json(documentFor(url, { client_name: "Agent From Elsewhere" })) });
    const user = await person();
    const { params, verifier } = await codeRequest(url, { scope: "openid offline_access" });
    const { location, browser } = await signInAndConsent(params, user);
    const tokens = await expectTokenResponse(await tokenRequest({
      grant_type: "authorization_code", code: location.searchParams.get("code")!, redirect_uri: params.redirect_uri!, client_id: url, code_verifier: verifier,
    }));
    const page = await (await browser.fetch("/account")).text();
    expect(page).toContain("Agent From Elsewhere");
    const form = page.slice(page.indexOf('action="/account/revoke"'));
    const body = new URLSearchParams({ ...hiddenFields(form.slice(0, form.indexOf("</form>"))), client_id: url });
    const res = await browser.fetch("/account/revoke", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
    expect(res.headers.get("location")).toBe("/account?notice=revoked");
    await expectError(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: url }), 400, "invalid_grant");
  });
});
