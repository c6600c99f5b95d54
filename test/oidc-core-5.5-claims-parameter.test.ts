import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { USER_CLAIM_NAMES } from "../src/tokens/claims";
import { FULL_CLAIMS, basic, call, expectError, tokenRequest } from "./helpers";
import {
  Browser, PASSWORD, authorize, clientRedirect, codeRequest, expectRedirectError, expectTokenResponse, oidcClient, person, redeem, signIn, verifyIdToken,
} from "./oidc-helpers";
import { keyClient, push, pushed, redeemWith, requestObject, secretClient } from "./par-jar-helpers";

/**
 * OIDC Core §5.5 (the `claims` request parameter): a JSON object whose `id_token` and `userinfo`
 * members ask for the person's claims one by one (each null or {essential, value, values}). The
 * ID token carries what `id_token` asks for, UserInfo answers what `userinfo` asks for beside the
 * scope's claims; claims beyond the scope's are listed on the consent page and approved for this
 * authorization (src/authorize/decision.ts claims_beyond_scope); a malformed parameter is
 * invalid_request (claims_invalid). The acr claim (§5.5.1.1) is in
 * test/oidc-core-3.1.2.1-acr-values.test.ts, the sub value (§5.5.1) in test/oidc-core-3.1.2.1-id-token-hint.test.ts.
 */

const claimsParam = (value: unknown) => ({ claims: JSON.stringify(value) });
const userinfoOf = async (accessToken: string) =>
  (await (await call("/userinfo", { headers: { authorization: `Bearer ${accessToken}` } })).json()) as Record<string, unknown>;

/** The code flow with `extra` parameters for `user`: the pages seen, the tokens and the verified ID token. */
async function flow(client: { client_id: string; client_secret?: string }, user: { email: string }, extra: Record<string, string>, browser = new Browser()) {
  const { params, verifier } = await codeRequest(client.client_id, extra);
  const result = await authorize(browser, params, user);
  const code = clientRedirect(result.response).get("code")!;
  const tokens = await expectTokenResponse(await redeem(client, code, verifier));
  const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
  return { pages: result.pages, tokens, idToken };
}

describe("OIDC Discovery §3: claims_parameter_supported, claims_supported", () => {
  it("claims_parameter_supported is true; claims_supported lists every claim a claims request can ask for", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as { claims_parameter_supported: boolean; claims_supported: string[] };
    expect(meta.claims_parameter_supported).toBe(true);
    for (const name of [...USER_CLAIM_NAMES, "sub", "acr", "auth_time"]) expect(meta.claims_supported).toContain(name);
  });
});

describe("OIDC Core §5.5: the id_token member", () => {
  it("asked for beyond the scope: the consent page lists them; the ID token carries the person's values (essential or not), UserInfo only the scope's", async () => {
    const client = await oidcClient();
    const user = await person({ claims: { name: "Ada Lovelace", phone_number: "+44 20 7946 0000" } });
    const browser = new Browser();
    const { params, verifier } = await codeRequest(client.client_id, claimsParam({ id_token: { name: { essential: true }, email: null, nickname: null } }));
    let res = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    res = await browser.follow(await browser.submit(await res.text(), { email: user.email, password: PASSWORD }, "/login"));
    const consent = await res.text();
    expect(consent).toContain("See your name");
    expect(consent).toContain("See your email address");
    expect(consent).toContain("See your nickname");
    res = await browser.follow(await browser.submit(consent, { decision: "allow" }, "/consent"));
    const tokens = await expectTokenResponse(await redeem(client, clientRedirect(res).get("code")!, verifier));
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
    expect(idToken.name).toBe("Ada Lovelace");
    expect(idToken.email).toBe(user.email);
    // The person has no nickname: left out. Not asked for: phone_number.
    expect(idToken).not.toHaveProperty("nickname");
    expect(idToken).not.toHaveProperty("phone_number");
    expect(await userinfoOf(tokens.access_token)).toEqual({ sub: user.id });
  });

  it("within the scope the consent already covers: no consent page, the ID token carries them", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user, { scope: "openid email" });
    const { pages, idToken } = await flow(client, user, { scope: "openid email", ...claimsParam({ id_token: { email: null, email_verified: null } }) }, browser);
    expect(pages).toEqual([]);
    expect(idToken.email).toBe(user.email);
    expect(idToken.email_verified).toBe(true);
  });

  it("beyond the scope, the stored consent does not cover them: asked again each time; prompt=none → consent_required", async () => {
    const client = await oidcClient();
    const user = await person({ claims: FULL_CLAIMS });
    const browser = new Browser();
    await signIn(browser, client, user);
    const asked = claimsParam({ id_token: { address: null } });
    const first = await flow(client, user, asked, browser);
    expect(first.pages).toEqual(["consent"]);
    expect(first.idToken.address).toEqual(FULL_CLAIMS.address);
    const again = await flow(client, user, asked, browser);
    expect(again.pages).toEqual(["consent"]);
    const { params } = await codeRequest(client.client_id, { ...asked, prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${new URLSearchParams(params)}`), "consent_required", { state: params.state });
  });

  it("a first-party client gets them without a consent page", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person({ claims: { name: "Ada Lovelace" } });
    const { pages, idToken } = await flow(client, user, claimsParam({ id_token: { name: null } }));
    expect(pages).toEqual(["login"]);
    expect(idToken.name).toBe("Ada Lovelace");
  });

  it("protocol claims cannot be asked into the ID token (iss, aud, sub are ours); unknown claim names are ignored", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person();
    const { idToken } = await flow(client, user, claimsParam({ id_token: { iss: { value: "x" }, aud: null, favourite_colour: { essential: true } }, other_member: 1 }));
    expect(idToken.sub).toBe(user.id);
    expect(idToken).not.toHaveProperty("favourite_colour");
  });
});

describe("OIDC Core §5.5: the userinfo member", () => {
  it("oidcc-claims-essential: {userinfo: {name: {essential: true}}} with scope openid → UserInfo answers name (not the ID token)", async () => {
    const client = await oidcClient();
    const user = await person({ claims: { name: "Ada Lovelace" } });
    const { pages, tokens, idToken } = await flow(client, user, claimsParam({ userinfo: { name: { essential: true }, phone_number: null } }));
    expect(pages).toEqual(["login", "consent"]);
    expect(idToken).not.toHaveProperty("name");
    // The person has no phone number: left out.
    expect(await userinfoOf(tokens.access_token)).toEqual({ sub: user.id, name: "Ada Lovelace" });
  });

  it("the access token carries the names UserInfo needs (userinfo_claims), nothing else of the request", async () => {
    const client = await oidcClient({ first_party: true });
    const { tokens } = await flow(client, await person(), { scope: "openid email", ...claimsParam({ userinfo: { birthdate: null, zoneinfo: null } }) });
    expect(decodeJwt(tokens.access_token).userinfo_claims).toBe("birthdate zoneinfo");
    const plain = await flow(client, await person(), {});
    expect(decodeJwt(plain.tokens.access_token)).not.toHaveProperty("userinfo_claims");
  });
});

describe("OIDC Core §5.5: pushed (RFC 9126) like any parameter, or inside a request object (§6.1)", () => {
  it("OIDC Core §6.1: in a request object `claims` is a JSON object, honoured the same", async () => {
    const client = await keyClient({ first_party: true });
    const user = await person({ claims: { name: "Ada Lovelace" } });
    const { params, verifier } = await codeRequest(client.client_id);
    const request = await requestObject(client, { ...params, claims: { id_token: { name: { essential: true } } } });
    const result = await authorize(new Browser(), { client_id: client.client_id, request }, user);
    const tokens = await expectTokenResponse(await redeemWith(client, clientRedirect(result.response).get("code")!, verifier));
    expect(decodeJwt(tokens.id_token!).name).toBe("Ada Lovelace");
  });

  it("a claims request pushed to PAR is honoured at the authorization endpoint", async () => {
    const client = await secretClient({ first_party: true });
    const user = await person({ claims: { name: "Ada Lovelace" } });
    const { requestUri, verifier } = await pushed(client, claimsParam({ id_token: { name: null } }));
    const result = await authorize(new Browser(), { client_id: client.client_id, request_uri: requestUri }, user);
    const tokens = await expectTokenResponse(await redeemWith(client, clientRedirect(result.response).get("code")!, verifier));
    expect(decodeJwt(tokens.id_token!).name).toBe("Ada Lovelace");
  });

  it("a malformed claims request is refused at PAR: 400 invalid_request claims_invalid", async () => {
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id, { claims: "[1]" });
    await expectError(await push(client, params), 400, "invalid_request", "claims_invalid");
  });
});

describe("OIDC Core §5.5: a malformed claims parameter → invalid_request (claims_invalid), redirected", () => {
  const cases: [string, string][] = [
    ["not JSON", "{not json"],
    ["not an object", "[]"],
    ["null", "null"],
    ["userinfo not an object", JSON.stringify({ userinfo: ["name"] })],
    ["a claim neither null nor an object", JSON.stringify({ id_token: { name: true } })],
    ["essential not a boolean", JSON.stringify({ userinfo: { name: { essential: "yes" } } })],
    ["values not an array", JSON.stringify({ id_token: { acr: { values: "phr" } } })],
    ["acr values not strings", JSON.stringify({ id_token: { acr: { values: [1] } } })],
    ["sub value not a subject", JSON.stringify({ id_token: { sub: { value: 42 } } })],
  ];
  it.each(cases)("%s", async (_name, value) => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { claims: value });
    expectRedirectError(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "invalid_request", { state: params.state, description: /claims/ });
  });
});

describe("OIDC Core §12.2: tokens from a refresh carry the scope's claims", () => {
  it("the refreshed ID token has none of the claims request's claims (the request applied to its authorization)", async () => {
    const client = await oidcClient({ first_party: true, grant_types: ["authorization_code", "refresh_token"] });
    const user = await person({ claims: { name: "Ada Lovelace" } });
    const { tokens, idToken } = await flow(client, user, { scope: "openid offline_access", ...claimsParam({ id_token: { name: null } }) });
    expect(idToken.name).toBe("Ada Lovelace");
    const refreshed = await expectTokenResponse(await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token! }, { authorization: basic(client.client_id, client.client_secret!) }));
    expect(decodeJwt(refreshed.id_token!)).not.toHaveProperty("name");
  });
});
