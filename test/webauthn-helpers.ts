import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ISSUER } from "./helpers";
import { Browser, PASSWORD, hiddenFields, person } from "./oidc-helpers";
import { SoftAuthenticator as Authenticator, type Tweaks } from "./webauthn-authenticator.mjs";

/**
 * The WebAuthn tests' browser side (test/webauthn-l3-*.test.ts): pages of a signed-in person, the
 * ceremonies they offer, and a software authenticator (./webauthn-authenticator.mjs, shared with
 * the benchmark) answering them, right or wrong on purpose.
 */

export { FLAGS, type Tweaks } from "./webauthn-authenticator.mjs";

/** The software authenticator with the test issuer as its origin. */
export const SoftAuthenticator = {
  create: (options: { synced?: boolean; counter?: number } = {}) => Authenticator.create({ ...options, origin: ISSUER }),
};
export type SoftAuthenticator = Authenticator;

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The ceremony a page offers: the form's options (data-options) and hidden fields. */
export function ceremonyOf(html: string, formId: "passkey-form" | "passkey-add") {
  const at = html.indexOf(`id="${formId}"`);
  expect(at, `no #${formId} on the page`).toBeGreaterThan(-1);
  const start = html.lastIndexOf("<form", at);
  const form = html.slice(start, html.indexOf("</form>", at) + 7);
  const options = JSON.parse(unescape(/data-options="([^"]*)"/.exec(form)![1]!));
  return { options, fields: hiddenFields(form) };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** POSTs a form of `browser` with `fields`. */
export const post = (browser: Browser, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  browser.fetch(path, { method: "POST", headers: { ...FORM, ...headers }, body: new URLSearchParams(fields).toString() });

/** A person signed in with their password just now (a fresh sign-in), in a browser of their own. */
export async function signedInPerson(): Promise<{ browser: Browser; user: { id: string; email: string } }> {
  const user = await person();
  const browser = new Browser();
  const page = await browser.fetch("/login?return=account");
  const res = await browser.submit(page, { email: user.email, password: PASSWORD }, "/login");
  expect(res.status).toBe(303);
  return { browser, user };
}

/** The passkeys page's registration ceremony for `browser`. */
export async function registrationPage(browser: Browser) {
  const page = await browser.fetch("/account/passkeys");
  expect(page.status).toBe(200);
  return ceremonyOf(await page.text(), "passkey-add");
}

/** Registers `authenticator` for the person signed in in `browser`: the POST's response. */
export async function addPasskey(browser: Browser, authenticator: SoftAuthenticator, tweaks: Tweaks = {}, name = "Laptop"): Promise<Response> {
  const { options, fields } = await registrationPage(browser);
  return post(browser, "/account/passkeys/add", { ...fields, name, credential: await authenticator.register(options, tweaks) });
}

/** A person with one registered passkey (`authenticator`). */
export async function personWithPasskey(options: { synced?: boolean; counter?: number } = {}) {
  const { browser, user } = await signedInPerson();
  const authenticator = await SoftAuthenticator.create(options);
  const res = await addPasskey(browser, authenticator);
  expect(res.status, await res.clone().text()).toBe(303);
  return { user, authenticator };
}

/** The sign-in page's passkey ceremony in a new browser (`path`: /login?return=account, or an authorization's sign-in page). */
export async function signInPage(browser = new Browser(), path = "/login?return=account") {
  const page = await browser.fetch(path);
  expect(page.status).toBe(200);
  return { browser, ...ceremonyOf(await page.text(), "passkey-form") };
}

/** Signs in with the passkey on the sign-in page: the POST /login/passkey response. */
export async function passkeySignIn(authenticator: SoftAuthenticator, tweaks: Tweaks = {}, headers: Record<string, string> = {}) {
  const { browser, options, fields } = await signInPage();
  const res = await post(browser, "/login/passkey", { ...fields, credential: await authenticator.assert(options, tweaks) }, headers);
  return { browser, res };
}

/** The stored credential record. */
export const storedPasskey = (credentialId: string) =>
  env.DB.prepare("SELECT * FROM passkeys WHERE credential_id = ?").bind(credentialId).first<Record<string, number | string | null>>();

/** The amr of the person's newest session. */
export async function newestSessionAmr(userId: string): Promise<string[]> {
  const row = await env.DB.prepare("SELECT amr FROM sessions WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1").bind(userId).first<{ amr: string }>();
  return JSON.parse(row!.amr) as string[];
}
