import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { listOutbox } from "../src/mail/outbox";
import { deferredWorker, promptNone } from "./logout-helpers";
import { Browser, PASSWORD, hiddenFields, person } from "./oidc-helpers";
import { offlineTokens, refresh, refreshClient, type Registered } from "./rfc6749-6-helpers";
import { serveRpDocuments } from "./rfc7591-helpers";

/**
 * Shared by the password tests (test/asvs-6.4.3-password-reset.test.ts,
 * test/asvs-6.2.3-password-change.test.ts, test/asvs-7.5.2-sign-out-everywhere.test.ts): a person
 * signed in twice (two browsers) to a client with a back-channel logout URI and refresh tokens,
 * through a Worker whose waitUntil work (mail, back-channel logout) the test can wait for; and
 * what "signed out everywhere" means, checked.
 */

export const BCL_URI = "https://rp.example/password-bcl";

export const mailsTo = (email: string) => listOutbox(env.DB, email);

/** The token of the newest reset link mailed to `email`. */
export async function resetToken(email: string): Promise<string> {
  const mail = (await mailsTo(email)).find((m) => m.subject === "Reset your password");
  expect(mail, `no reset mail to ${email}`).toBeDefined();
  return /\/password\/reset\?token=([A-Za-z0-9_-]{43})/.exec(mail!.text)![1]!;
}

export interface SignedInTwice {
  worker: ReturnType<typeof deferredWorker>;
  client: Registered;
  user: { id: string; email: string };
  /** Two browsers, each with its own session, each with a refresh token of its own. */
  browsers: [Browser, Browser];
  refreshTokens: [string, string];
  /** The back-channel logout POSTs received (their logout_token's form body). */
  logoutPosts: string[];
}

export async function signedInTwice(): Promise<SignedInTwice> {
  const logoutPosts: string[] = [];
  serveRpDocuments({
    [BCL_URI]: async (request) => {
      logoutPosts.push(await request.text());
      return new Response(null, { status: 200 });
    },
  });
  const worker = deferredWorker();
  const client = await refreshClient({ backchannel_logout_uri: BCL_URI });
  const user = await person();
  const browsers: [Browser, Browser] = [new Browser(worker.send), new Browser(worker.send)];
  const first = await offlineTokens(client, { user, browser: browsers[0] });
  const second = await offlineTokens(client, { user, browser: browsers[1] });
  await worker.settled();
  return { worker, client, user, browsers, refreshTokens: [first.tokens.refresh_token, second.tokens.refresh_token], logoutPosts };
}

/**
 * Both sessions ended (prompt=none: login_required), both refresh tokens refused, each session's
 * client told over the back channel; `live` sessions of the person are left (a new one made since).
 */
export async function expectSignedOutEverywhere(s: SignedInTwice, live = 0): Promise<void> {
  await s.worker.settled();
  for (const browser of s.browsers) expect(await promptNone(browser, s.client.client_id)).toBe("login_required");
  for (const token of s.refreshTokens) {
    const res = await refresh(s.client, token);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
  }
  expect(s.logoutPosts).toHaveLength(2);
  for (const body of s.logoutPosts) expect(new URLSearchParams(body).has("logout_token")).toBe(true);
  const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND ended_at IS NULL").bind(s.user.id).first<{ n: number }>();
  expect(left!.n).toBe(live);
}

/** Nothing ended: both sessions live, the refresh tokens not revoked, no back-channel POST. */
export async function expectStillSignedIn(s: SignedInTwice): Promise<void> {
  await s.worker.settled();
  for (const browser of s.browsers) expect(await promptNone(browser, s.client.client_id)).toBe("code");
  const revoked = await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_token_families WHERE user_id = ? AND revoked_at IS NOT NULL")
    .bind(s.user.id).first<{ n: number }>();
  expect(revoked!.n).toBe(0);
  expect(s.logoutPosts).toEqual([]);
}

/** Whether `password` signs `email` in (POST /login from a fresh browser, outside an authorization request). */
export async function signsIn(email: string, password = PASSWORD): Promise<boolean> {
  const browser = new Browser();
  const page = await browser.fetch("/login?return=account");
  const res = await browser.submit(page, { email, password }, "/login");
  return res.status === 303 && res.headers.get("location") === "/account";
}

/** Submits the form at `path` (GET, then POST its form with `fields`) in `browser`. */
export async function submitForm(browser: Browser, path: string, action: string, fields: Record<string, string>): Promise<Response> {
  const page = await browser.fetch(path);
  expect(page.status, path).toBe(200);
  const html = await page.text();
  expect(hiddenFields(html).csrf).toBeTruthy();
  return browser.submit(html, fields, action);
}
