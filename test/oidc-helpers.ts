import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { expect, vi } from "vitest";
import { app } from "../src/app";
import type { Env } from "../src/env";
import { ISSUER, basic, call, createClient, nowSeconds, tokenRequest, uniqueId } from "./helpers";

export const REDIRECT_URI = "https://rp.example/callback";
export const PASSWORD = "correct horse battery staple";

/** A minimal browser: a cookie jar and manual redirects, driving the Worker's real fetch handler. */
export class Browser {
  readonly cookies = new Map<string, string>();

  /** `send` defaults to the Worker's fetch handler; workerWithEnv() gives one with other settings. */
  constructor(private readonly send: (path: string, init: RequestInit) => Promise<Response> = call) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await this.send(path, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follows same-origin redirects (our own pages) until a page or a redirect to elsewhere. */
  async follow(res: Response): Promise<Response> {
    let current = res;
    for (let hops = 0; hops < 10 && current.status >= 300 && current.status < 400; hops++) {
      const location = new URL(current.headers.get("location")!, ISSUER);
      if (location.origin !== ISSUER) return current;
      current = await this.fetch(location.pathname + location.search);
    }
    return current;
  }

  /** Submits the page's form with the given fields (hidden fields, csrf and txn included). */
  async submit(page: Response | string, fields: Record<string, string>, action?: string): Promise<Response> {
    const html = typeof page === "string" ? page : await page.text();
    const form = action ? html.slice(html.indexOf(`action="${action}"`)) : html;
    const target = action ?? decode(/<form[^>]*action="([^"]+)"/.exec(form)?.[1] ?? "");
    const body = new URLSearchParams(hiddenFields(form.slice(0, form.indexOf("</form>") + 7)));
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return this.fetch(target, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
  }
}

const decode = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1];
    if (name !== undefined) out[decode(name)] = decode(value ?? "");
  }
  return out;
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const verifier = b64(bytes);
  const challenge = b64(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

export async function oidcClient(input: Record<string, unknown> = {}) {
  return createClient({
    grant_types: ["authorization_code"],
    redirect_uris: [REDIRECT_URI],
    client_name: "Example RP",
    ...input,
  });
}

/** A person, created through the operator API. */
export async function person(input: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `${uniqueId("user")}@example.com`;
  const res = await call("/admin/users", {
    method: "POST",
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD, email_verified: true, ...input }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

export interface FlowResult {
  /** The final redirect to the client (or the form_post page). */
  response: Response;
  params: URLSearchParams;
  /** The interaction pages the person saw, in order ("login", "consent"). */
  pages: string[];
}

/** The parameters an authorization response delivered, whatever the response mode. */
export async function responseParams(res: Response): Promise<URLSearchParams> {
  if (res.status === 200) return new URLSearchParams(hiddenFields(await res.text()));
  const location = new URL(res.headers.get("location")!);
  return location.hash ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
}

/**
 * Runs the browser part of the code flow: authorization request, sign-in (if asked), consent (if
 * asked), and returns what reached the client.
 */
export async function authorize(
  browser: Browser,
  /** The request's parameters; as pairs when one repeats (RFC 8707 `resource`). */
  params: Record<string, string> | [string, string][],
  user?: { email: string; password?: string },
  opts: { consent?: "allow" | "deny"; method?: "GET" | "POST" } = {},
): Promise<FlowResult> {
  const query = new URLSearchParams(params).toString();
  let res =
    opts.method === "POST"
      ? await browser.fetch("/authorize", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: query })
      : await browser.fetch(`/authorize?${query}`);
  res = await browser.follow(res);
  const pages: string[] = [];
  for (let step = 0; step < 4 && res.status === 200; step++) {
    const html = await res.clone().text();
    if (html.includes('action="/login"') && user) {
      pages.push("login");
      res = await browser.follow(await browser.submit(html, { email: user.email, password: user.password ?? PASSWORD }, "/login"));
    } else if (html.includes('action="/consent"')) {
      pages.push("consent");
      res = await browser.follow(await browser.submit(html, { decision: opts.consent ?? "allow" }, "/consent"));
    } else break;
  }
  const isClientResponse = res.status === 302 || res.status === 303 || (res.status === 200 && (await res.clone().text()).includes("<form") && !(await res.clone().text()).includes('action="/'));
  return { response: res, params: isClientResponse ? await responseParams(res.clone()) : new URLSearchParams(), pages };
}

/** Exchanges a code at the token endpoint with client_secret_basic. */
export function redeem(client: { client_id: string; client_secret?: string }, code: string, verifier?: string, extra: Record<string, string> = {}) {
  const form: Record<string, string> = { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, ...extra };
  if (verifier) form.code_verifier = verifier;
  return tokenRequest(form, client.client_secret ? { authorization: basic(client.client_id, client.client_secret) } : {});
}

/** The standard code-flow request parameters for a client, with PKCE. */
export async function codeRequest(clientId: string, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkce();
  const params: Record<string, string> = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    state: uniqueId("state"),
    nonce: uniqueId("nonce"),
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  };
  return { params, verifier };
}

// ── conformance helpers (oidcc-*, rfc6749-4.1-*, rfc7636-*, rfc8252-*, rfc9207-* tests) ─────────

/**
 * The Worker's fetch handler run with some settings changed (e.g. REQUIRE_PKCE_FOR_ALL=false), for
 * settings the shared test Worker cannot have. Same bindings (D1, KV, Durable Objects) and secrets.
 */
export function workerWithEnv(overrides: Partial<Env>): (path: string, init?: RequestInit) => Promise<Response> {
  const changed: Env = { ...env, ...overrides };
  return async (path, init) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(new URL(path, ISSUER), init), changed, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

/**
 * Freezes `Date` at the current time (timers stay real). The Worker runs in the tests' isolate, so
 * its clock moves with `advance`. Call `vi.useRealTimers()` (or `restore`) after the test.
 */
export function frozenClock() {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  return {
    advance(seconds: number) {
      vi.setSystemTime(Date.now() + seconds * 1000);
    },
    restore() {
      vi.useRealTimers();
    },
  };
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  id_token?: string;
  refresh_token?: string;
}

/**
 * A successful token response as the conformance suite checks it: 200 JSON, Cache-Control: no-store
 * and Pragma: no-cache (RFC 6749 §5.1), token_type Bearer, a positive integer expires_in, tokens of
 * VSCHAR characters (RFC 6749 Appendix A.12, A.17).
 */
export async function expectTokenResponse(res: Response): Promise<TokenSet> {
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("pragma")).toBe("no-cache");
  const body = (await res.json()) as TokenSet;
  expect(body.token_type).toBe("Bearer");
  expect(Number.isInteger(body.expires_in) && body.expires_in > 0).toBe(true);
  expect(body.access_token).toMatch(/^[\x20-\x7e]+$/);
  if (body.refresh_token !== undefined) expect(body.refresh_token).toMatch(/^[\x20-\x7e]+$/);
  return body;
}

/** base64url of the left half of the hash the JWS alg uses (OIDC Core §3.1.3.6; EdDSA: SHA-512). */
export async function expectedAtHash(accessToken: string, alg: string): Promise<string> {
  const hash = alg === "EdDSA" ? "SHA-512" : `SHA-${alg.slice(2)}`;
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(accessToken)));
  const half = digest.slice(0, digest.length / 2);
  return btoa(String.fromCharCode(...half)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export interface IdTokenExpectations {
  /** The nonce the request sent; undefined = the request had none, so the ID token must have none. */
  nonce?: string | undefined;
  /** Expected JWS alg; default RS256. */
  alg?: string;
  /** The access token issued with it: at_hash must match. */
  accessToken?: string;
}

/**
 * Verifies an ID token the way the conformance suite's PerformStandardIdTokenChecks does: the kid
 * names exactly one key of /jwks (whose kids are distinct), the signature verifies with it, iss is
 * the issuer, aud the client, exp in the future, iat neither in the future nor more than 5 minutes
 * old, sub present, auth_time not after iat, nonce echoed (or absent), at_hash right.
 */
export async function verifyIdToken(idToken: string, clientId: string, expect_: IdTokenExpectations): Promise<JWTPayload> {
  const jwks = (await (await call("/jwks")).json()) as JSONWebKeySet;
  const kids = jwks.keys.map((k) => k.kid);
  expect(new Set(kids).size).toBe(kids.length);
  const header = decodeProtectedHeader(idToken);
  const alg = expect_.alg ?? "RS256";
  expect(header.alg).toBe(alg);
  expect(typeof header.kid).toBe("string");
  expect(jwks.keys.filter((k) => k.kid === header.kid)).toHaveLength(1);
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), { issuer: ISSUER, audience: clientId, algorithms: [alg] });
  const now = nowSeconds();
  expect(payload.iss).toBe(ISSUER);
  expect(payload.aud === clientId || (Array.isArray(payload.aud) && payload.aud.includes(clientId))).toBe(true);
  expect(typeof payload.sub === "string" && payload.sub.length > 0 && payload.sub.length <= 255).toBe(true);
  expect(Number.isInteger(payload.iat) && Number.isInteger(payload.exp)).toBe(true);
  expect(payload.iat!).toBeLessThanOrEqual(now + 5);
  expect(payload.iat!).toBeGreaterThan(now - 300);
  expect(payload.exp!).toBeGreaterThan(now);
  expect(Number.isInteger(payload.auth_time)).toBe(true);
  expect(payload.auth_time as number).toBeLessThanOrEqual(payload.iat!);
  if (expect_.nonce === undefined) expect(payload).not.toHaveProperty("nonce");
  else expect(payload.nonce).toBe(expect_.nonce);
  if (expect_.accessToken !== undefined) expect(payload.at_hash).toBe(await expectedAtHash(expect_.accessToken, alg));
  return payload;
}

/**
 * What reached the client in query mode: a 302 (303 after a POST) to the redirect URI, no-store,
 * with the parameters. Checks the Location starts with the redirect URI exactly.
 */
export function clientRedirect(res: Response, redirectUri = REDIRECT_URI): URLSearchParams {
  expect([302, 303], `status ${res.status}`).toContain(res.status);
  const location = res.headers.get("location") ?? "";
  expect(location.startsWith(`${redirectUri}${redirectUri.includes("?") ? "&" : "?"}`), location.slice(0, 300)).toBe(true);
  return new URL(location).searchParams;
}

const ERROR_RESPONSE_MEMBERS = new Set(["error", "error_description", "error_uri", "state", "iss"]);

/**
 * An authorization error delivered to the client (RFC 6749 §4.1.2.1): `error`, state echoed, `iss`
 * (RFC 9207), no code, nothing unexpected, and error/description in RFC 6749 §5.2's character set.
 */
export function expectRedirectError(
  res: Response,
  error: string,
  opts: { state?: string | undefined; redirectUri?: string; description?: RegExp } = {},
): URLSearchParams {
  const params = clientRedirect(res, opts.redirectUri);
  expect(params.get("error"), params.toString()).toBe(error);
  expect(params.get("iss")).toBe(ISSUER);
  if (opts.state === undefined) expect(params.has("state")).toBe(false);
  else expect(params.get("state")).toBe(opts.state);
  for (const name of params.keys()) expect(ERROR_RESPONSE_MEMBERS.has(name), `unexpected member ${name}`).toBe(true);
  expect(params.get("error")).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
  expect(params.get("error_description") ?? "").toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
  if (opts.description) expect(params.get("error_description")).toMatch(opts.description);
  return params;
}

/**
 * The page shown instead of a redirect (RFC 6749 §3.1.2.4, §4.1.2.1): 400 HTML, no Location, the
 * stable error code on the page, and nothing redirected.
 */
export async function expectErrorPage(res: Response, code: string, status = 400): Promise<string> {
  const html = await res.text();
  expect(res.status, html.slice(0, 500)).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(html).toContain(`<code>${code}</code>`);
  return html;
}

/** The form_post page's form (OAuth 2.0 Form Post Response Mode §2): its method, action and hidden fields. */
export function formPostOf(html: string): { method: string; action: string; fields: URLSearchParams } {
  const form = /<form[^>]*>/.exec(html)?.[0] ?? "";
  const attr = (name: string) => /[\s]NAME="([^"]*)"/.source.replace("NAME", name);
  const action = new RegExp(attr("action")).exec(form)?.[1] ?? "";
  const method = new RegExp(attr("method")).exec(form)?.[1] ?? "";
  return {
    method,
    action: action.replace(/&amp;/g, "&").replace(/&quot;/g, '"'),
    fields: new URLSearchParams(hiddenFields(html.slice(html.indexOf("<form"), html.indexOf("</form>") + 7))),
  };
}

/**
 * A form_post authorization response (OAuth 2.0 Form Post Response Mode §2): a 200 HTML page, not
 * cached, no Location, whose only form POSTs to the redirect URI exactly, carries the response as
 * hidden fields, is submitted by a script the CSP nonce allows, and may be sent there by the CSP's
 * form-action. Returns the fields.
 */
export async function expectFormPost(res: Response, redirectUri = REDIRECT_URI): Promise<URLSearchParams> {
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const { method, action, fields } = formPostOf(html);
  expect(method.toLowerCase()).toBe("post");
  expect(action).toBe(redirectUri);
  expect(html.match(/<form/g)).toHaveLength(1);
  const csp = res.headers.get("content-security-policy") ?? "";
  const formAction = /form-action ([^;]*)/.exec(csp)?.[1]?.split(" ") ?? [];
  const url = new URL(redirectUri);
  expect(formAction).toContain(url.protocol === "https:" || url.protocol === "http:" ? url.origin : url.protocol);
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(html).toMatch(new RegExp(`<script nonce="${nonce}">document\\.forms\\[0\\]\\.submit\\(\\);</script>`));
  return fields;
}

type RegisteredClient = { client_id: string; client_secret?: string; token_endpoint_auth_method?: unknown };

/** Redeems a code the way the client is registered to authenticate: Basic, client_secret_post, or none (client_id in the body). */
export function redeemAsRegistered(client: RegisteredClient, code: string, verifier?: string, extra: Record<string, string> = {}) {
  const method = client.token_endpoint_auth_method;
  if (method === "client_secret_post") return redeem({ client_id: client.client_id }, code, verifier, { client_id: client.client_id, client_secret: client.client_secret!, ...extra });
  if (method === "none") return redeem({ client_id: client.client_id }, code, verifier, { client_id: client.client_id, ...extra });
  return redeem(client, code, verifier, extra);
}

/** Runs the code flow once so that `browser` holds a session for `user`; returns the flow's tokens. */
export async function signIn(browser: Browser, client: RegisteredClient, user: { email: string }, extra: Record<string, string> = {}) {
  const { params, verifier } = await codeRequest(client.client_id, extra);
  const flow = await authorize(browser, params, user);
  const back = clientRedirect(flow.response);
  const tokens = await expectTokenResponse(await redeemAsRegistered(client, back.get("code")!, verifier));
  return { params, flow, tokens, idToken: await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token }) };
}
