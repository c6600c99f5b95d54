import { afterEach, describe, expect, it, vi } from "vitest";
import { expectError, keyPair } from "./helpers";
import { serveRpDocuments } from "./rfc7591-helpers";
import { Browser, codeRequest, expectErrorPage } from "./oidc-helpers";
import { keyClient, push, requestObject, type TestClient } from "./par-jar-helpers";

/**
 * Replayed request objects (RFC 7519 §4.1.7 jti, RFC 9101 §10.2): an object sent by value — at the
 * authorization endpoint or in a pushed request (RFC 9126 §3) — whose jti this client used before
 * is invalid_request_object (request_object_replayed), decided atomically; an object without a jti
 * is not tracked; one fetched from a registered request_uri (OIDC Core §6.2) may be used again; a
 * forged or invalid object never spends a jti.
 */

afterEach(() => vi.restoreAllMocks());

async function signed(client: TestClient, claims: Record<string, unknown> = {}, opts: { key?: CryptoKey } = {}) {
  const { params } = await codeRequest(client.client_id);
  return requestObject(client, { ...params, ...claims }, opts);
}

const authorizeWith = (client: TestClient, extra: Record<string, string>) =>
  new Browser().fetch(`/authorize?${new URLSearchParams({ client_id: client.client_id, ...extra })}`);

describe("RFC 9101 §10.2: a request object's jti is used once", () => {
  it("by value at the authorization endpoint: a second use is refused on a page (request_object_replayed)", async () => {
    const client = await keyClient();
    const jwt = await signed(client);
    const first = await authorizeWith(client, { request: jwt });
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toMatch(/^\/login\?txn=/);
    await expectErrorPage(await authorizeWith(client, { request: jwt }), "request_object_replayed");
  });

  it("in a pushed request: a second push of the same object is a JSON invalid_request_object", async () => {
    const client = await keyClient();
    const jwt = await signed(client);
    expect((await push(client, { request: jwt })).status).toBe(201);
    await expectError(await push(client, { request: jwt }), 400, "invalid_request_object", "request_object_replayed");
  });

  it("atomically: of 50 concurrent pushes of one object exactly one is accepted", async () => {
    const client = await keyClient();
    const jwt = await signed(client);
    const results = await Promise.all(Array.from({ length: 50 }, () => push(client, { request: jwt })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) await expectError(r, 400, "invalid_request_object", "request_object_replayed");
  });

  it("an object without jti is not tracked; the same jti from another client is another value", async () => {
    const [a, b] = await Promise.all([keyClient(), keyClient()]);
    const unnumbered = await signed(a, { jti: undefined });
    expect((await push(a, { request: unnumbered })).status).toBe(201);
    expect((await push(a, { request: unnumbered })).status).toBe(201);
    const jti = crypto.randomUUID();
    expect((await push(a, { request: await signed(a, { jti }) })).status).toBe(201);
    expect((await push(b, { request: await signed(b, { jti }) })).status).toBe(201);
  });

  it("a forged or invalid object does not spend the jti it carries; a jti that is not a string is invalid", async () => {
    const client = await keyClient();
    const other = await keyPair("ES256");
    const jti = crypto.randomUUID();
    await expectError(await push(client, { request: await signed(client, { jti }, { key: other.privateKey }) }), 400, "invalid_request_object", "request_object_invalid");
    expect((await push(client, { request: await signed(client, { jti }) })).status).toBe(201);
    await expectError(await push(client, { request: await signed(client, { jti: 42 }) }), 400, "invalid_request_object", "request_object_invalid");
    // An OIDC object refused for a response_type outside that differs (OIDC Core §6.1) keeps its jti too.
    const { params } = await codeRequest(client.client_id);
    const oidcObject = await requestObject(client, params, { header: { typ: "JWT" } });
    await expectErrorPage(await authorizeWith(client, { request: oidcObject, response_type: "token" }), "request_object_invalid");
    expect((await authorizeWith(client, { request: oidcObject, response_type: "code" })).status).toBe(302);
  });

  it("OIDC Core §6.2: an object fetched from a registered request_uri may serve several requests", async () => {
    const uri = `https://rp.example/replay-${crypto.randomUUID()}.jwt`;
    const client = await keyClient({ request_uris: [uri] });
    const jwt = await signed(client);
    const fetched = serveRpDocuments({ [uri]: () => new Response(jwt) });
    for (let i = 0; i < 2; i++) expect((await authorizeWith(client, { request_uri: uri })).status).toBe(302);
    expect(fetched).toHaveLength(2);
  });
});
