import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { derivedKey } from "../crypto/derive";
import { base64url, randomBytes, randomToken, utf8 } from "../crypto/encoding";
import { timingSafeEqual } from "../crypto/hash";
import { OAuthError } from "../errors/oauth-error";

/**
 * Security for the HTML pages (sign-in, sign-up, consent, email verification, errors, form_post).
 *
 * Every page is served with a strict Content Security Policy: nothing loads by default, the one
 * inline stylesheet and the one inline script (form_post only) run because they carry a fresh
 * per-response nonce, images come only from us, `data:` URLs and the exact origin of the one
 * client logo a route names (`imgOrigins`), forms may only be sent back to us (plus origins a
 * route names, see `formActionOrigins`), and no one may frame the page (clickjacking, RFC 6749
 * §10.13). The page is never cached and never leaks its URL (which may hold a `txn` or a
 * verification token) through the Referer header.
 */

/** 128 random bits, base64url: a CSP nonce (CSP3 §2.3.1 asks for at least 128 bits). */
export const newNonce = (): string => randomToken(16);

export interface PageHeaderOptions {
  /**
   * Where the page's forms may be sent besides our own origin: redirect URIs or origins.
   * CSP `form-action` also governs the redirects that follow a form submission (Chromium
   * enforces it), so a page whose POST ends in a redirect to the client (sign-in, consent) must
   * name the client's redirect URI here, as must the form_post page whose form targets it.
   */
  formActionOrigins?: readonly string[];
  /**
   * Images the page may load besides our own origin and `data:` URLs: image URLs (a client's
   * `logo_uri`) or origins. Each adds exactly its origin to `img-src`, and only when it is an https
   * origin a CSP can name exactly (see imageSource); anything else adds nothing, so its image does
   * not load. Name these per response, for the one client the page is about.
   */
  imgOrigins?: readonly string[];
}

/** The response headers of every HTML page. */
export function pageHeaders(nonce: string, options: PageHeaderOptions = {}): Record<string, string> {
  if (!/^[A-Za-z0-9_-]{22,}$/.test(nonce)) throw new Error("pageHeaders: the nonce must come from newNonce()");
  const formAction = ["'self'", ...new Set((options.formActionOrigins ?? []).map(formActionSource))];
  const img = ["'self'", "data:", ...new Set((options.imgOrigins ?? []).flatMap((uri) => imageSource(uri) ?? []))];
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${img.join(" ")}`,
    `form-action ${formAction.join(" ")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": csp,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    pragma: "no-cache",
  };
}

/**
 * A CSP source expression for a URI: its origin for http(s), its scheme (`com.example.app:`) for
 * the private-use schemes of native apps (RFC 8252 §7.1). Anything else is a programming error:
 * redirect URIs are validated when the client is registered.
 */
export function formActionSource(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error("formActionSource: not an absolute URI");
  }
  if (url.protocol === "https:" || url.protocol === "http:") return url.origin;
  if (/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) return url.protocol;
  throw new Error("formActionSource: unusable URI scheme");
}

/** An https origin as CSP host-source grammar can write it (CSP3 §2.3.1): LDH labels, optional port. */
const CSP_HTTPS_ORIGIN = /^https:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]{1,5})?$/;

/**
 * The CSP source expression for an image URL: its origin, or undefined unless the URL is https,
 * carries no user name or password, and its host is a DNS name (IDNs in their ASCII form) or an
 * IPv4 address. The WHATWG URL parser keeps characters such as `;`, `'`, `,` and `*` in a host
 * (`https://a;b.example/`), and CSP cannot name IPv6 literals, so the origin is checked against the
 * host-source grammar before it goes into a header: nothing a client registers can add another
 * directive, a wildcard or a keyword.
 */
export function imageSource(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || url.username !== "" || url.password !== "") return undefined;
  return CSP_HTTPS_ORIGIN.test(url.origin) ? url.origin : undefined;
}

// ── CSRF ────────────────────────────────────────────────────────────────────────────────────────
/*
 * Design: a signed double-submit cookie, plus Fetch Metadata / Origin checks.
 *
 * - Cookie `__Host-csrf` holds 256 random bits (`r`). The `__Host-` prefix makes browsers accept
 *   it only with Secure, Path=/ and no Domain, so a sibling subdomain or a network attacker on
 *   plain http cannot plant or overwrite it (cookie tossing). HttpOnly: scripts never need it.
 * - Every form carries a hidden `csrf` field = base64url(HMAC-SHA-256(K, "csrf:" + r)), K being a
 *   subkey of ENCRYPTION_KEY (HKDF, info "latchkey/csrf/v1"). A POST passes only when the field
 *   equals the MAC recomputed from the cookie it arrived with (constant-time). A cross-site page
 *   can make the browser send a form but cannot read our cookie or page, so it cannot know the
 *   field; and because the field is a MAC, even a planted cookie would not let it forge one.
 * - SameSite=Lax, not Strict, on purpose: the token is the protection (Lax already withholds the
 *   cookie from cross-site POSTs), and Lax lets a page opened by a cross-site navigation (a
 *   client's redirect to /authorize, an email link) reuse the cookie the browser already has
 *   instead of replacing it, which would break forms still open in other tabs.
 * - Before the token, the request's provenance is checked where the browser states it:
 *   `Sec-Fetch-Site` must be `same-origin` (or `none`: user-initiated); otherwise an `Origin`
 *   header must be ours. `Origin: null` counts as absent: with our `Referrer-Policy: no-referrer`,
 *   browsers send `Origin: null` even on same-origin form posts (Fetch §3.2 "append a request
 *   Origin header"). Requests with neither header (old browsers, non-browsers) rely on the token.
 */

export const CSRF_COOKIE = "__Host-csrf";
/** The hidden form field every page form carries. */
export const CSRF_FIELD = "csrf";

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
const csrfKey = (secret: string) =>
  derivedKey(secret, { purpose: "csrf", algorithm: { name: "HMAC", hash: "SHA-256", length: 256 }, usages: ["sign"] });

async function csrfMac(secret: string, cookieValue: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await csrfKey(secret), utf8(`csrf:${cookieValue}`));
  return base64url(new Uint8Array(mac));
}

/** The value of one cookie in a Cookie header (first occurrence), or undefined. */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CsrfIssue {
  /** The hidden `csrf` field value for the page's forms. */
  token: string;
  /** A Set-Cookie header value to send with the page when the browser has no valid cookie yet. */
  setCookie?: string;
}

/**
 * The CSRF token for a page about to be rendered. Reuses the browser's `__Host-csrf` cookie when
 * it has a well-formed one; otherwise mints one and returns its `setCookie`, which the route must
 * send with the page (renderPage's `setCookies` option).
 */
export async function csrfFor(request: Request, secret: string): Promise<CsrfIssue> {
  const existing = readCookie(request, CSRF_COOKIE);
  if (existing !== undefined && COOKIE_VALUE.test(existing)) return { token: await csrfMac(secret, existing) };
  const value = base64url(randomBytes(32));
  return {
    token: await csrfMac(secret, value),
    setCookie: `${CSRF_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax`,
  };
}

/**
 * Refuses a form POST that did not come from one of our pages: throws `OAuthError("csrf_invalid")`.
 * `formToken` is the submitted `csrf` field (undefined when absent).
 */
export async function checkCsrf(request: Request, formToken: string | undefined, secret: string): Promise<void> {
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite !== null) {
    if (fetchSite !== "same-origin" && fetchSite !== "none") throw new OAuthError("csrf_invalid");
  } else {
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== "null" && origin !== new URL(request.url).origin) throw new OAuthError("csrf_invalid");
  }
  const cookie = readCookie(request, CSRF_COOKIE);
  if (cookie === undefined || !COOKIE_VALUE.test(cookie) || !formToken) throw new OAuthError("csrf_invalid");
  if (!timingSafeEqual(await csrfMac(secret, cookie), formToken)) throw new OAuthError("csrf_invalid");
}

// ── rendering ───────────────────────────────────────────────────────────────────────────────────

export interface RenderOptions extends PageHeaderOptions {
  /** HTTP status; default 200. */
  status?: number;
  /** Set-Cookie values to send with the page (e.g. `csrfFor(...).setCookie`); undefined entries are skipped. */
  setCookies?: readonly (string | undefined)[];
}

/** A page as a function of the response's nonce, so the page and the CSP header cannot disagree. */
export type PageSource = (nonce: string) => JSX.Element;

/**
 * Renders a page to a complete HTML response with `pageHeaders`. Headers already set on `c`
 * (e.g. a session cookie) are kept.
 *
 *   return renderPage(c, (nonce) => <SignInPage nonce={nonce} … />, { setCookies: [csrf.setCookie] });
 */
export async function renderPage(c: Context, page: PageSource, options: RenderOptions = {}): Promise<Response> {
  const nonce = newNonce();
  const element = page(nonce);
  const html = `<!DOCTYPE html>${await (await element).toString()}`;
  for (const cookie of options.setCookies ?? []) if (cookie) c.header("set-cookie", cookie, { append: true });
  return c.body(html, (options.status ?? 200) as 200, pageHeaders(nonce, options));
}
