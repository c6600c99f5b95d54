import { afterEach, describe, expect, it, vi } from "vitest";
import { SESSION_COOKIE } from "../src/sessions/cookie";
import { FRESH_SIGN_IN_SECONDS } from "../src/users/reauthentication";
import { PASSWORD, frozenClock } from "./oidc-helpers";
import { expectSessionCookieCleared } from "./logout-helpers";
import { expectSignedOutEverywhere, expectStillSignedIn, signedInTwice, submitForm } from "./password-helpers";

/**
 * ASVS 5.0 V7.5.2: a person can end all their active sessions, having authenticated again (V7.5.1):
 * by a sign-in within FRESH_SIGN_IN_SECONDS (5 minutes), or else by the password. "Everywhere" is
 * every session of the person (each session's clients get a back-channel logout token) and every
 * refresh token, on /account/sign-out-everywhere.
 */

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const signOutEverywhere = (s: Awaited<ReturnType<typeof signedInTwice>>, fields: Record<string, string> = {}) =>
  submitForm(s.browsers[0], "/account/sign-out-everywhere", "/account/sign-out-everywhere", fields);

describe("ASVS 7.5.2: sign out everywhere", () => {
  it("the account page links to it", async () => {
    const s = await signedInTwice();
    expect(await (await s.browsers[0].fetch("/account")).text()).toContain('<a href="/account/sign-out-everywhere">Sign out everywhere</a>');
  });

  it("right after signing in: no password asked; every session and refresh token ends, back-channel logout to the clients; to /logout", async () => {
    const s = await signedInTwice();
    const page = await (await s.browsers[0].fetch("/account/sign-out-everywhere")).text();
    expect(page).not.toContain('name="current_password"');
    const res = await signOutEverywhere(s);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/logout");
    expectSessionCookieCleared(res);
    expect(s.browsers[0].cookies.has(SESSION_COOKIE)).toBe(false);
    await expectSignedOutEverywhere(s);
  });
});

describe("ASVS 7.5.1: a sign-in older than 5 minutes needs the password", () => {
  it(`after ${FRESH_SIGN_IN_SECONDS} s the page asks for the password; without it or with a wrong one nothing ends (400)`, async () => {
    const clock = frozenClock();
    const s = await signedInTwice();
    clock.advance(FRESH_SIGN_IN_SECONDS + 1);
    const page = await (await s.browsers[0].fetch("/account/sign-out-everywhere")).text();
    expect(page).toContain('name="current_password"');
    expect((await signOutEverywhere(s)).status).toBe(400);
    const wrong = await signOutEverywhere(s, { current_password: "not my password" });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("The current password is incorrect.");
    await expectStillSignedIn(s);
  });

  it("with the password: everything ends", async () => {
    const clock = frozenClock();
    const s = await signedInTwice();
    clock.advance(FRESH_SIGN_IN_SECONDS + 1);
    const res = await signOutEverywhere(s, { current_password: PASSWORD });
    expect(res.status).toBe(303);
    await expectSignedOutEverywhere(s);
  });
});
