import { env } from "cloudflare:workers";
import { SignJWT, decodeProtectedHeader } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { d1KeyStore } from "../src/keys/store";
import { keyring } from "../src/keys/keyring";
import { configFrom } from "../src/config";
import { issueLogoutToken } from "../src/tokens/logout-token";
import { ISSUER, call, keyPair, nowSeconds } from "./helpers";
import { Browser, expectErrorPage, frozenClock, person } from "./oidc-helpers";
import {
  POST_LOGOUT_URI, expectPostLogoutRedirect, expectSessionCookieCleared, expectSignOutQuestion, expectSignedOutPage, logoutClient,
  logoutPath, promptNone, sessionEndedAt, signedIn,
} from "./logout-helpers";

/**
 * OpenID Connect RP-Initiated Logout 1.0 at the end_session_endpoint (/logout), rule by rule.
 * The conformance suite's modules are test/oidcc-rp-initiated-logout.test.ts.
 */

afterEach(() => vi.useRealTimers());

const form = (params: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(params).toString(),
});

describe("§2.1 discovery", () => {
  it("end_session_endpoint is the issuer's /logout, and it answers GET", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.end_session_endpoint).toBe(`${ISSUER}/logout`);
    await expectSignedOutPage(await call("/logout"));
  });
});

describe("§2 an id_token_hint naming this browser's session: logged out without asking", () => {
  it("GET with a registered post_logout_redirect_uri → 303 there with state; the cookie is cleared and the session ended", async () => {
    const { browser, client, idToken, claims } = await signedIn();
    const state = "st-è &x=1";
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state }));
    expectPostLogoutRedirect(res, state);
    expectSessionCookieCleared(res);
    expect(await sessionEndedAt(claims.sid)).not.toBeNull();
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });

  it("the session really ended: its cookie, replayed by another browser, opens nothing", async () => {
    const { browser, client, idToken } = await signedIn();
    const stolen = new Browser();
    for (const [name, value] of browser.cookies) stolen.cookies.set(name, value);
    await browser.fetch(logoutPath({ id_token_hint: idToken }));
    expect(await promptNone(stolen, client.client_id)).toBe("login_required");
  });

  it("POST (form-serialized, §2) works the same", async () => {
    const { browser, client, idToken } = await signedIn();
    const res = await browser.fetch("/logout", form({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: "s1" }));
    expectPostLogoutRedirect(res, "s1");
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });

  it("without post_logout_redirect_uri → the signed-out page (no redirect); state alone is not echoed anywhere", async () => {
    const { browser, client, idToken } = await signedIn();
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, state: "unused" }));
    expectSessionCookieCleared(res);
    expect(await expectSignedOutPage(res)).not.toContain("unused");
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });

  it("without state → 303 to the URI exactly; a registered query is kept and state appended after it", async () => {
    const withQuery = `${POST_LOGOUT_URI}?tenant=a%20b`;
    const client = await logoutClient({ post_logout_redirect_uris: [POST_LOGOUT_URI, withQuery] });
    const first = await signedIn({ client });
    expectPostLogoutRedirect(await first.browser.fetch(logoutPath({ id_token_hint: first.idToken, post_logout_redirect_uri: POST_LOGOUT_URI })));
    const second = await signedIn({ client });
    const res = await second.browser.fetch(logoutPath({ id_token_hint: second.idToken, post_logout_redirect_uri: withQuery, state: "q" }));
    expectPostLogoutRedirect(res, "q", withQuery);
  });

  it("an expired id_token_hint is still accepted as a hint (§2: even when exp has passed)", async () => {
    const clock = frozenClock();
    const { browser, client, idToken } = await signedIn();
    clock.advance(3600); // the ID token lived 600 s; the session lives on
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: "late" }));
    expectPostLogoutRedirect(res, "late");
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });

  it("client_id may accompany the hint when it is the hint's audience", async () => {
    const { browser, client, idToken } = await signedIn();
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI }));
    expectPostLogoutRedirect(res);
  });
});

describe("§2 id_token_hint: only ID tokens this server issued", () => {
  async function refused(hint: (s: Awaited<ReturnType<typeof signedIn>>) => Promise<string> | string) {
    const session = await signedIn();
    const res = await session.browser.fetch(logoutPath({ id_token_hint: await hint(session), post_logout_redirect_uri: POST_LOGOUT_URI, state: "x" }));
    await expectErrorPage(res, "logout_id_token_hint_invalid");
    expect(res.headers.getSetCookie().some((c) => c.startsWith("__Host-latchkey-session="))).toBe(false);
    expect(await promptNone(session.browser, session.client.client_id)).toBe("code");
  }

  it("forged: signed by another key under our kid → error page, nothing ended, no redirect", async () => {
    await refused(async ({ idToken, claims }) => {
      const { kid } = decodeProtectedHeader(idToken);
      const attacker = await keyPair("RS256");
      return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: kid!, typ: "JWT" }).sign(attacker.privateKey);
    });
  });

  it("modified: the payload changed after signing", async () => {
    await refused(({ idToken }) => {
      const [h, p, s] = idToken.split(".");
      const claims = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
      const changed = btoa(JSON.stringify({ ...claims, sub: "someone-else" })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      return `${h}.${changed}.${s}`;
    });
  });

  it("not a JWT, or an HS256 token made with the client's secret (oidcc-rp-initiated-logout-bad-id-token-hint)", async () => {
    await refused(() => "not-a-jwt");
    await refused(({ claims, client }) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(client.client_secret!)));
  });

  it("our access token (typ at+jwt) or our logout token (typ logout+jwt), though signed by our keys", async () => {
    await refused(({ accessToken }) => accessToken);
    await refused(async ({ claims, client }) =>
      issueLogoutToken(
        { sub: String(claims.sub), sid: String(claims.sid), clientId: client.client_id, alg: "RS256" },
        { config: configFrom(env), keys: await keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, nowSeconds()), now: nowSeconds() },
      ));
  });
});

describe("§2 client_id", () => {
  it("not the hint's audience → error page (client_id mismatch), no redirect, nothing ended", async () => {
    const { browser, client, idToken } = await signedIn();
    const other = await logoutClient();
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, client_id: other.client_id, post_logout_redirect_uri: POST_LOGOUT_URI }));
    await expectErrorPage(res, "logout_client_mismatch");
    expect(await promptNone(browser, client.client_id)).toBe("code");
  });

  it("unknown → error page", async () => {
    await expectErrorPage(await call(logoutPath({ client_id: "no-such-client" })), "logout_unknown_client");
  });
});

describe("§3 post_logout_redirect_uri: only one the client registered, compared exactly", () => {
  it("unregistered → error page, never a redirect; the session is not ended", async () => {
    const { browser, client, idToken } = await signedIn();
    for (const uri of ["https://evil.example/", `${POST_LOGOUT_URI}?foo=bar`, `${POST_LOGOUT_URI}/`, POST_LOGOUT_URI.toUpperCase()]) {
      await expectErrorPage(await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: uri, state: "s" })),
        "logout_redirect_uri_not_registered");
    }
    expect(await promptNone(browser, client.client_id)).toBe("code");
  });

  it("another client's registered URI is not this client's", async () => {
    await logoutClient({ post_logout_redirect_uris: ["https://rp.example/other-bye"] });
    const { browser, idToken } = await signedIn();
    await expectErrorPage(await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: "https://rp.example/other-bye" })),
      "logout_redirect_uri_not_registered");
  });

  it("with neither id_token_hint nor client_id there is no client to check it against → error page", async () => {
    const { browser } = await signedIn();
    await expectErrorPage(await browser.fetch(logoutPath({ post_logout_redirect_uri: POST_LOGOUT_URI, state: "s" })), "logout_redirect_uri_without_client");
  });
});

describe("§2 the OP MUST ask when the hint is missing or not for this session", () => {
  it("no hint → the question; confirming (CSRF-protected POST) ends the session, clears the cookie, goes on with state", async () => {
    const { browser, client } = await signedIn();
    const res = await browser.fetch(logoutPath({ client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI, state: "ask" }));
    const html = await expectSignOutQuestion(res);
    expect(html).toContain("Example RP");
    // The POST ends in a redirect to the client: the CSP's form-action must allow it (Chromium checks redirects).
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' https://rp.example");
    expect(await promptNone(browser, client.client_id)).toBe("code");
    const done = await browser.submit(html, { decision: "sign_out" }, "/logout/confirm");
    expectPostLogoutRedirect(done, "ask");
    expectSessionCookieCleared(done);
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });

  it("the page names the app and the person, escaped; the error pages say what is wrong without redirecting", async () => {
    const client = await logoutClient({ client_name: "<img src=x> & Co" });
    const { browser } = await signedIn({ client });
    const html = await expectSignOutQuestion(await browser.fetch(logoutPath({ client_id: client.client_id })));
    expect(html).toContain("&lt;img src=x&gt; &amp; Co</strong> asks you to sign out.");
    expect(html).not.toContain("<img src=x>");
    const error = await expectErrorPage(await browser.fetch(logoutPath({ client_id: client.client_id, post_logout_redirect_uri: "https://evil.example/" })),
      "logout_redirect_uri_not_registered");
    expect(error).toContain("<h1>This sign-out link is not valid</h1>");
  });

  it("a hint from another session of the same person → the question; confirming ends this browser's session only", async () => {
    const user = await person();
    const client = await logoutClient();
    const here = await signedIn({ client, user });
    const elsewhere = await signedIn({ client, user });
    const res = await here.browser.fetch(logoutPath({ id_token_hint: elsewhere.idToken }));
    await here.browser.submit(await expectSignOutQuestion(res), { decision: "sign_out" }, "/logout/confirm");
    expect(await sessionEndedAt(here.claims.sid)).not.toBeNull();
    expect(await sessionEndedAt(elsewhere.claims.sid)).toBeNull();
  });

  it("a hint for another person → the question", async () => {
    const client = await logoutClient();
    const mine = await signedIn({ client });
    const theirs = await signedIn({ client });
    await expectSignOutQuestion(await mine.browser.fetch(logoutPath({ id_token_hint: theirs.idToken })));
    expect(await promptNone(mine.browser, client.client_id)).toBe("code");
  });

  it("the confirmation without its CSRF field, or from another site → refused (403), the session lives", async () => {
    const { browser, client } = await signedIn();
    const html = await expectSignOutQuestion(await browser.fetch(logoutPath()));
    await expectErrorPage(await browser.submit(html, { decision: "sign_out", csrf: "" }, "/logout/confirm"), "csrf_invalid", 403);
    const forged = await browser.fetch("/logout/confirm", form({ decision: "sign_out" }, { "sec-fetch-site": "cross-site" }));
    await expectErrorPage(forged, "csrf_invalid", 403);
    expect(await promptNone(browser, client.client_id)).toBe("code");
  });

  it("Stay signed in → nothing ends; on to the app when it asked (with state), else a page saying so", async () => {
    const { browser, client } = await signedIn();
    const ask = await expectSignOutQuestion(await browser.fetch(logoutPath({ client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI, state: "k" })));
    const stayed = await browser.submit(ask, { decision: "continue" }, "/logout/confirm");
    expectPostLogoutRedirect(stayed, "k");
    expect(stayed.headers.getSetCookie()).toEqual([]);
    const plain = await expectSignOutQuestion(await browser.fetch(logoutPath()));
    await expectSignedOutPage(await browser.submit(plain, { decision: "continue" }, "/logout/confirm"), "You are still signed in");
    expect(await promptNone(browser, client.client_id)).toBe("code");
  });

  it("the confirmation re-validates what it carries: a changed post_logout_redirect_uri is refused", async () => {
    const { browser, client } = await signedIn();
    const html = await expectSignOutQuestion(await browser.fetch(logoutPath({ client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI })));
    const res = await browser.submit(html, { decision: "sign_out", post_logout_redirect_uri: "https://evil.example/" }, "/logout/confirm");
    await expectErrorPage(res, "logout_redirect_uri_not_registered");
    expect(await promptNone(browser, client.client_id)).toBe("code");
  });
});

describe("no session in this browser: nothing to end, not an error", () => {
  it("a valid hint and a registered URI → straight on to the app with state (documented choice)", async () => {
    const { idToken } = await signedIn();
    expectPostLogoutRedirect(await new Browser().fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: "n" })), "n");
  });

  it("an already-ended session (logging out twice) → the same answer", async () => {
    const { browser, idToken } = await signedIn();
    const params = { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: "twice" };
    expectPostLogoutRedirect(await browser.fetch(logoutPath(params)), "twice");
    expectPostLogoutRedirect(await browser.fetch(logoutPath(params)), "twice");
  });

  it("client_id and a registered URI but no hint → signed out, with a button (not a redirect) on to the app", async () => {
    const client = await logoutClient();
    const browser = new Browser();
    const res = await browser.fetch(logoutPath({ client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI, state: "c" }));
    const html = await expectSignedOutPage(res);
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' https://rp.example");
    expectPostLogoutRedirect(await browser.submit(html, { decision: "continue" }, "/logout/confirm"), "c");
  });
});

describe("a client's cross-site POST (no SameSite=Lax session cookie) becomes a top-level GET", () => {
  it("303 to GET /logout with the logout parameters only, which then sees the session", async () => {
    const { browser, client, idToken } = await signedIn();
    const params = { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: "xs" };
    // Parameters the logout does not use (logout_hint, ui_locales, anything else) are not carried into the URL.
    const posted = { ...params, logout_hint: "x".repeat(20_000), ui_locales: "en", extra: "1" };
    const crossSite = await call("/logout", { ...form(posted, { "sec-fetch-site": "cross-site" }), redirect: "manual" });
    expect(crossSite.status).toBe(303);
    const location = crossSite.headers.get("location")!;
    expect(Object.fromEntries(new URL(location, ISSUER).searchParams)).toEqual(params);
    expectPostLogoutRedirect(await browser.fetch(location), "xs");
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });
});

describe("request parsing", () => {
  it("a repeated parameter → error page; a JSON POST → error page", async () => {
    await expectErrorPage(await call("/logout?client_id=a&client_id=b"), "duplicate_parameter");
    const json = await call("/logout", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await expectErrorPage(json, "unsupported_content_type");
  });
});
