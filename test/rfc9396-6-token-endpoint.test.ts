import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { AuthorizationDetail } from "../src/authorize/authorization-details";
import { expectError } from "./helpers";
import { Browser, authorize, clientRedirect, codeRequest, expectTokenResponse, person, redeemAsRegistered } from "./oidc-helpers";
import { introspect, refresh, refreshClient, type Registered } from "./rfc6749-6-helpers";
import { CUSTOMER, PAYMENT } from "./rfc9396-helpers";

/**
 * RFC 9396 §6, §7, §9 at the token endpoint: what the person granted reaches the token response
 * (`authorization_details`), the access token's claim and introspection; a token request —
 * authorization_code or refresh_token — may ask for a narrower set (§6.1, the subset rule of
 * src/authorize/authorization-details.ts), never for more. The types are vitest.config.ts's.
 */

const READ_CONTACTS: AuthorizationDetail = { ...CUSTOMER, actions: ["read"], datatypes: ["contacts"] };

type DetailsTokens = { access_token: string; refresh_token?: string; authorization_details?: AuthorizationDetail[] };

/** The code flow with authorization_details (and offline_access), the person allowing; returns the code. */
async function grantedCode(client: Registered, details: AuthorizationDetail[] | undefined) {
  const { params, verifier } = await codeRequest(client.client_id, {
    scope: "openid offline_access", prompt: "consent",
    ...(details && { authorization_details: JSON.stringify(details) }),
  });
  const flow = await authorize(new Browser(), params, await person());
  expect(flow.pages).toContain("consent");
  return { code: clientRedirect(flow.response).get("code")!, verifier };
}

const redeemed = async (client: Registered, code: string, verifier: string, extra: Record<string, string> = {}) =>
  (await expectTokenResponse(await redeemAsRegistered(client as never, code, verifier, extra))) as DetailsTokens;

describe("RFC 9396 §7, §9: the granted details in the token response, the access token and introspection", () => {
  it("§7 token response member, §9.1 the access token's authorization_details claim, §9.2 introspection", async () => {
    const client = await refreshClient();
    const { code, verifier } = await grantedCode(client, [PAYMENT, CUSTOMER]);
    const tokens = await redeemed(client, code, verifier);
    expect(tokens.authorization_details).toEqual([PAYMENT, CUSTOMER]);
    expect(decodeJwt(tokens.access_token).authorization_details).toEqual([PAYMENT, CUSTOMER]);
    expect((await introspect(client, tokens.access_token)).authorization_details).toEqual([PAYMENT, CUSTOMER]);
  });

  it("a grant without details has none: no member, no claim", async () => {
    const client = await refreshClient();
    const { code, verifier } = await grantedCode(client, undefined);
    const tokens = await redeemed(client, code, verifier);
    expect(tokens).not.toHaveProperty("authorization_details");
    expect(decodeJwt(tokens.access_token)).not.toHaveProperty("authorization_details");
  });
});

describe("RFC 9396 §6.1: a token request asks for a subset of what was granted", () => {
  it("authorization_code: a narrower set is what the token carries; more is refused before the code is spent", async () => {
    const client = await refreshClient();
    const { code, verifier } = await grantedCode(client, [PAYMENT, CUSTOMER]);
    const more = { authorization_details: JSON.stringify([{ ...CUSTOMER, actions: ["read", "write", "delete"] }]) };
    await expectError(await redeemAsRegistered(client as never, code, verifier, more), 400, "invalid_authorization_details", "authorization_details_not_granted");
    const tokens = await redeemed(client, code, verifier, { authorization_details: JSON.stringify([READ_CONTACTS]) });
    expect(tokens.authorization_details).toEqual([READ_CONTACTS]);
    expect(decodeJwt(tokens.access_token).authorization_details).toEqual([READ_CONTACTS]);
  });

  it("refresh_token: each refresh may narrow; the grant keeps everything, so a later refresh gets it all again; more is refused", async () => {
    const client = await refreshClient();
    const { code, verifier } = await grantedCode(client, [PAYMENT, CUSTOMER]);
    const first = await redeemed(client, code, verifier, { authorization_details: JSON.stringify([READ_CONTACTS]) });
    const narrowed = (await expectTokenResponse(await refresh(client, first.refresh_token!, { authorization_details: JSON.stringify([PAYMENT]) }))) as DetailsTokens;
    expect(narrowed.authorization_details).toEqual([PAYMENT]);
    expect(decodeJwt(narrowed.access_token).authorization_details).toEqual([PAYMENT]);
    const all = (await expectTokenResponse(await refresh(client, narrowed.refresh_token!))) as DetailsTokens;
    expect(all.authorization_details).toEqual([PAYMENT, CUSTOMER]);
    const other = { authorization_details: JSON.stringify([{ ...PAYMENT, creditorName: "Merchant B" }]) };
    await expectError(await refresh(client, all.refresh_token!, other), 400, "invalid_authorization_details", "authorization_details_not_granted");
  });

  it("details asked for at the token endpoint when none were granted, or malformed ones, are refused", async () => {
    const client = await refreshClient();
    const { code, verifier } = await grantedCode(client, undefined);
    await expectError(await redeemAsRegistered(client as never, code, verifier, { authorization_details: JSON.stringify([READ_CONTACTS]) }),
      400, "invalid_authorization_details", "authorization_details_not_granted");
    await expectError(await redeemAsRegistered(client as never, code, verifier, { authorization_details: "[{" }),
      400, "invalid_authorization_details", "authorization_details_malformed");
    expect((await redeemed(client, code, verifier)).access_token).toBeTruthy();
  });
});
