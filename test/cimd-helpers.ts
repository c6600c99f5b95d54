import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { metadataDocumentClientStore } from "../src/clients/metadata-document";
import { d1ClientStore } from "../src/clients/store";
import { configFrom } from "../src/config";
import type { Env } from "../src/env";
import { ISSUER, assertion, call, keyPair, uniqueId, type KeyPair } from "./helpers";
import { Browser, REDIRECT_URI, codeRequest } from "./oidc-helpers";

/**
 * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document-00) in tests: the
 * documents are served from the test through the Worker's own `fetch` (one isolate), each URL
 * unique per test so the isolate's client cache and the D1 table start empty for it.
 */

/** A fresh client_id URL at `host` (a public name the outbound policy fetches). */
export const documentUrl = (host = "app.example") => `https://${host}/oauth/${uniqueId("client")}.json`;

/** A document for `url`: a public client with the tests' redirect URI; `extra` changes or adds members (undefined removes). */
export function documentFor(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    client_id: url, client_name: "Example MCP Client", redirect_uris: [REDIRECT_URI],
    grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none", ...extra,
  };
  for (const k of Object.keys(doc)) if (doc[k] === undefined) delete doc[k];
  return doc;
}

export type Serve = (request: Request) => Response | Promise<Response>;

/** A JSON answer, 200, with `headers` (e.g. cache-control). */
export const json = (body: unknown, headers: Record<string, string> = {}): Response =>
  Response.json(body, { headers: { "cache-control": "max-age=600", ...headers } });

/**
 * Serves `documents` (by URL) to the Worker's outbound fetches; any other URL answers 404. Returns
 * the list of URLs fetched, in order. Replace an entry in the map to change what a URL serves.
 */
export function serveDocuments(documents: Record<string, Serve>): string[] {
  const fetched: string[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    fetched.push(request.url);
    const serve = documents[request.url];
    return serve ? serve(request) : new Response("not found", { status: 404 });
  });
  return fetched;
}

/** The document store as src/services.ts builds it, at a chosen `now` (caching tests). */
export function documentStore(now: number, overrides: Partial<Env> = {}) {
  return metadataDocumentClientStore(d1ClientStore(env.DB), { db: env.DB, config: configFrom({ ...env, ...overrides }), now });
}

/** GET /authorize for `clientId` with the standard code-flow parameters. */
export async function authorizeRequest(clientId: string, extra: Record<string, string> = {}, browser = new Browser()) {
  const { params, verifier } = await codeRequest(clientId, extra);
  return { res: await browser.fetch(`/authorize?${new URLSearchParams(params)}`), params, verifier };
}

/** A private_key_jwt document client: its key pair (kid k1 unless given) and the document with its jwks. */
export async function keyDocument(url: string, kid = "k1", extra: Record<string, unknown> = {}): Promise<{ key: KeyPair; doc: Record<string, unknown> }> {
  const key = await keyPair("ES256", kid);
  return { key, doc: documentFor(url, { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] }, ...extra }) };
}

/** POST /revoke authenticated with a private_key_jwt assertion (an unknown token: 200 when the client authenticates). */
export async function revokeWithAssertion(clientId: string, key: KeyPair, kid: string): Promise<Response> {
  const jwt = await assertion(clientId, key.privateKey, { header: { kid }, claims: { aud: ISSUER } });
  return call("/revoke", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      token: "not-a-token", client_id: clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: jwt,
    }).toString(),
  });
}
