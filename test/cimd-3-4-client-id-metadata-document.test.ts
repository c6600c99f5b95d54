import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearClientCache } from "../src/clients/store";
import { call, createClient, expectError, tokenRequest } from "./helpers";
import { REDIRECT_URI, expectErrorPage, workerWithEnv, Browser } from "./oidc-helpers";
import { FORBIDDEN_HOSTS } from "./outbound-helpers";
import { authorizeRequest, documentFor, documentUrl, json, serveDocuments } from "./cimd-helpers";

/**
 * draft-ietf-oauth-client-id-metadata-document-00 §3 (the client identifier URL), §4 (fetching
 * it), §4.1 (the document's contents) and §5 (discovery), through the endpoints: a refused
 * client_id is an error page at the authorization endpoint (never a redirect, §4.3) naming the
 * rule, and invalid_client at the token endpoint.
 */

beforeEach(() => clearClientCache());
afterEach(() => vi.restoreAllMocks());

/** The authorization endpoint's error page for `clientId`, naming `code` (the rule broken). */
async function expectRefusedAtAuthorize(clientId: string, code: string): Promise<string> {
  const { res } = await authorizeRequest(clientId);
  const html = await expectErrorPage(res, "authorize_unusable_client");
  expect(html).toContain(code);
  return html;
}

/** The token endpoint's answer for a public client `clientId` (a bogus code: invalid_grant once the client is resolved). */
const redeemBogus = (clientId: string) =>
  tokenRequest({ grant_type: "authorization_code", code: "bogus", client_id: clientId, redirect_uri: REDIRECT_URI, code_verifier: "v".repeat(43) });

describe("draft-ietf-oauth-client-id-metadata-document-00 §3: the client identifier URL", () => {
  it("https with a path is a document: resolved, the sign-in starts", async () => {
    const url = documentUrl();
    const fetched = serveDocuments({ [url]: () => json(documentFor(url)) });
    const { res } = await authorizeRequest(url);
    expect(res.status, await res.clone().text()).toBe(302);
    expect(new URL(res.headers.get("location")!, "https://x").pathname).toBe("/login");
    expect(fetched).toEqual([url]);
  });

  it("each rule broken is refused before any fetch: not https, no path, dot segments, fragment, user name, not in normal form", async () => {
    const fetched = serveDocuments({});
    const cases: [string, string][] = [
      ["http://app.example/client.json", "must use https"],
      ["https://app.example", "must have a path"],
      ["https://app.example/", "must have a path"],
      ["https://app.example/a/../client.json", ". or .. path segments"],
      ["https://app.example/./client.json", ". or .. path segments"],
      ["https://app.example/client.json#frag", "must not contain a fragment"],
      ["https://user:pw@app.example/client.json", "user name or password"],
      ["https://APP.example/client.json", "normal form"],
      ["https://app.example:443/client.json", "normal form"],
    ];
    for (const [clientId, why] of cases) {
      const html = await expectRefusedAtAuthorize(clientId, "client_id_metadata_document_url_invalid");
      expect(html, clientId).toContain(why);
      const body = await expectError(await redeemBogus(clientId), 401, "invalid_client", "client_id_metadata_document_url_invalid");
      expect(body.error_description, clientId).toContain(why);
    }
    expect(fetched).toEqual([]);
  });

  it("§6.5: a client_id URL at a non-public host is never fetched (client_id_metadata_document_forbidden)", async () => {
    const fetched = serveDocuments({});
    // The outbound policy's list, where the URL is in normal form (the others are refused by §3 first).
    const forbidden = FORBIDDEN_HOSTS.map((host) => `${host}oauth/client.json`).filter((id) => new URL(id).href === id);
    expect(forbidden.length).toBeGreaterThan(20);
    for (const clientId of forbidden) await expectRefusedAtAuthorize(clientId, "client_id_metadata_document_forbidden");
    expect(fetched).toEqual([]);
  });

  it("local development (ALLOW_INSECURE_CLIENT_URIS=true): an http URL on a loopback host is a document too, and nothing else http", async () => {
    const local = workerWithEnv({ ALLOW_INSECURE_CLIENT_URIS: "true" });
    const url = `http://localhost:8788/oauth/${crypto.randomUUID()}.json`;
    const fetched = serveDocuments({ [url]: () => json(documentFor(url, { redirect_uris: ["http://localhost:8788/callback"] })) });
    const { res } = await authorizeRequest(url, { redirect_uri: "http://localhost:8788/callback" }, new Browser(local));
    expect(res.status, await res.clone().text()).toBe(302);
    expect(fetched).toEqual([url]);
    const remote = await authorizeRequest("http://app.example/oauth/client.json", {}, new Browser(local));
    expect(await expectErrorPage(remote.res, "authorize_unusable_client")).toContain("must use https");
    clearClientCache(); // the isolate's cache holds what the other setting resolved
    await expectRefusedAtAuthorize(url, "client_id_metadata_document_url_invalid");
  });

  it("an id that does not start like a URL stays an unknown client; a registered URL client_id wins over the document (pre-registration)", async () => {
    const fetched = serveDocuments({});
    await expectErrorPage((await authorizeRequest("no-such-client")).res, "authorize_unknown_client");
    const url = documentUrl();
    await createClient({ client_id: url, grant_types: ["authorization_code"], redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" });
    const { res } = await authorizeRequest(url);
    expect(res.status).toBe(302);
    expect(fetched).toEqual([]);
  });
});

describe("draft-ietf-oauth-client-id-metadata-document-00 §4, §4.3, §6.6: fetching the document", () => {
  it("anything but 200 is an error, and the request is aborted: 404, 500, 204", async () => {
    for (const status of [404, 500, 204]) {
      const url = documentUrl();
      serveDocuments({ [url]: () => new Response(status === 204 ? null : "no", { status }) });
      await expectRefusedAtAuthorize(url, "client_id_metadata_document_unreachable");
      vi.restoreAllMocks();
    }
  });

  it("a redirect is not followed (§4: MUST NOT follow redirects)", async () => {
    const url = documentUrl();
    const elsewhere = documentUrl("cdn.example");
    const fetched = serveDocuments({
      [url]: () => new Response(null, { status: 302, headers: { location: elsewhere } }),
      [elsewhere]: () => json(documentFor(url)),
    });
    const html = await expectRefusedAtAuthorize(url, "client_id_metadata_document_unreachable");
    expect(html).toContain("redirect");
    expect(fetched).toEqual([url]);
  });

  it("a document over 5 KiB is refused (§6.6), declared or streamed", async () => {
    const url = documentUrl();
    const big = documentFor(url, { x_padding: "x".repeat(6 * 1024) });
    serveDocuments({ [url]: () => json(big) });
    await expectRefusedAtAuthorize(url, "client_id_metadata_document_unreachable");
    vi.restoreAllMocks();
    const streamed = documentUrl();
    serveDocuments({
      [streamed]: () => new Response(new ReadableStream({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(1024)));
          controller.close();
        },
      })),
    });
    await expectRefusedAtAuthorize(streamed, "client_id_metadata_document_unreachable");
  });

  it("a document that does not answer within the deadline is refused (the outbound policy's timeout)", async () => {
    const url = documentUrl();
    serveDocuments({ [url]: (request) => new Promise<Response>((_, reject) => request.signal.addEventListener("abort", () => reject(new Error("aborted")))) });
    const html = await expectRefusedAtAuthorize(url, "client_id_metadata_document_unreachable");
    expect(html).toContain("took longer than");
  });

  it("errors are not cached (§4.4): after a failure the next lookup fetches again", async () => {
    const url = documentUrl();
    let fail = true;
    const fetched = serveDocuments({ [url]: () => (fail ? new Response("down", { status: 503 }) : json(documentFor(url))) });
    await expectRefusedAtAuthorize(url, "client_id_metadata_document_unreachable");
    fail = false;
    expect((await authorizeRequest(url)).res.status).toBe(302);
    expect(fetched).toEqual([url, url]);
  });
});

describe("draft-ietf-oauth-client-id-metadata-document-00 §4.1, §6.2: the document's contents", () => {
  /** Serves `doc` at a new URL and expects the lookup refused with the invalid-document code and the inner rule. */
  async function expectInvalid(doc: (url: string) => unknown, code: string, inner?: string) {
    const url = documentUrl();
    serveDocuments({ [url]: () => json(doc(url)) });
    const html = await expectRefusedAtAuthorize(url, code);
    if (inner !== undefined) expect(html).toContain(inner);
    const body = await expectError(await redeemBogus(url), 401, "invalid_client", code);
    if (inner !== undefined) expect(body.error_description).toContain(inner);
    vi.restoreAllMocks();
    clearClientCache();
  }

  it("client_id must be the document's URL exactly (simple string comparison)", async () => {
    await expectInvalid((url) => documentFor(url, { client_id: url.toUpperCase() }), "client_id_metadata_document_client_id_mismatch");
    await expectInvalid((url) => documentFor(url, { client_id: `${url}?` }), "client_id_metadata_document_client_id_mismatch");
    await expectInvalid((url) => documentFor(url, { client_id: undefined }), "client_id_metadata_document_client_id_mismatch");
  });

  it("it must be a JSON object", async () => {
    await expectInvalid(() => [1, 2], "client_id_metadata_document_not_json");
    await expectInvalid(() => "a string", "client_id_metadata_document_not_json");
    const url = documentUrl();
    serveDocuments({ [url]: () => new Response("<html>not json</html>", { headers: { "content-type": "text/html" } }) });
    await expectRefusedAtAuthorize(url, "client_id_metadata_document_not_json");
  });

  it("no shared secret: client_secret_basic, client_secret_post, client_secret_jwt, tls_client_auth are refused; so are client_secret members", async () => {
    for (const method of ["client_secret_basic", "client_secret_post", "client_secret_jwt", "tls_client_auth"]) {
      await expectInvalid((url) => documentFor(url, { token_endpoint_auth_method: method }), "client_id_metadata_document_invalid",
        "client_id_metadata_document_auth_method");
    }
    await expectInvalid((url) => documentFor(url, { client_secret: "s".repeat(64) }), "client_id_metadata_document_invalid", "client_id_metadata_document_secret");
    await expectInvalid((url) => documentFor(url, { client_secret_expires_at: 0 }), "client_id_metadata_document_invalid", "client_id_metadata_document_secret");
  });

  it("the one metadata validator's rules apply: redirect URIs, keys for private_key_jwt, scope", async () => {
    await expectInvalid((url) => documentFor(url, { redirect_uris: ["http://app.example/cb"] }), "client_id_metadata_document_invalid", "redirect_uri_web_not_https");
    await expectInvalid((url) => documentFor(url, { redirect_uris: ["https://app.example/cb#x"] }), "client_id_metadata_document_invalid", "redirect_uri_fragment");
    await expectInvalid((url) => documentFor(url, { redirect_uris: [] }), "client_id_metadata_document_invalid", "redirect_uris_required");
    await expectInvalid((url) => documentFor(url, { redirect_uris: undefined }), "client_id_metadata_document_invalid", "redirect_uris_required");
    await expectInvalid((url) => documentFor(url, { token_endpoint_auth_method: "private_key_jwt" }), "client_id_metadata_document_invalid", "jwks_required");
    await expectInvalid((url) => documentFor(url, { scope: "openid admin" }), "client_id_metadata_document_invalid", "scope_not_allowed");
    await expectInvalid((url) => documentFor(url, { grant_types: ["client_credentials"], response_types: [] }), "client_id_metadata_document_invalid",
      "auth_method_grant_inconsistent");
  });

  it("without token_endpoint_auth_method the client is public (none): MCP's minimal document works", async () => {
    const url = documentUrl();
    serveDocuments({ [url]: () => json({ client_id: url, client_name: "Minimal", redirect_uris: [REDIRECT_URI] }) });
    expect((await authorizeRequest(url)).res.status).toBe(302);
    await expectError(await redeemBogus(url), 400, "invalid_grant");
  });
});

describe("draft-ietf-oauth-client-id-metadata-document-00 §5: authorization server metadata", () => {
  it("client_id_metadata_document_supported is true; with CLIENT_ID_METADATA_DOCUMENTS=false it is false and a URL client_id is unknown", async () => {
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      expect(((await (await call(path)).json()) as Record<string, unknown>).client_id_metadata_document_supported).toBe(true);
    }
    const off = workerWithEnv({ CLIENT_ID_METADATA_DOCUMENTS: "false" });
    expect(((await (await off("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>).client_id_metadata_document_supported).toBe(false);
    const url = documentUrl();
    const fetched = serveDocuments({ [url]: () => json(documentFor(url)) });
    const { res } = await authorizeRequest(url, {}, new Browser(off));
    await expectErrorPage(res, "authorize_unknown_client");
    expect(fetched).toEqual([]);
  });
});
