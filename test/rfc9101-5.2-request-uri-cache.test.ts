import { afterEach, describe, expect, it, vi } from "vitest";
import { serveRpDocuments } from "./rfc7591-helpers";
import { Browser, codeRequest, expectErrorPage, frozenClock } from "./oidc-helpers";
import { keyClient, requestObject, type TestClient } from "./par-jar-helpers";

/**
 * RFC 9101 §5.2.3 / OIDC Core §6.2: the content of a request_uri may be cached. Latchkey keeps it
 * by the request_uri exactly as sent (its fragment included: a changed content under a new
 * fragment is fetched), for as long as the answer's caching headers allow and never more than
 * REQUEST_URI_CACHE_SECONDS (300 s); without caching headers, or with no-store / no-cache, it
 * fetches every time. A cached object is checked again at each use.
 */

afterEach(() => vi.useRealTimers());
afterEach(() => vi.restoreAllMocks());

const base = () => `https://rp.example/cache-${crypto.randomUUID()}.jwt`;

async function objectFor(client: TestClient, claims: Record<string, unknown> = {}) {
  const { params } = await codeRequest(client.client_id);
  // No jti: an object published at a request_uri is meant for several requests (OIDC Core §6.2).
  return requestObject(client, { ...params, jti: undefined, exp: Math.floor(Date.now() / 1000) + 3000, nbf: undefined, ...claims });
}

const open = (client: TestClient, requestUri: string) =>
  new Browser().fetch(`/authorize?${new URLSearchParams({ client_id: client.client_id, request_uri: requestUri })}`);

/** A client with one registered request_uri serving its request object with these headers; what was fetched. */
async function served(headers: Record<string, string>, claims: Record<string, unknown> = {}) {
  const uri = base();
  const client = await keyClient({ request_uris: [uri] });
  const jwt = await objectFor(client, claims);
  const fetched = serveRpDocuments({ [uri]: () => new Response(jwt, { headers }) });
  return { uri, client, fetched };
}

describe("RFC 9101 §5.2.3 / OIDC Core §6.2: caching the content of a request_uri", () => {
  it("Cache-Control max-age=120, or Expires 120 s after Date: fetched once for the uses within 120 s, again after", async () => {
    const now = Date.now();
    const expires = { date: new Date(now).toUTCString(), expires: new Date(now + 120_000).toUTCString() };
    for (const headers of [{ "cache-control": "max-age=120" }, expires]) {
      const { uri, client, fetched } = await served(headers);
      const clock = frozenClock();
      for (let i = 0; i < 3; i++) expect((await open(client, uri)).status).toBe(302);
      expect(fetched).toHaveLength(1);
      clock.advance(121);
      expect((await open(client, uri)).status).toBe(302);
      expect(fetched).toHaveLength(2);
      clock.restore();
      vi.restoreAllMocks();
    }
  });

  it("a longer max-age is cut to 300 s", async () => {
    const { uri, client, fetched } = await served({ "cache-control": "public, max-age=86400" });
    const clock = frozenClock();
    expect((await open(client, uri)).status).toBe(302);
    clock.advance(299);
    expect((await open(client, uri)).status).toBe(302);
    expect(fetched).toHaveLength(1);
    clock.advance(2);
    expect((await open(client, uri)).status).toBe(302);
    expect(fetched).toHaveLength(2);
  });

  it("no-store, no-cache, or no caching headers at all: fetched at every use", async () => {
    for (const headers of [{ "cache-control": "no-store, max-age=600" }, { "cache-control": "no-cache" }, {}] as Record<string, string>[]) {
      const { uri, client, fetched } = await served(headers);
      for (let i = 0; i < 2; i++) expect((await open(client, uri)).status).toBe(302);
      expect(fetched).toHaveLength(2);
      vi.restoreAllMocks();
    }
  });

  it("keyed by the exact request_uri: a new fragment (a changed content's SHA-256) is fetched again, and its content used", async () => {
    const uri = base();
    const client = await keyClient({ request_uris: [uri] });
    let served = await objectFor(client);
    const fetched = serveRpDocuments({ [uri]: () => new Response(served, { headers: { "cache-control": "max-age=300" } }) });
    expect((await open(client, `${uri}#v1`)).status).toBe(302);
    // The client publishes a changed object (here: one for another audience) under a new fragment.
    served = await objectFor(client, { aud: "https://elsewhere.example" });
    expect((await open(client, `${uri}#v1`)).status).toBe(302);
    expect(fetched).toHaveLength(1);
    await expectErrorPage(await open(client, `${uri}#v2`), "request_uri_object_invalid");
    expect(fetched).toHaveLength(2);
  });

  it("a cached object is checked again at each use: once expired it is refused", async () => {
    const { uri, client } = await served({ "cache-control": "max-age=300" }, { exp: Math.floor(Date.now() / 1000) + 60 });
    const clock = frozenClock();
    expect((await open(client, uri)).status).toBe(302);
    clock.advance(120);
    await expectErrorPage(await open(client, uri), "request_uri_object_invalid");
  });
});
