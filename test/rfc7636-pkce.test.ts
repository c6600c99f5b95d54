import { describe, expect, it } from "vitest";
import { call, expectError } from "./helpers";
import {
  Browser, authorize, clientRedirect, codeRequest, expectRedirectError, expectTokenResponse, oidcClient, person, redeem,
  redeemAsRegistered, workerWithEnv,
} from "./oidc-helpers";

/**
 * RFC 7636 (PKCE) as issue 3 applies it: S256 only unless a client is configured for plain,
 * required from every client by default (RFC 9700 §2.1.1), the verifier checked at the token
 * endpoint (§4.6), and a verifier for a code issued without a challenge refused (RFC 9700 §4.8.2).
 */

/** RFC 7636 Appendix B. */
const APPENDIX_B = {
  verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
  challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
};

const send = (params: Record<string, string>) => new Browser().fetch(`/authorize?${new URLSearchParams(params)}`);

/** An authorization request with these PKCE parameters (undefined removes one). */
async function requestWith(client: { client_id: string }, pkce: Record<string, string | undefined>) {
  const { params } = await codeRequest(client.client_id);
  for (const [k, v] of Object.entries(pkce)) {
    if (v === undefined) delete params[k];
    else params[k] = v;
  }
  return params;
}

async function codeFor(client: { client_id: string }, pkce: Record<string, string | undefined>) {
  const params = await requestWith(client, pkce);
  const { response } = await authorize(new Browser(), params, await person());
  return clientRedirect(response).get("code")!;
}

describe("RFC 7636 §4.2 / Appendix B: S256", () => {
  it("the Appendix B challenge and verifier: the server's S256 check accepts the verifier", async () => {
    const client = await oidcClient();
    const code = await codeFor(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: "S256" });
    await expectTokenResponse(await redeem(client, code, APPENDIX_B.verifier));
  });

  it("the Appendix B challenge with another valid verifier → invalid_grant; the right one still works after", async () => {
    const client = await oidcClient();
    const code = await codeFor(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: "S256" });
    await expectError(await redeem(client, code, APPENDIX_B.verifier.replace("d", "e")), 400, "invalid_grant", "pkce_verifier_mismatch");
    await expectTokenResponse(await redeem(client, code, APPENDIX_B.verifier));
  });

  it("discovery advertises S256 only", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
  });
});

describe("RFC 7636 §4.4.1 at the authorization endpoint", () => {
  it("no code_challenge (PKCE required for every client by default) → invalid_request redirected", async () => {
    const client = await oidcClient();
    const params = await requestWith(client, { code_challenge: undefined, code_challenge_method: undefined });
    expectRedirectError(await send(params), "invalid_request", { state: params.state, description: /PKCE/ });
  });

  it("a public client without code_challenge → invalid_request", async () => {
    const client = await oidcClient({ token_endpoint_auth_method: "none" });
    const params = await requestWith(client, { code_challenge: undefined, code_challenge_method: undefined });
    expectRedirectError(await send(params), "invalid_request", { state: params.state });
  });

  it("plain → invalid_request unless the client has allow_plain_pkce", async () => {
    const client = await oidcClient();
    const params = await requestWith(client, { code_challenge: APPENDIX_B.verifier, code_challenge_method: "plain" });
    expectRedirectError(await send(params), "invalid_request", { state: params.state, description: /S256/ });
  });

  it("no code_challenge_method means plain (§4.3): refused for an ordinary client", async () => {
    const client = await oidcClient();
    const params = await requestWith(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: undefined });
    expectRedirectError(await send(params), "invalid_request", { state: params.state });
  });

  it("a client with allow_plain_pkce: plain (explicit or by default) works, the verifier equal to the challenge", async () => {
    const client = await oidcClient({ allow_plain_pkce: true });
    for (const method of ["plain", undefined]) {
      const code = await codeFor(client, { code_challenge: APPENDIX_B.verifier, code_challenge_method: method });
      await expectError(await redeem(client, code, APPENDIX_B.challenge), 400, "invalid_grant", "pkce_verifier_mismatch");
      await expectTokenResponse(await redeem(client, code, APPENDIX_B.verifier));
    }
  });

  it("an unknown method (S512, s256) → invalid_request", async () => {
    const client = await oidcClient();
    for (const method of ["S512", "s256"]) {
      const params = await requestWith(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: method });
      expectRedirectError(await send(params), "invalid_request", { state: params.state });
    }
  });

  for (const [what, challenge] of [
    ["42 characters", "a".repeat(42)],
    ["129 characters", "a".repeat(129)],
    ["base64 (not base64url) characters", `${"a".repeat(40)}+/=`],
    ["a space", `${"a".repeat(42)} b`],
    ["non-ASCII", `${"a".repeat(42)}é`],
  ] as const) {
    it(`a malformed code_challenge (${what}) → invalid_request`, async () => {
      const client = await oidcClient();
      const params = await requestWith(client, { code_challenge: challenge, code_challenge_method: "S256" });
      expectRedirectError(await send(params), "invalid_request", { state: params.state, description: /code_challenge/ });
    });
  }

  it("43 and 128 characters are the limits and are accepted", async () => {
    const client = await oidcClient();
    for (const challenge of ["a".repeat(43), "A-._~".repeat(25) + "abc"]) {
      await codeFor(client, { code_challenge: challenge, code_challenge_method: "S256" });
    }
  });

  it("code_challenge_method without code_challenge → invalid_request", async () => {
    const client = await oidcClient();
    const params = await requestWith(client, { code_challenge: undefined, code_challenge_method: "S256" });
    expectRedirectError(await send(params), "invalid_request", { state: params.state });
  });
});

describe("RFC 7636 §4.5 / §4.6 at the token endpoint", () => {
  it("no code_verifier → invalid_grant, and the code survives for the right verifier", async () => {
    const client = await oidcClient();
    const code = await codeFor(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: "S256" });
    await expectError(await redeem(client, code), 400, "invalid_grant", "pkce_verifier_missing");
    await expectTokenResponse(await redeem(client, code, APPENDIX_B.verifier));
  });

  it("a wrong verifier → invalid_grant", async () => {
    const client = await oidcClient();
    const code = await codeFor(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: "S256" });
    await expectError(await redeem(client, code, "x".repeat(43)), 400, "invalid_grant", "pkce_verifier_mismatch");
  });

  it("the challenge itself sent as the verifier (S256) → invalid_grant", async () => {
    const client = await oidcClient();
    const code = await codeFor(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: "S256" });
    await expectError(await redeem(client, code, APPENDIX_B.challenge), 400, "invalid_grant", "pkce_verifier_mismatch");
  });

  for (const [what, verifier] of [
    ["42 characters", "a".repeat(42)],
    ["129 characters", "a".repeat(129)],
    ["a character outside the set", `${APPENDIX_B.verifier.slice(0, -1)}+`],
  ] as const) {
    it(`a malformed verifier (${what}) → invalid_request, as the catalog says`, async () => {
      const client = await oidcClient();
      const code = await codeFor(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: "S256" });
      await expectError(await redeem(client, code, verifier), 400, "invalid_request", "pkce_verifier_malformed");
      await expectTokenResponse(await redeem(client, code, APPENDIX_B.verifier));
    });
  }
});

describe("RFC 9700 §2.1.1 / §4.8.2 with REQUIRE_PKCE_FOR_ALL=false", () => {
  const lenient = () => new Browser(workerWithEnv({ REQUIRE_PKCE_FOR_ALL: "false" }));

  it("a confidential client may then omit PKCE; sending a code_verifier for that code → invalid_grant (downgrade)", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params } = await codeRequest(client.client_id);
    delete params.code_challenge;
    delete params.code_challenge_method;
    const browser = lenient();
    const code = clientRedirect((await authorize(browser, params, user)).response).get("code")!;
    await expectError(await redeem(client, code, APPENDIX_B.verifier), 400, "invalid_grant", "pkce_verifier_unexpected");
    // The attempt did not consume it: without a verifier it redeems.
    await expectTokenResponse(await redeem(client, code));
  });

  it("a public client still needs PKCE", async () => {
    const client = await oidcClient({ token_endpoint_auth_method: "none" });
    const { params } = await codeRequest(client.client_id);
    delete params.code_challenge;
    delete params.code_challenge_method;
    const res = await lenient().fetch(`/authorize?${new URLSearchParams(params)}`);
    expectRedirectError(res, "invalid_request", { state: params.state, description: /PKCE/ });
  });

  it("a challenge that was sent is still enforced", async () => {
    const client = await oidcClient();
    const user = await person();
    const params = await requestWith(client, { code_challenge: APPENDIX_B.challenge, code_challenge_method: "S256" });
    const code = clientRedirect((await authorize(lenient(), params, user)).response).get("code")!;
    await expectError(await redeemAsRegistered(client, code), 400, "invalid_grant", "pkce_verifier_missing");
    await expectTokenResponse(await redeemAsRegistered(client, code, APPENDIX_B.verifier));
  });
});
