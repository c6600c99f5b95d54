import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { OAuthError } from "../src/errors/oauth-error";
import {
  CSRF_COOKIE,
  checkCsrf,
  csrfFor,
  formActionSource,
  newNonce,
  pageHeaders,
  readCookie,
} from "../src/http/page-security";

const SECRET = env.ENCRYPTION_KEY;
const ORIGIN = "https://latchkey.test";

/** The cookie pair a browser would send back after csrfFor's Set-Cookie. */
function cookieFrom(setCookie: string | undefined): string {
  expect(setCookie).toBeDefined();
  return setCookie!.split(";")[0]!;
}

function post(headers: Record<string, string>): Request {
  return new Request(`${ORIGIN}/login`, { method: "POST", headers });
}

async function expectCsrfInvalid(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  expect((err as OAuthError).code).toBe("csrf_invalid");
  expect((err as OAuthError).entry.status).toBe(403);
}

describe("pageHeaders", () => {
  it("sends a strict CSP with the nonce, no framing, no caching, no referrer", () => {
    const nonce = newNonce();
    const h = pageHeaders(nonce);
    expect(h["content-security-policy"]).toBe(
      `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src 'self' data:; ` +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(h).toMatchObject({
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
      "content-type": "text/html; charset=utf-8",
    });
  });

  it("adds form-action sources as origins (https) or schemes (native apps), once each", () => {
    const csp = pageHeaders(newNonce(), {
      formActionOrigins: ["https://app.example/cb?x=1", "https://app.example/other", "com.example.app:/oauth2redirect"],
    })["content-security-policy"]!;
    expect(csp).toContain("form-action 'self' https://app.example com.example.app:;");
  });

  it("refuses values that could inject CSP directives", () => {
    expect(() => pageHeaders("abc'; script-src *")).toThrow();
    expect(() => formActionSource("not a url; script-src *")).toThrow();
    expect(formActionSource("https://a.example:8443/x;y")).toBe("https://a.example:8443");
  });

  it("newNonce has 128 bits of base64url and is fresh each time", () => {
    const a = newNonce();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newNonce()).not.toBe(a);
  });
});

describe("CSRF: signed double-submit cookie", () => {
  it("mints a __Host- cookie (Secure, HttpOnly, SameSite, Path=/, no Domain) when the browser has none", async () => {
    const issued = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.setCookie).toMatch(/^__Host-csrf=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(issued.setCookie).not.toMatch(/domain/i);
  });

  it("reuses the browser's cookie: same token, no new cookie", async () => {
    const first = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    const again = await csrfFor(new Request(`${ORIGIN}/consent`, { headers: { cookie: `a=b; ${cookieFrom(first.setCookie)}` } }), SECRET);
    expect(again).toEqual({ token: first.token });
  });

  it("replaces a malformed cookie", async () => {
    const issued = await csrfFor(new Request(`${ORIGIN}/login`, { headers: { cookie: `${CSRF_COOKIE}=short` } }), SECRET);
    expect(issued.setCookie).toBeDefined();
  });

  it("the token is a MAC of the cookie, not the cookie itself", async () => {
    const issued = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    expect(cookieFrom(issued.setCookie)).not.toContain(issued.token);
  });

  it("passes a same-origin post with the matching token", async () => {
    const { token, setCookie } = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    const cookie = cookieFrom(setCookie);
    await checkCsrf(post({ cookie, "sec-fetch-site": "same-origin", origin: ORIGIN }), token, SECRET);
    // No Fetch Metadata (older browsers, non-browsers): the token decides.
    await checkCsrf(post({ cookie }), token, SECRET);
    // Referrer-Policy: no-referrer makes browsers send Origin: null on same-origin form posts.
    await checkCsrf(post({ cookie, origin: "null" }), token, SECRET);
    await checkCsrf(post({ cookie, "sec-fetch-site": "same-origin", origin: "null" }), token, SECRET);
  });

  it("refuses a missing, empty or mismatched token", async () => {
    const { token, setCookie } = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    const other = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    const cookie = cookieFrom(setCookie);
    await expectCsrfInvalid(checkCsrf(post({ cookie }), undefined, SECRET));
    await expectCsrfInvalid(checkCsrf(post({ cookie }), "", SECRET));
    await expectCsrfInvalid(checkCsrf(post({ cookie }), other.token, SECRET));
    await expectCsrfInvalid(checkCsrf(post({ cookie }), `${token}x`, SECRET));
  });

  it("refuses a post without the cookie, or with the raw cookie value as the token", async () => {
    const { token, setCookie } = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    await expectCsrfInvalid(checkCsrf(post({}), token, SECRET));
    // An attacker who could plant a cookie still cannot forge the field: it is a MAC under our key.
    const planted = "A".repeat(43);
    await expectCsrfInvalid(checkCsrf(post({ cookie: `${CSRF_COOKIE}=${planted}` }), planted, SECRET));
    expect(readCookie(post({ cookie: cookieFrom(setCookie) }), CSRF_COOKIE)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("refuses cross-site and same-site posts even with a valid token", async () => {
    const { token, setCookie } = await csrfFor(new Request(`${ORIGIN}/login`), SECRET);
    const cookie = cookieFrom(setCookie);
    await expectCsrfInvalid(checkCsrf(post({ cookie, "sec-fetch-site": "cross-site" }), token, SECRET));
    await expectCsrfInvalid(checkCsrf(post({ cookie, "sec-fetch-site": "same-site" }), token, SECRET));
    await expectCsrfInvalid(checkCsrf(post({ cookie, origin: "https://evil.example" }), token, SECRET));
    await expectCsrfInvalid(checkCsrf(post({ cookie, origin: "https://sub.latchkey.test" }), token, SECRET));
    await expectCsrfInvalid(checkCsrf(post({ cookie, origin: "http://latchkey.test" }), token, SECRET));
  });

  it("a token minted under another key does not pass", async () => {
    const otherKey = "b3RoZXItdGVzdC1rZXktb2YtYXQtbGVhc3QtMzItYnl0ZXM";
    const { token, setCookie } = await csrfFor(new Request(`${ORIGIN}/login`), otherKey);
    await expectCsrfInvalid(checkCsrf(post({ cookie: cookieFrom(setCookie) }), token, SECRET));
  });
});
