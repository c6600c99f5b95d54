/**
 * The demo app (src/dev/demo-app.tsx), the relying party `npm run dev` serves at /dev/demo-app so
 * that a newcomer's first sign-in ends on a page showing the claims (issue 17). It exists only on
 * a development server (SHOW_DEV_OUTBOX=true): elsewhere every path is 404. On one, a person goes
 * through it the whole way: the app's authorization request (code, S256 PKCE, state, nonce),
 * sign-in, consent, the callback (code redeemed, ID token verified, UserInfo called), a refresh,
 * and RP-initiated sign-out back to the app with its state.
 */
import { describe, expect, it } from "vitest";
import { DEMO_APP_CLIENT_ID, DEMO_APP_PATH } from "../src/dev/demo-app";
import { ISSUER, call, createClient } from "./helpers";
import { Browser, PASSWORD, hiddenFields, person, workerWithEnv } from "./oidc-helpers";
import { expectPageSecurity } from "./pages-helpers";

const development = workerWithEnv({ SHOW_DEV_OUTBOX: "true" });

/** The client scripts/seed.mjs registers for the demo app, with this server's URIs. */
const registerDemoApp = () =>
  createClient({
    client_id: DEMO_APP_CLIENT_ID,
    client_name: "Demo App",
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    redirect_uris: [`${ISSUER}${DEMO_APP_PATH}/callback`],
    post_logout_redirect_uris: [`${ISSUER}${DEMO_APP_PATH}`],
    scope: "openid profile email address phone offline_access",
  });

/** The JSON block under a heading that starts with `title`, parsed. */
function block(html: string, title: string): Record<string, unknown> {
  const start = html.indexOf(`<strong>${title}`);
  expect(start, `no "${title}" on the page`).toBeGreaterThan(-1);
  const pre = /<pre>([\s\S]*?)<\/pre>/.exec(html.slice(start))![1]!;
  return JSON.parse(pre.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
}

describe("the demo app is for development servers only", () => {
  it("every path is 404 when SHOW_DEV_OUTBOX is not true (as in production)", async () => {
    for (const [path, method] of [["", "GET"], ["/login", "GET"], ["/callback?code=x&state=y", "GET"], ["/refresh", "POST"], ["/logout", "POST"]] as const) {
      const res = await call(`${DEMO_APP_PATH}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.text()).toContain("Page not found");
    }
  });
});

describe("a person signs in through the demo app on a development server", () => {
  it("starts a code flow with S256 PKCE, a state and a nonce, for the demo-app client and its callback here", async () => {
    const browser = new Browser(development);
    const home = await browser.fetch(DEMO_APP_PATH);
    const html = await home.text();
    expectPageSecurity(home, html);
    expect(html).toContain(`href="${DEMO_APP_PATH}/login"`);
    const start = await browser.fetch(`${DEMO_APP_PATH}/login`);
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get("location")!);
    expect(authorize.origin + authorize.pathname).toBe(`${ISSUER}/authorize`);
    const params = Object.fromEntries(authorize.searchParams);
    expect(params).toMatchObject({
      response_type: "code",
      client_id: DEMO_APP_CLIENT_ID,
      redirect_uri: `${ISSUER}${DEMO_APP_PATH}/callback`,
      code_challenge_method: "S256",
      scope: "openid profile email address phone offline_access",
    });
    expect(params.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.state).toBeTruthy();
    expect(params.nonce).toBeTruthy();
  });

  it("signs in, allows, and sees the ID token's claims and UserInfo; refreshes; signs out back to the app", async () => {
    await registerDemoApp();
    const user = await person({ claims: { name: "Dana Demo" } });
    const browser = new Browser(development);
    let res = await browser.follow(await browser.fetch(`${DEMO_APP_PATH}/login`));
    res = await browser.follow(await browser.submit(res, { email: user.email, password: PASSWORD }, "/login"));
    expect(await res.clone().text()).toContain("Demo App");
    res = await browser.follow(await browser.submit(res, { decision: "allow" }, "/consent"));

    expect(res.status).toBe(200);
    let html = await res.text();
    expectPageSecurity(res, html);
    expect(html).toContain("Signed in: the code was redeemed with the PKCE verifier.");
    const claims = block(html, "ID token claims");
    expect(claims).toMatchObject({ iss: ISSUER, aud: DEMO_APP_CLIENT_ID, sub: user.id });
    expect(block(html, "UserInfo")).toMatchObject({ sub: user.id, email: user.email, name: "Dana Demo" });
    const tokens = block(html, "Token response");
    expect(tokens).toMatchObject({ token_type: "Bearer", scope: expect.stringContaining("offline_access") });
    expect(tokens.refresh_token).toMatch(/… \(\d+ characters\)$/);

    res = await browser.submit(html, {}, `${DEMO_APP_PATH}/refresh`);
    html = await res.text();
    expect(html).toContain("Refreshed: a new access token, and the refresh token was rotated.");
    expect(block(html, "UserInfo")).toMatchObject({ sub: user.id, email: user.email });

    const out = await browser.submit(html, {}, `${DEMO_APP_PATH}/logout`);
    expect(out.status).toBe(303);
    const logout = new URL(out.headers.get("location")!);
    expect(logout.pathname).toBe("/logout");
    expect(logout.searchParams.get("post_logout_redirect_uri")).toBe(`${ISSUER}${DEMO_APP_PATH}`);
    expect(logout.searchParams.get("id_token_hint")).toBeTruthy();
    res = await browser.follow(out);
    html = await res.text();
    expect(html).toContain("Signed out of Latchkey; it sent you back here with the app&#39;s state.");
    expect(html).toContain(`href="${DEMO_APP_PATH}/login"`);
    // The Latchkey session ended with it: the account page asks to sign in.
    expect((await browser.fetch("/account")).headers.get("location")).toBe("/login?return=account");
  });

  it("refuses a callback whose state it did not send, without redeeming anything", async () => {
    const browser = new Browser(development);
    await browser.fetch(`${DEMO_APP_PATH}/login`);
    const res = await browser.fetch(`${DEMO_APP_PATH}/callback?code=x&state=forged&iss=${encodeURIComponent(ISSUER)}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("This callback&#39;s state is not the one the app sent");
    expect(Object.keys(hiddenFields(html))).toEqual([]);
  });
});
