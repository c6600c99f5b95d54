import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../src/app";
import { ISSUER } from "./helpers";
import { Browser, clientRedirect, codeRequest, oidcClient, person, signIn } from "./oidc-helpers";
import { expectPageSecurity } from "./pages-helpers";

/**
 * Test plumbing for logout: OIDC RP-Initiated Logout 1.0 (test/oidc-rp-initiated-logout.test.ts,
 * test/oidcc-rp-initiated-logout.test.ts) and Back-Channel Logout 1.0
 * (test/oidc-backchannel-logout.test.ts).
 */

/** The post_logout_redirect_uri the logout clients register. */
export const POST_LOGOUT_URI = "https://rp.example/logged-out";

export const logoutClient = (extra: Record<string, unknown> = {}) => oidcClient({ post_logout_redirect_uris: [POST_LOGOUT_URI], ...extra });

/** GET /logout?… */
export const logoutPath = (params: Record<string, string> = {}) => `/logout${Object.keys(params).length ? `?${new URLSearchParams(params)}` : ""}`;

/**
 * The Worker's fetch handler with its `waitUntil` work (back-channel logout) left running: the
 * response comes back at once, `settled()` waits for what the requests so far left behind.
 */
export function deferredWorker() {
  const pending: ExecutionContext[] = [];
  return {
    send: async (path: string, init: RequestInit = {}): Promise<Response> => {
      const ctx = createExecutionContext();
      pending.push(ctx);
      return app.fetch(new Request(new URL(path, ISSUER), init), env, ctx);
    },
    settled: () => Promise.all(pending.splice(0).map((ctx) => waitOnExecutionContext(ctx))),
  };
}

export interface SignedIn {
  browser: Browser;
  client: Awaited<ReturnType<typeof logoutClient>>;
  user: { id: string; email: string };
  /** The ID token as issued (the id_token_hint). */
  idToken: string;
  accessToken: string;
  /** Its verified claims (sub, sid …). */
  claims: Record<string, unknown>;
}

/** A person signed in to `client` (default: a new logout client) through the code flow in a fresh browser. */
export async function signedIn(
  opts: { client?: SignedIn["client"]; user?: SignedIn["user"]; browser?: Browser } = {},
): Promise<SignedIn> {
  const client = opts.client ?? (await logoutClient());
  const user = opts.user ?? (await person());
  const browser = opts.browser ?? new Browser();
  const { tokens, idToken } = await signIn(browser, client, user);
  return { browser, client, user, idToken: tokens.id_token!, accessToken: tokens.access_token, claims: idToken as Record<string, unknown> };
}

/** Whether the browser's session is live: prompt=none answers with a code, or with login_required. */
export async function promptNone(browser: Browser, clientId: string): Promise<"code" | string> {
  const { params } = await codeRequest(clientId, { prompt: "none" });
  const back = clientRedirect(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
  return back.has("code") ? "code" : (back.get("error") ?? "nothing");
}

/** When the session with this sid ended (Unix seconds), or null while it is live. */
export async function sessionEndedAt(sid: unknown): Promise<number | null> {
  const row = await env.DB.prepare("SELECT ended_at FROM sessions WHERE sid = ?").bind(sid).first<{ ended_at: number | null }>();
  expect(row, `no session ${String(sid)}`).not.toBeNull();
  return row!.ended_at;
}

/** The response removes the session cookie (Max-Age=0, with the attributes it was set with). */
export function expectSessionCookieCleared(res: Response): void {
  expect(res.headers.getSetCookie()).toContain("__Host-latchkey-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax");
}

/** §3: 303 to the registered URI exactly, with `state` appended when given and nothing else; not cached. */
export function expectPostLogoutRedirect(res: Response, state?: string, uri = POST_LOGOUT_URI): void {
  expect(res.status).toBe(303);
  const expected = state === undefined ? uri : `${uri}${uri.includes("?") ? "&" : "?"}state=${encodeURIComponent(state)}`;
  expect(res.headers.get("location")).toBe(expected);
  expect(res.headers.get("cache-control")).toBe("no-store");
}

/** §2 "MUST ask": the sign-out page, its form to /logout/confirm with the CSRF field, page security. Returns the HTML. */
export async function expectSignOutQuestion(res: Response): Promise<string> {
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  expect(res.headers.get("location")).toBeNull();
  expectPageSecurity(res, html);
  expect(html).toContain("<h1>Sign out of Latchkey?</h1>");
  expect(html).toContain('action="/logout/confirm"');
  expect(html).toMatch(/<input type="hidden" name="csrf" value="[^"]+"\/>/);
  return html;
}

/** "You are signed out" (or "still signed in"): a page, not a redirect. Returns the HTML. */
export async function expectSignedOutPage(res: Response, heading = "You are signed out"): Promise<string> {
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  expect(res.headers.get("location")).toBeNull();
  expectPageSecurity(res, html);
  expect(html).toContain(`<h1>${heading}</h1>`);
  return html;
}
