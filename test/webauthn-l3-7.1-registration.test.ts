import { afterEach, describe, expect, it, vi } from "vitest";
import { VerifyEmailDonePage } from "../src/pages";
import { FRESH_SIGN_IN_SECONDS } from "../src/users/reauthentication";
import { Browser, PASSWORD, expectErrorPage, frozenClock, person } from "./oidc-helpers";
import { expectPageSecurity } from "./pages-helpers";
import { FLAGS, SoftAuthenticator, addPasskey, post, registrationPage, signedInPerson, storedPasskey } from "./webauthn-helpers";

/**
 * W3C WebAuthn Level 3 §7.1 "Registering a New Credential", as /account/passkeys does it: after a
 * fresh sign-in (ASVS 5.0 V7.5.1), with a challenge that is single use and bound to the session
 * (§13.4.3), the origin and RP ID checked (§7.1 steps 9, 13), user verification required (step
 * 16), and the backup flags kept (§6.1.3). The responses come from a software authenticator
 * (test/webauthn-helpers.ts) so each rule can be broken alone.
 */

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("WebAuthn L3 §7.1: registering a passkey from /account/passkeys", () => {
  it("after a fresh sign-in: registered, named, listed with its date; the record keeps key, counter and backup flags", async () => {
    const { browser } = await signedInPerson();
    const authenticator = await SoftAuthenticator.create({ counter: 7 });
    const { options } = await registrationPage(browser);
    expect(options.rp.id).toBe("latchkey.test");
    expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(options.attestation).toBe("none");
    const res = await addPasskey(browser, authenticator, {}, "My laptop");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account/passkeys?notice=added");
    const row = await storedPasskey(authenticator.id);
    expect(row).toMatchObject({ name: "My laptop", counter: 7, backup_eligible: 0, backed_up: 0, last_used_at: null, transports: '["internal"]' });
    const res2 = await browser.fetch("/account/passkeys?notice=added");
    const page = await res2.text();
    // The page security every page has: CSP with a nonce that its WebAuthn script carries, no framing, no-store.
    expectPageSecurity(res2, page);
    expect(page).toContain("<h3>My laptop</h3>");
    expect(page).toContain("not used yet");
    expect(page).toContain("Passkey added.");
  });

  it("§6.1.3: a synced passkey (BE=1, BS=1) is recorded as backup eligible and backed up", async () => {
    const { browser } = await signedInPerson();
    const authenticator = await SoftAuthenticator.create({ synced: true });
    expect((await addPasskey(browser, authenticator)).status).toBe(303);
    expect(await storedPasskey(authenticator.id)).toMatchObject({ backup_eligible: 1, backed_up: 1 });
  });

  it("§6.1.3: BS=1 without BE (backed up yet not eligible) is refused", async () => {
    const { browser } = await signedInPerson();
    const authenticator = await SoftAuthenticator.create();
    await expectErrorPage(await addPasskey(browser, authenticator, { flags: FLAGS.UP | FLAGS.UV | FLAGS.BS }), "passkey_invalid");
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });

  it("several passkeys per person; the second is offered the first in excludeCredentials", async () => {
    const { browser } = await signedInPerson();
    const first = await SoftAuthenticator.create();
    expect((await addPasskey(browser, first, {}, "Laptop")).status).toBe(303);
    const { options } = await registrationPage(browser);
    expect(options.excludeCredentials).toEqual([expect.objectContaining({ id: first.id })]);
    expect((await addPasskey(browser, await SoftAuthenticator.create(), {}, "Phone")).status).toBe(303);
    const page = await (await browser.fetch("/account/passkeys")).text();
    expect(page).toContain("<h3>Laptop</h3>");
    expect(page).toContain("<h3>Phone</h3>");
  });

  it("step 16: user verification is required — a response without UV is refused, nothing stored", async () => {
    const { browser } = await signedInPerson();
    const authenticator = await SoftAuthenticator.create();
    await expectErrorPage(await addPasskey(browser, authenticator, { flags: FLAGS.UP }), "passkey_invalid");
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });

  it("step 9: another origin in clientDataJSON is refused", async () => {
    const { browser } = await signedInPerson();
    const authenticator = await SoftAuthenticator.create();
    await expectErrorPage(await addPasskey(browser, authenticator, { origin: "https://latchkey.test.evil.example" }), "passkey_invalid");
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });

  it("step 13: a credential scoped to another RP ID (rpIdHash) is refused", async () => {
    const { browser } = await signedInPerson();
    const authenticator = await SoftAuthenticator.create();
    await expectErrorPage(await addPasskey(browser, authenticator, { rpId: "evil.example" }), "passkey_invalid");
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });

  it("step 7: an assertion's clientDataJSON type (webauthn.get) is refused", async () => {
    const { browser } = await signedInPerson();
    const authenticator = await SoftAuthenticator.create();
    await expectErrorPage(await addPasskey(browser, authenticator, { type: "webauthn.get" }), "passkey_invalid");
  });

  it("§13.4.3: one challenge, 50 concurrent registrations (50 authenticators) → exactly one passkey", async () => {
    const { browser } = await signedInPerson();
    const { options, fields } = await registrationPage(browser);
    const authenticators = await Promise.all(Array.from({ length: 50 }, () => SoftAuthenticator.create()));
    const credentials = await Promise.all(authenticators.map((a) => a.register(options)));
    const results = await Promise.all(credentials.map((credential) => post(browser, "/account/passkeys/add", { ...fields, name: "Race", credential })));
    expect(results.map((r) => r.status).sort()).toEqual([...Array(49).fill(400), 303].sort());
    const stored = await Promise.all(authenticators.map((a) => storedPasskey(a.id)));
    expect(stored.filter((row) => row !== null)).toHaveLength(1);
    // And afterwards too.
    const again = await post(browser, "/account/passkeys/add", { ...fields, name: "Later", credential: await (await SoftAuthenticator.create()).register(options) });
    await expectErrorPage(again, "passkey_challenge_invalid");
  });

  it("the challenge is bound to the session: another session's page cannot be answered", async () => {
    const a = await signedInPerson();
    const b = await signedInPerson();
    const { options, fields } = await registrationPage(a.browser);
    const authenticator = await SoftAuthenticator.create();
    // b's own CSRF token, a's challenge state.
    const bFields = (await registrationPage(b.browser)).fields;
    const res = await post(b.browser, "/account/passkeys/add", { ...bFields, state: fields.state!, name: "Stolen", credential: await authenticator.register(options) });
    await expectErrorPage(res, "passkey_challenge_invalid");
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });

  it(`ASVS 7.5.1: ${FRESH_SIGN_IN_SECONDS} s after sign-in no passkey can be added; the page asks to sign in again`, async () => {
    const clock = frozenClock();
    const { browser } = await signedInPerson();
    const { options, fields } = await registrationPage(browser);
    clock.advance(FRESH_SIGN_IN_SECONDS + 1);
    const page = await (await browser.fetch("/account/passkeys")).text();
    expect(page).not.toContain('id="passkey-add"');
    expect(page).toContain('href="/login?return=passkeys"');
    const authenticator = await SoftAuthenticator.create();
    const res = await post(browser, "/account/passkeys/add", { ...fields, name: "Late", credential: await authenticator.register(options) });
    await expectErrorPage(res, "passkey_reauthentication_required", 403);
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });

  it("without a session: to the sign-in page that returns to the passkeys; without the CSRF token: refused", async () => {
    const { browser } = await signedInPerson();
    const { options, fields } = await registrationPage(browser);
    const credential = await (await SoftAuthenticator.create()).register(options);
    const { csrf: _csrf, ...noCsrf } = fields;
    await expectErrorPage(await post(browser, "/account/passkeys/add", { ...noCsrf, name: "x", credential }), "csrf_invalid", 403);
    const res = await new Browser().fetch("/account/passkeys");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?return=passkeys");
  });

  it("at the end of sign-up: the 'Email verified' page offers a passkey; the link signs the person in (return=passkeys) and lands on the add form", async () => {
    const done = String(await VerifyEmailDonePage({ nonce: "n".repeat(22) }));
    expect(done).toContain('<a href="/account/passkeys">add a passkey</a>');
    const user = await person();
    const browser = new Browser();
    const away = await browser.fetch("/account/passkeys");
    expect(away.headers.get("location")).toBe("/login?return=passkeys");
    const login = await browser.follow(away);
    expect(await login.clone().text()).toContain("again to add a passkey");
    const back = await browser.submit(login, { email: user.email, password: PASSWORD }, "/login");
    expect(back.headers.get("location")).toBe("/account/passkeys");
    expect(await (await browser.fetch("/account/passkeys")).text()).toContain('id="passkey-add"');
  });

  it("a name is required (1–64 characters)", async () => {
    const { browser } = await signedInPerson();
    const { options, fields } = await registrationPage(browser);
    const credential = await (await SoftAuthenticator.create()).register(options);
    await expectErrorPage(await post(browser, "/account/passkeys/add", { ...fields, name: "  ", credential }), "passkey_name_invalid");
  });

  it("removing: the person's own passkey goes (CSRF-protected POST); another person's id removes nothing", async () => {
    const a = await signedInPerson();
    const b = await signedInPerson();
    const authenticator = await SoftAuthenticator.create();
    expect((await addPasskey(a.browser, authenticator)).status).toBe(303);
    const bPage = await (await b.browser.fetch("/account/passkeys")).text();
    const bCsrf = /name="csrf" value="([^"]+)"/.exec(bPage)![1]!;
    const notMine = await post(b.browser, "/account/passkeys/remove", { csrf: bCsrf, credential_id: authenticator.id });
    expect(notMine.headers.get("location")).toBe("/account/passkeys?notice=nothing_removed");
    expect(await storedPasskey(authenticator.id)).not.toBeNull();
    const aPage = await (await a.browser.fetch("/account/passkeys")).text();
    const removed = await a.browser.submit(aPage, {}, "/account/passkeys/remove");
    expect(removed.headers.get("location")).toBe("/account/passkeys?notice=removed");
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });
});
