import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearClientCache } from "../src/clients/store";
import { expectError, keyPair, nowSeconds } from "./helpers";
import { frozenClock } from "./oidc-helpers";
import { documentFor, documentStore, documentUrl, json, keyDocument, revokeWithAssertion, serveDocuments } from "./cimd-helpers";

/**
 * draft-ietf-oauth-client-id-metadata-document-00 §4.4: a document is kept (D1, every isolate) as
 * long as its HTTP caching headers say (RFC 9111 §4.2.1: max-age, Expires − Date; no-store and
 * no-cache give none), clamped to [60 s, 24 h]; errors and invalid documents are not kept. And
 * §6.3 / RFC 7523: an unknown `kid` in a client assertion refetches the document, at most once per
 * 30 s whatever the number of requests.
 */

beforeEach(() => clearClientCache());
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Serves `doc` at a new URL with `headers`; returns the URL, the fetch log and a lookup at `t0 + seconds`. */
function cached(headers: Record<string, string>, name = "Example MCP Client") {
  const url = documentUrl();
  let clientName = name;
  const fetched = serveDocuments({ [url]: () => json(documentFor(url, { client_name: clientName }), headers) });
  const t0 = nowSeconds();
  return {
    url,
    fetched,
    rename: (next: string) => void (clientName = next),
    at: (seconds: number) => documentStore(t0 + seconds).get(url),
  };
}

/** The document is fetched once, kept until just before `lifetime` seconds, and fetched again just after. */
async function expectFreshFor(doc: ReturnType<typeof cached>, lifetime: number, why?: string) {
  await doc.at(0);
  await doc.at(lifetime - 1);
  expect(doc.fetched, why).toHaveLength(1);
  await doc.at(lifetime + 1);
  expect(doc.fetched, why).toHaveLength(2);
}

describe("draft-ietf-oauth-client-id-metadata-document-00 §4.4: caching per the document's HTTP caching headers", () => {
  it("max-age is honoured: no fetch while fresh, a fetch once it is not, and the new document is what counts", async () => {
    const doc = cached({ "cache-control": "public, max-age=600" });
    expect((await doc.at(0))?.clientName).toBe("Example MCP Client");
    doc.rename("Renamed");
    expect((await doc.at(599))?.clientName).toBe("Example MCP Client");
    expect(doc.fetched).toHaveLength(1);
    expect((await doc.at(601))?.clientName).toBe("Renamed");
    expect(doc.fetched).toHaveLength(2);
  });

  it("Expires − Date when there is no max-age (RFC 9111 §4.2.1)", async () => {
    const date = new Date();
    await expectFreshFor(cached({ "cache-control": "", date: date.toUTCString(), expires: new Date(date.getTime() + 300_000).toUTCString() }), 300);
  });

  it("clamped below at 60 s: max-age=5, no-store, no-cache and no caching header at all are kept 60 s", async () => {
    for (const headers of [{ "cache-control": "max-age=5" }, { "cache-control": "no-store" }, { "cache-control": "no-cache" }, { "cache-control": "" }]) {
      await expectFreshFor(cached(headers), 60, JSON.stringify(headers));
      vi.restoreAllMocks();
    }
  });

  it("clamped above at 24 h: a year's max-age is refetched after a day", async () => {
    await expectFreshFor(cached({ "cache-control": "max-age=31536000, immutable" }), 86_400);
  });

  it("an invalid document is not kept: once the cached one expires and the new one is invalid, the client is unusable until fixed", async () => {
    const url = documentUrl();
    let valid = true;
    const fetched = serveDocuments({ [url]: () => json(documentFor(url, valid ? {} : { token_endpoint_auth_method: "client_secret_basic" })) });
    const t0 = nowSeconds();
    expect(await documentStore(t0).get(url)).not.toBeNull();
    valid = false;
    await expect(documentStore(t0 + 601).get(url)).rejects.toMatchObject({ code: "client_id_metadata_document_invalid" });
    await expect(documentStore(t0 + 602).get(url)).rejects.toMatchObject({ code: "client_id_metadata_document_invalid" });
    valid = true;
    expect(await documentStore(t0 + 603).get(url)).not.toBeNull();
    expect(fetched).toHaveLength(4);
  });

  it("concurrent lookups of a document not yet cached share one fetch in an isolate", async () => {
    const doc = cached({ "cache-control": "max-age=600" });
    const clients = await Promise.all(Array.from({ length: 20 }, () => doc.at(0)));
    expect(clients.every((client) => client?.clientId === doc.url)).toBe(true);
    expect(doc.fetched).toHaveLength(1);
  });
});

describe("draft-ietf-oauth-client-id-metadata-document-00 §6.2, §6.3: an unknown kid refetches the document", () => {
  it("a rotated key in the document is found by one refetch; another unknown kid within 30 s fetches nothing", async () => {
    const clock = frozenClock();
    const url = documentUrl();
    const first = await keyDocument(url, "k1");
    let doc = first.doc;
    const fetched = serveDocuments({ [url]: () => json(doc) });
    expect((await revokeWithAssertion(url, first.key, "k1")).status).toBe(200);
    expect(fetched).toHaveLength(1);

    const second = await keyDocument(url, "k2");
    doc = second.doc;
    expect((await revokeWithAssertion(url, second.key, "k2")).status).toBe(200);
    expect(fetched).toHaveLength(2);

    const third = await keyDocument(url, "k3");
    doc = third.doc;
    await expectError(await revokeWithAssertion(url, third.key, "k3"), 401, "invalid_client", "client_assertion_invalid_kid");
    expect(fetched).toHaveLength(2);

    clock.advance(31);
    expect((await revokeWithAssertion(url, third.key, "k3")).status).toBe(200);
    expect(fetched).toHaveLength(3);
    clock.restore();
  });

  it("50 concurrent assertions with unknown kids cause exactly one refetch (every isolate shares the claim in D1)", async () => {
    const clock = frozenClock();
    const url = documentUrl();
    const first = await keyDocument(url, "k1");
    let doc = first.doc;
    const fetched = serveDocuments({ [url]: () => json(doc) });
    expect((await revokeWithAssertion(url, first.key, "k1")).status).toBe(200);
    clock.advance(31);
    const next = await keyDocument(url, "k2");
    doc = next.doc;
    clearClientCache();
    const statuses = await Promise.all(Array.from({ length: 50 }, async () => {
      const other = await keyPair("ES256");
      return (await revokeWithAssertion(url, other, `random-${crypto.randomUUID()}`)).status;
    }));
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(fetched).toHaveLength(2);
    clock.restore();
  });

  it("the claim holds across lookups that do not overlap too (no isolate's in-flight fetch to share): one refetch per 30 s", async () => {
    const doc = cached({ "cache-control": "max-age=3600" });
    const t0 = nowSeconds();
    await doc.at(0);
    for (let i = 0; i < 10; i++) await documentStore(t0 + 5).refresh(doc.url);
    expect(doc.fetched).toHaveLength(2);
    for (let i = 0; i < 10; i++) await documentStore(t0 + 36).refresh(doc.url);
    expect(doc.fetched).toHaveLength(3);
  });
});
