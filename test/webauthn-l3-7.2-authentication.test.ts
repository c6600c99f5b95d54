import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { uniqueId } from "./helpers";
import { expectPageSecurity } from "./pages-helpers";
import { Browser, clientRedirect, codeRequest, expectTokenResponse, oidcClient, redeem } from "./oidc-helpers";
import {
  FLAGS, SoftAuthenticator, ceremonyOf, newestSessionAmr, passkeySignIn, personWithPasskey, post, signInPage, storedPasskey,
} from "./webauthn-helpers";

/**
 * W3C WebAuthn Level 3 §7.2 "Verifying an Authentication Assertion", as POST /login/passkey does it
 * for the sign-in page's discoverable-credential request: the challenge single use (§13.4.3) and
 * bound to the sign-in, the user handle (step 6), clientDataJSON type, challenge and origin (steps
 * 11–13), the RP ID hash (step 15), user presence and verification (steps 16–17), the backup flags
 * (step 18, §6.1.3), the signature (step 20) and the counter (step 21: backwards is refused, logged);
 * then the person: a disabled account is refused; every attempt takes the IP's sign-in budget. A
 * sign-in's `amr` (RFC 8176) and `acr` say how the person authenticated.
 */

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const signedIn = (res: Response) => res.status === 303 && res.headers.get("location") === "/account";

async function expectRefused(res: Response) {
  expect(res.status).toBe(400);
  expect(await res.text()).toContain("That passkey could not sign you in.");
}

describe("WebAuthn L3 §7.2: signing in with a passkey", () => {
  it("the sign-in page offers it: the button, autofill on the email field (conditional UI), options with UV required and no allowCredentials", async () => {
    const browser = new Browser();
    const res = await browser.fetch("/login?return=account");
    const html = await res.text();
    expectPageSecurity(res, html);
    expect(html).toContain('autocomplete="username webauthn"');
    expect(html).toContain("Sign in with a passkey");
    const { options, fields } = ceremonyOf(html, "passkey-form");
    expect(options).toMatchObject({ rpId: "latchkey.test", userVerification: "required", allowCredentials: [] });
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fields.state).toBeTruthy();
  });

  it("a registered passkey signs in: session amr [hwk, user, mfa]; counter, backup state and last use recorded", async () => {
    const { user, authenticator } = await personWithPasskey({ counter: 1 });
    const { browser, res } = await passkeySignIn(authenticator);
    expect(signedIn(res)).toBe(true);
    expect(await newestSessionAmr(user.id)).toEqual(["hwk", "user", "mfa"]);
    const row = await storedPasskey(authenticator.id);
    expect(row).toMatchObject({ counter: 2, backed_up: 0 });
    expect(row!.last_used_at).toEqual(expect.any(Number));
    expect((await browser.fetch("/account")).status).toBe(200);
  });

  it("a synced passkey (BE=1) signs in with amr [swk, user, mfa]", async () => {
    const { user, authenticator } = await personWithPasskey({ synced: true });
    expect(signedIn((await passkeySignIn(authenticator)).res)).toBe(true);
    expect(await newestSessionAmr(user.id)).toEqual(["swk", "user", "mfa"]);
  });

  it("in an authorization request: the ID token carries the passkey's amr and acr (phrh: hardware-bound with user verification)", async () => {
    const { authenticator } = await personWithPasskey();
    const client = await oidcClient();
    const { params, verifier } = await codeRequest(client.client_id);
    const browser = new Browser();
    const login = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    const { options, fields } = ceremonyOf(await login.text(), "passkey-form");
    expect(fields.txn).toBeTruthy();
    let res = await browser.follow(await post(browser, "/login/passkey", { ...fields, credential: await authenticator.assert(options) }));
    if (res.status === 200) res = await browser.follow(await browser.submit(await res.text(), { decision: "allow" }, "/consent"));
    const code = clientRedirect(res).get("code")!;
    const tokens = await expectTokenResponse(await redeem(client, code, verifier));
    const claims = decodeJwt(tokens.id_token!);
    expect(claims.amr).toEqual(["hwk", "user", "mfa"]);
    expect(claims.acr).toBe("phrh");
  });

  it("§13.4.3: one challenge, 50 concurrent sign-ins with the same assertion → exactly one session", async () => {
    // Counter 0 (the authenticator keeps none): only the challenge's single use can stop the copies.
    const { user, authenticator } = await personWithPasskey();
    const { browser, options, fields } = await signInPage();
    const credential = await authenticator.assert(options);
    const results = await Promise.all(Array.from({ length: 50 }, () => post(browser, "/login/passkey", { ...fields, credential })));
    expect(results.filter(signedIn)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(49);
    const sessions = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    // The password sign-in that registered the passkey, and one passkey sign-in.
    expect(sessions!.n).toBe(2);
    await expectRefused(await post(browser, "/login/passkey", { ...fields, credential }));
  });

  it("the challenge is bound to its sign-in: a sign-in page's challenge does not sign in for an authorization request", async () => {
    const { authenticator } = await personWithPasskey();
    const { options, fields } = await signInPage();
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    const other = new Browser();
    const login = await other.follow(await other.fetch(`/authorize?${new URLSearchParams(params)}`));
    const otherFields = ceremonyOf(await login.text(), "passkey-form").fields;
    await expectRefused(await post(other, "/login/passkey", { ...otherFields, state: fields.state!, credential: await authenticator.assert(options) }));
  });

  it("steps 16–17: without user verification (UP only) refused; without user presence refused", async () => {
    const { authenticator } = await personWithPasskey();
    await expectRefused((await passkeySignIn(authenticator, { flags: FLAGS.UP })).res);
    await expectRefused((await passkeySignIn(authenticator, { flags: FLAGS.UV })).res);
  });

  it("step 13: another origin refused; step 15: another RP ID refused; step 11: a registration's type refused", async () => {
    const { authenticator } = await personWithPasskey();
    await expectRefused((await passkeySignIn(authenticator, { origin: "https://evil.example" })).res);
    await expectRefused((await passkeySignIn(authenticator, { origin: "http://latchkey.test" })).res);
    await expectRefused((await passkeySignIn(authenticator, { rpId: "evil.example" })).res);
    await expectRefused((await passkeySignIn(authenticator, { type: "webauthn.create" })).res);
  });

  it("step 6: a user handle that is not the credential's person is refused", async () => {
    const { authenticator } = await personWithPasskey();
    await expectRefused((await passkeySignIn(authenticator, { userHandle: "b3RoZXItdXNlcg" })).res);
  });

  it("step 21: a counter that goes backwards is refused and logged", async () => {
    const warn = vi.spyOn(console, "warn");
    const { authenticator } = await personWithPasskey({ counter: 10 });
    expect(signedIn((await passkeySignIn(authenticator)).res)).toBe(true);
    authenticator.counter = 5; // a clone that lags behind
    await expectRefused((await passkeySignIn(authenticator)).res);
    expect(warn.mock.calls.some(([line]) => String(line).includes('"event":"passkey_counter_regressed"'))).toBe(true);
    expect(await storedPasskey(authenticator.id)).toMatchObject({ counter: 11 });
  });

  it("step 18 / §6.1.3: backup eligibility cannot change after registration; BS=1 without BE is refused; BS is updated", async () => {
    const single = await personWithPasskey();
    await expectRefused((await passkeySignIn(single.authenticator, { flags: FLAGS.UP | FLAGS.UV | FLAGS.BE })).res);
    await expectRefused((await passkeySignIn(single.authenticator, { flags: FLAGS.UP | FLAGS.UV | FLAGS.BS })).res);
    const synced = await personWithPasskey({ synced: true });
    await expectRefused((await passkeySignIn(synced.authenticator, { flags: FLAGS.UP | FLAGS.UV })).res);
    expect(signedIn((await passkeySignIn(synced.authenticator, { flags: FLAGS.UP | FLAGS.UV | FLAGS.BE })).res)).toBe(true);
    expect(await storedPasskey(synced.authenticator.id)).toMatchObject({ backup_eligible: 1, backed_up: 0 });
  });

  it("step 20: a signature by another key is refused; an unknown credential is refused", async () => {
    const { authenticator } = await personWithPasskey();
    const impostor = await SoftAuthenticator.create();
    Object.defineProperty(impostor, "credentialId", { value: authenticator.credentialId });
    impostor.userHandle = authenticator.userHandle;
    await expectRefused((await passkeySignIn(impostor)).res);
    await expectRefused((await passkeySignIn(await SoftAuthenticator.create())).res);
  });

  it("a disabled person is refused; removed passkeys no longer sign in", async () => {
    const { user, authenticator } = await personWithPasskey();
    await env.DB.prepare("UPDATE users SET disabled = 1 WHERE id = ?").bind(user.id).run();
    await expectRefused((await passkeySignIn(authenticator)).res);
    await env.DB.prepare("UPDATE users SET disabled = 0 WHERE id = ?").bind(user.id).run();
    expect(signedIn((await passkeySignIn(authenticator)).res)).toBe(true);
    await env.DB.prepare("DELETE FROM passkeys WHERE credential_id = ?").bind(authenticator.id).run();
    await expectRefused((await passkeySignIn(authenticator)).res);
  });

  it("ASVS 6.3.1: each attempt takes the IP's sign-in budget (50 per 15 min): the 51st failure from one IP is 429", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const headers = { "cf-connecting-ip": ip, "x-test": uniqueId("ip") };
    const { browser, fields } = await signInPage();
    const attempts = [];
    for (let i = 0; i < 50; i++) attempts.push(await post(browser, "/login/passkey", { ...fields, state: "not-a-state", credential: "{}" }, headers));
    expect(attempts.every((r) => r.status === 400)).toBe(true);
    const refused = await post(browser, "/login/passkey", { ...fields, credential: "{}" }, headers);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});
