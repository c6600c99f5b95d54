/// <reference types="vite/client" />
import { afterEach, describe, expect, it, vi } from "vitest";
import { OutboundError, outboundFetch, outboundUrlProblem, type OutboundUse } from "../src/http/outbound";
import { FORBIDDEN_HOSTS } from "./outbound-helpers";

/**
 * ASVS 5.0 V1.3.6 (server-side request forgery): the outbound-fetch policy itself
 * (src/http/outbound.ts) — the URL rule in every notation, and the bounds of a fetch (no redirects,
 * status, size, time). test/asvs-1.3.6-outbound-fetch.test.ts checks it through the endpoints.
 */

afterEach(() => vi.restoreAllMocks());

describe("the URL rule", () => {
  it("WHATWG URL parsing turns every IPv4 notation into a dotted quad before the host is judged", () => {
    for (const uri of ["https://2130706433/", "https://0177.0.0.1/", "https://0x7f.1/", "https://127.1/", "https://0x7f000001/",
      "https://017700000001/", "https://%31%32%37.0.0.1/", "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "https://127.0.0.1./"]) {
      expect(new URL(uri).hostname, uri).toBe("127.0.0.1");
    }
    expect(new URL("https://[0:0:0:0:0:ffff:127.0.0.1]/").hostname).toBe("[::ffff:7f00:1]");
  });

  it("refuses every non-public host of the list (forbidden_host)", () => {
    for (const uri of FORBIDDEN_HOSTS) expect({ uri, problem: outboundUrlProblem(uri, false) }).toEqual({ uri, problem: "forbidden_host" });
  });

  it("accepts public names and addresses, including neighbours of the refused ranges", () => {
    for (const uri of [
      "https://rp.example/jwks", "https://auth.rp.example:8443/keys?v=1", "https://example.com./", "https://xn--bcher-kva.example/",
      "https://8.8.8.8/", "https://1.1.1.1/", "https://172.32.0.1/", "https://172.15.255.255/", "https://100.128.0.1/",
      "https://169.253.255.255/", "https://192.0.3.1/", "https://198.20.0.1/", "https://223.255.255.255/", "https://11.0.0.1/",
      "https://[2606:4700:4700::1111]/", "https://[2a00:1450:4001::200e]/", "https://[2002:808:808::]/", "https://[2001:200::1]/",
    ]) {
      expect({ uri, problem: outboundUrlProblem(uri, false) }).toEqual({ uri, problem: undefined });
    }
  });

  it("https only, no credentials, no fragment; an unparsable URL is not_url", () => {
    expect(outboundUrlProblem("http://rp.example/jwks", false)).toBe("scheme");
    expect(outboundUrlProblem("ftp://rp.example/jwks", true)).toBe("scheme");
    expect(outboundUrlProblem("file:///etc/passwd", true)).toBe("scheme");
    expect(outboundUrlProblem("https://user@rp.example/", false)).toBe("credentials");
    expect(outboundUrlProblem("https://:pw@rp.example/", false)).toBe("credentials");
    expect(outboundUrlProblem("https://rp.example/#", false)).toBe("fragment");
    expect(outboundUrlProblem("/jwks", false)).toBe("not_url");
    expect(outboundUrlProblem("https://999.1.1.1/", false)).toBe("not_url");
  });

  it("the local-development setting allows http and loopback, and nothing else", () => {
    for (const uri of ["http://127.0.0.1:8080/jwks", "http://127.9.9.9/", "http://localhost:8787/", "http://app.localhost/", "http://[::1]:8080/",
      "http://rp.example/jwks", "https://0x7f.1/"]) {
      expect({ uri, problem: outboundUrlProblem(uri, true) }).toEqual({ uri, problem: undefined });
    }
    for (const uri of ["http://10.0.0.1/", "http://169.254.169.254/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://[::]/",
      "http://[fe80::1]/", "http://printer.local/", "http://metadata/"]) {
      expect({ uri, problem: outboundUrlProblem(uri, true) }).toEqual({ uri, problem: "forbidden_host" });
    }
  });
});

describe("a fetch under the policy", () => {
  const USE: OutboundUse = { purpose: "test_uri", accept: "application/json", maxBytes: 1024, timeoutMs: 200, okStatus: [200] };
  const URI = "https://rp.example/doc";

  /** Stubs the Worker's outbound fetch (as serveRpDocuments does) and records the requests it gets. */
  function serve(answer: (request: Request) => Response | Promise<Response>): Request[] {
    const requests: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      requests.push(request);
      return answer(request);
    });
    return requests;
  }

  async function failure(promise: Promise<unknown>): Promise<OutboundError> {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(OutboundError);
    return error as OutboundError;
  }

  /** A body that yields `chunks` and then either ends or never does; records whether it was cancelled. */
  function stream(chunks: Uint8Array[], end: boolean) {
    const state = { cancelled: false, pulled: 0 };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[state.pulled++];
        if (chunk) controller.enqueue(chunk);
        else if (end) controller.close();
        else return new Promise(() => {});
      },
      cancel() {
        state.cancelled = true;
      },
    });
    return { body, state };
  }

  it("a refused URL is never fetched (forbidden_url, with the problem)", async () => {
    const requests = serve(() => Response.json([]));
    for (const uri of ["https://127.0.0.1/", "https://[::ffff:a9fe:a9fe]/", "http://rp.example/", "https://u:p@rp.example/"]) {
      const error = await failure(outboundFetch(uri, USE, { allowInsecure: false }));
      expect(error.failure).toBe("forbidden_url");
    }
    expect(requests).toEqual([]);
  });

  it("a GET with the use's Accept, redirect manual and a signal; the body is returned", async () => {
    const requests = serve(() => Response.json({ ok: true }));
    const answer = await outboundFetch(URI, USE, { allowInsecure: false });
    expect(answer.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(answer.body))).toEqual({ ok: true });
    const [request] = requests as [Request];
    expect({ method: request.method, url: request.url, accept: request.headers.get("accept"), redirect: request.redirect })
      .toEqual({ method: "GET", url: URI, accept: "application/json", redirect: "manual" });
    expect(request.signal).toBeInstanceOf(AbortSignal);
  });

  it("a POST use: the body and content type are sent; with maxBytes 0 the answer's body is not read", async () => {
    const { body, state } = stream([new Uint8Array(10)], false);
    const requests = serve(() => new Response(body, { status: 200 }));
    const answer = await outboundFetch(URI, { ...USE, accept: null, maxBytes: 0, okStatus: [200, 204] },
      { allowInsecure: false, post: { contentType: "application/x-www-form-urlencoded", body: "logout_token=x" } });
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: new Uint8Array() });
    expect(state.cancelled).toBe(true);
    const [request] = requests as [Request];
    expect({ method: request.method, type: request.headers.get("content-type"), accept: request.headers.get("accept"), body: new TextDecoder().decode(await request.arrayBuffer()) })
      .toEqual({ method: "POST", type: "application/x-www-form-urlencoded", accept: null, body: "logout_token=x" });
  });

  it("redirects are not followed: every 3xx is a failure and its Location is never fetched", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      vi.restoreAllMocks();
      const requests = serve(() => new Response(null, { status, headers: { location: "https://169.254.169.254/latest/meta-data/" } }));
      const error = await failure(outboundFetch(URI, USE, { allowInsecure: false }));
      expect({ failure: error.failure, status: error.extra.status }).toEqual({ failure: "redirect", status });
      expect(requests.map((r) => r.url)).toEqual([URI]);
    }
  });

  it("a status the use does not accept is a failure (status)", async () => {
    serve(() => new Response("gone", { status: 404 }));
    const error = await failure(outboundFetch(URI, USE, { allowInsecure: false }));
    expect({ failure: error.failure, status: error.extra.status }).toEqual({ failure: "status", status: 404 });
  });

  it("size: a declared Content-Length over the bound is refused unread; a streamed body is cut off as it passes the bound", async () => {
    const declared = stream([new Uint8Array(2000)], true);
    serve(() => new Response(declared.body, { status: 200, headers: { "content-length": "2000" } }));
    expect((await failure(outboundFetch(URI, USE, { allowInsecure: false }))).failure).toBe("too_large");
    expect(declared.state).toMatchObject({ cancelled: true });

    vi.restoreAllMocks();
    const endless = stream(Array.from({ length: 100 }, () => new Uint8Array(300)), true);
    serve(() => new Response(endless.body, { status: 200 }));
    expect((await failure(outboundFetch(URI, USE, { allowInsecure: false }))).failure).toBe("too_large");
    expect(endless.state.cancelled).toBe(true);
    expect(endless.state.pulled).toBeLessThan(10);

    vi.restoreAllMocks();
    serve(() => new Response(new Uint8Array(1024), { status: 200 }));
    expect((await outboundFetch(URI, USE, { allowInsecure: false })).body.byteLength).toBe(1024);
  });

  it("time: an answer that never comes, even from a fetch that ignores its signal, fails at the deadline (timeout)", async () => {
    serve(() => new Promise<Response>(() => {}));
    const started = Date.now();
    expect((await failure(outboundFetch(URI, USE, { allowInsecure: false }))).failure).toBe("timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("time: a body that stops half way fails at the deadline, and the stream is cancelled (timeout)", async () => {
    const stalled = stream([new Uint8Array(10)], false);
    serve(() => new Response(stalled.body, { status: 200 }));
    const started = Date.now();
    expect((await failure(outboundFetch(URI, USE, { allowInsecure: false }))).failure).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(stalled.state.cancelled).toBe(true);
  });

  it("a network failure is unreachable, with the runtime's reason kept for the log line", async () => {
    serve(() => {
      throw new TypeError("connection refused");
    });
    const error = await failure(outboundFetch(URI, USE, { allowInsecure: false }));
    expect(error.failure).toBe("unreachable");
    expect(error.reason).toContain("connection refused");
  });
});

describe("one way out: every fetch of a supplied URL goes through the policy", () => {
  it("no module but src/http/outbound.ts (and the resource-server kit, which runs in another Worker) calls the global fetch", () => {
    const sources = import.meta.glob(["../src/**/*.{ts,tsx}", "../workers/**/*.ts"], { query: "?raw", import: "default", eager: true }) as Record<string, string>;
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    const callers = Object.entries(sources)
      .filter(([, text]) => /(?<![.\w$])fetch\s*\(|\b(?:globalThis|self)\.fetch\b/.test(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "")))
      .map(([path]) => path);
    // The resource-server kit (src/resource-server/) runs in another Worker, not in Latchkey: its one
    // fetch is the default transport to the issuer its operator configured (never a URL a client or
    // person supplies), under the kit's own rule — the issuer's origin only, no redirects, a deadline
    // and a size bound (src/resource-server/issuer.ts).
    expect(callers).toEqual(["../src/http/outbound.ts", "../src/resource-server/index.ts"]);
  });
});
