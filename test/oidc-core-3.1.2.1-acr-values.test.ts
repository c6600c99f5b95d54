import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { DEFAULT_ACR_TABLE, acrOf, satisfiesAcr } from "../src/acr";
import { expectError } from "./helpers";
import {
  Browser, PASSWORD, clientRedirect, codeRequest, expectRedirectError, expectTokenResponse, oidcClient, person, redeem, signIn,
} from "./oidc-helpers";
import { push, secretClient } from "./par-jar-helpers";
import { ceremonyOf, personWithPasskey, post, type SoftAuthenticator } from "./webauthn-helpers";

/**
 * OIDC Core §3.1.2.1 `acr_values` and §5.5.1.1 the `acr` claim, with the operator's table
 * (src/acr.ts: a passkey with user verification earns phr, a device-bound one phrh; a password
 * none). The ID token's `acr` is the first requested value the sign-in satisfies. A sign-in from
 * before the request that does not satisfy it is asked again (the sign-in page, with its passkey
 * button; prompt=none → login_required); a sign-in made for the request that still does not is
 * accepted when the request was voluntary and is unmet_authentication_requirements when the acr
 * claim was essential (OpenID Connect Core Unmet Authentication Requirements 1.0 §1).
 */

const essentialAcr = (values: string[]) => ({ claims: JSON.stringify({ id_token: { acr: { essential: true, values } } }) });

/** The authorization request in `browser`, up to the first page or the answer to the client. */
const start = async (browser: Browser, params: Record<string, string>) => browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));

/** Signs in on the sign-in page `page` with the passkey; then allows on the consent page if asked. */
async function passkeyOn(browser: Browser, page: Response, authenticator: SoftAuthenticator) {
  const { options, fields } = ceremonyOf(await page.text(), "passkey-form");
  let res = await browser.follow(await post(browser, "/login/passkey", { ...fields, credential: await authenticator.assert(options) }));
  if (res.status === 200) res = await browser.follow(await browser.submit(await res.text(), { decision: "allow" }, "/consent"));
  return res;
}

/** Signs in on `page` with the password; then allows on the consent page if asked. */
async function passwordOn(browser: Browser, page: Response, email: string) {
  let res = await browser.follow(await browser.submit(await page.text(), { email, password: PASSWORD }, "/login"));
  if (res.status === 200 && (await res.clone().text()).includes('action="/consent"')) {
    res = await browser.follow(await browser.submit(await res.text(), { decision: "allow" }, "/consent"));
  }
  return res;
}

const isSignInPage = async (res: Response) => res.status === 200 && (await res.clone().text()).includes('id="passkey-form"');

async function acrOfCode(client: { client_id: string; client_secret?: string }, res: Response, verifier: string) {
  const tokens = await expectTokenResponse(await redeem(client, clientRedirect(res).get("code")!, verifier));
  return decodeJwt(tokens.id_token!).acr;
}

describe("src/acr.ts: the satisfied value", () => {
  it("the first requested value the sign-in satisfies; else what it earns; satisfiesAcr with nothing requested holds", () => {
    const hwk = ["hwk", "user", "mfa"];
    expect(acrOf(DEFAULT_ACR_TABLE, hwk, ["phr"])).toEqual({ acr: "phr" });
    expect(acrOf(DEFAULT_ACR_TABLE, hwk, ["phr", "phrh"])).toEqual({ acr: "phr" });
    expect(acrOf(DEFAULT_ACR_TABLE, ["swk", "user", "mfa"], ["phrh"])).toEqual({ acr: "phr" });
    expect(acrOf(DEFAULT_ACR_TABLE, ["pwd"], ["phr"])).toEqual({});
    expect(satisfiesAcr(DEFAULT_ACR_TABLE, ["pwd"], undefined)).toBe(true);
    expect(satisfiesAcr(DEFAULT_ACR_TABLE, ["pwd"], ["phr"])).toBe(false);
  });
});

describe("OIDC Core §3.1.2.1: acr_values with a password sign-in", () => {
  it("signing in for the request with a password: voluntary, so the code is issued; the ID token claims no acr", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person();
    const browser = new Browser();
    const { params, verifier } = await codeRequest(client.client_id, { acr_values: "phr" });
    const page = await start(browser, params);
    expect(await isSignInPage(page)).toBe(true);
    expect(await acrOfCode(client, await passwordOn(browser, page, user.email), verifier)).toBeUndefined();
    // Without acr values the page says nothing of it.
    const plain = await start(new Browser(), (await codeRequest(client.client_id)).params);
    expect(await plain.text()).not.toContain("stronger sign-in");
  });

  it("a password session from before: the sign-in page again (a passkey would satisfy it); prompt=none → login_required", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params } = await codeRequest(client.client_id, { acr_values: "phrh phr" });
    const page = await start(browser, params);
    expect(await isSignInPage(page)).toBe(true);
    expect(await page.text()).toContain("This app asks for a stronger sign-in: sign in with a passkey.");
    const silent = await codeRequest(client.client_id, { acr_values: "phr", prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${new URLSearchParams(silent.params)}`), "login_required", { state: silent.params.state });
  });

  it("oidcc-ensure-request-with-acr-values-succeeds: values no sign-in here earns (1 2) ask for nothing: the session is enough, no acr", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id, { acr_values: "1 2" });
    const res = await start(browser, params);
    expect(await acrOfCode(client, res, verifier)).toBeUndefined();
  });

  it("acr_values over 128 bytes → invalid_request (acr_values_too_long)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { acr_values: "a".repeat(129) });
    expectRedirectError(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "invalid_request", { state: params.state, description: /acr_values/ });
  });
});

describe("OIDC Core §3.1.2.1: acr_values with a passkey sign-in", () => {
  it("the ID token's acr is the first requested value the passkey satisfies (phr, though it earns phrh); then prompt=none works silently", async () => {
    const { authenticator } = await personWithPasskey();
    const client = await oidcClient({ first_party: true });
    const browser = new Browser();
    const first = await codeRequest(client.client_id, { acr_values: "phr" });
    expect(await acrOfCode(client, await passkeyOn(browser, await start(browser, first.params), authenticator), first.verifier)).toBe("phr");
    const silent = await codeRequest(client.client_id, { acr_values: "phrh phr", prompt: "none" });
    expect(await acrOfCode(client, await browser.fetch(`/authorize?${new URLSearchParams(silent.params)}`), silent.verifier)).toBe("phrh");
  });

  it("a synced passkey (phr) does not satisfy phrh: asked to sign in again; prompt=none → login_required", async () => {
    const { authenticator } = await personWithPasskey({ synced: true });
    const client = await oidcClient({ first_party: true });
    const browser = new Browser();
    const first = await codeRequest(client.client_id);
    expect(await acrOfCode(client, await passkeyOn(browser, await start(browser, first.params), authenticator), first.verifier)).toBe("phr");
    const { params } = await codeRequest(client.client_id, { acr_values: "phrh" });
    expect(await isSignInPage(await start(browser, params))).toBe(true);
    const silent = await codeRequest(client.client_id, { acr_values: "phrh", prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${new URLSearchParams(silent.params)}`), "login_required", { state: silent.params.state });
  });

  it("a password session stepped up: the sign-in page again, a passkey this time, acr phr", async () => {
    const { user, authenticator } = await personWithPasskey();
    const client = await oidcClient({ first_party: true });
    const browser = new Browser();
    await signIn(browser, client, { email: user.email });
    const { params, verifier } = await codeRequest(client.client_id, { acr_values: "phr" });
    const page = await start(browser, params);
    expect(await isSignInPage(page)).toBe(true);
    expect(await acrOfCode(client, await passkeyOn(browser, page, authenticator), verifier)).toBe("phr");
  });
});

describe("OIDC Core §5.5.1.1: the acr claim, essential", () => {
  it("met by a passkey sign-in: acr phr", async () => {
    const { authenticator } = await personWithPasskey();
    const client = await oidcClient({ first_party: true });
    const browser = new Browser();
    const { params, verifier } = await codeRequest(client.client_id, essentialAcr(["phr"]));
    expect(await acrOfCode(client, await passkeyOn(browser, await start(browser, params), authenticator), verifier)).toBe("phr");
  });

  it("a password sign-in made for it does not meet it → unmet_authentication_requirements, redirected with state", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person();
    const browser = new Browser();
    const { params } = await codeRequest(client.client_id, essentialAcr(["phr"]));
    const res = await passwordOn(browser, await start(browser, params), user.email);
    expectRedirectError(res, "unmet_authentication_requirements", { state: params.state });
  });

  it("its values win over acr_values; essential without values means any value the table knows", async () => {
    const { authenticator } = await personWithPasskey({ synced: true });
    const client = await oidcClient({ first_party: true });
    const browser = new Browser();
    const both = await codeRequest(client.client_id, { acr_values: "phrh", claims: JSON.stringify({ id_token: { acr: { values: ["phr"] } } }) });
    expect(await acrOfCode(client, await passkeyOn(browser, await start(browser, both.params), authenticator), both.verifier)).toBe("phr");
    const any = await codeRequest(client.client_id, { prompt: "none", claims: JSON.stringify({ id_token: { acr: { essential: true } } }) });
    expect(await acrOfCode(client, await browser.fetch(`/authorize?${new URLSearchParams(any.params)}`), any.verifier)).toBe("phr");
  });

  it("values no sign-in here can meet → unmet_authentication_requirements at once (no sign-in page); at PAR a 400", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, essentialAcr(["urn:example:loa:4"]));
    expectRedirectError(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "unmet_authentication_requirements", { state: params.state });
    const parClient = await secretClient();
    const pushedParams = (await codeRequest(parClient.client_id, essentialAcr(["urn:example:loa:4"]))).params;
    await expectError(await push(parClient, pushedParams), 400, "unmet_authentication_requirements", "unmet_authentication_requirements");
  });
});
