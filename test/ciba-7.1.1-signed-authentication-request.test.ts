import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ASYMMETRIC_ASSERTION_ALGS } from "../src/keys/algorithms";
import { ISSUER, call, expectError, keyPair, nowSeconds, type KeyPair } from "./helpers";
import { Browser, expectTokenResponse, frozenClock, person, verifyIdToken } from "./oidc-helpers";
import { backchannelRequest, cibaClient, decideOnApprovalPage, mailedApproval, pollCiba } from "./ciba-helpers";

afterEach(() => vi.useRealTimers());

/** A poll client that registered ES256 signed authentication requests, with its key. */
async function signingClient(extra: Record<string, unknown> = {}) {
  const key = await keyPair("ES256");
  const client = await cibaClient({ jwks: { keys: [key.publicJwk] }, backchannel_authentication_request_signing_alg: "ES256", ...extra });
  return { client, key };
}

/** A signed authentication request (CIBA §7.1.1) with sensible claims; undefined removes a claim. */
function signed(clientId: string, key: KeyPair | CryptoKey, claims: Record<string, unknown>, alg = "ES256"): Promise<string> {
  const now = nowSeconds();
  const all: Record<string, unknown> = { iss: clientId, aud: ISSUER, iat: now, nbf: now, exp: now + 300, jti: crypto.randomUUID(), scope: "openid", ...claims };
  for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k];
  return new SignJWT(all).setProtectedHeader({ alg }).sign(key instanceof CryptoKey ? key : key.privateKey);
}

describe("CIBA §7.1.1: signed authentication requests", () => {
  it("discovery advertises the asymmetric algs of the table (CIBA §4)", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.backchannel_authentication_request_signing_alg_values_supported).toEqual([...ASYMMETRIC_ASSERTION_ALGS]);
    expect(meta.backchannel_authentication_request_signing_alg_values_supported).not.toContain("none");
  });

  it("a signed request completes the flow: its claims are the parameters (binding message, scope, requested_expiry as a number)", async () => {
    const { client, key } = await signingClient();
    const user = await person();
    const jwt = await signed(client.client_id, key, { scope: "openid offline_access", login_hint: user.email, binding_message: "SIGNED-42", requested_expiry: 120 });
    const res = await backchannelRequest(client, { request: jwt });
    expect(res.status, await res.clone().text()).toBe(200);
    const started = (await res.json()) as { auth_req_id: string; expires_in: number; interval: number };
    expect(started.expires_in).toBe(120);

    const { path, text } = await mailedApproval(user.email);
    expect(text).toContain("SIGNED-42");
    const { res: page } = await decideOnApprovalPage(new Browser(), path, user);
    expect(await page.text()).toContain("Sign-in approved");
    const clock = frozenClock();
    clock.advance(started.interval);
    const tokens = await expectTokenResponse(await pollCiba(client, started.auth_req_id));
    expect(tokens.scope).toBe("openid offline_access");
    expect((await verifyIdToken(tokens.id_token!, client.client_id, { accessToken: tokens.access_token })).sub).toBe(user.id);
  });

  it("required once registered: a plain request is invalid_request; parameters beside request are refused", async () => {
    const { client, key } = await signingClient();
    const user = await person();
    await expectError(await backchannelRequest(client, { scope: "openid", login_hint: user.email }), 400, "invalid_request", "ciba_request_required");
    const jwt = await signed(client.client_id, key, { login_hint: user.email });
    await expectError(await backchannelRequest(client, { request: jwt, binding_message: "outside" }), 400, "invalid_request", "ciba_request_parameter_outside");
    await expectError(await backchannelRequest(client, { request: "not-a-jwt" }), 400, "invalid_request", "ciba_request_malformed");
  });

  it("alg must be the registered one; the key one of the client's (another client's key fails)", async () => {
    const { client, key } = await signingClient();
    const user = await person();
    const rsa = await keyPair("RS256");
    await expectError(await backchannelRequest(client, { request: await signed(client.client_id, rsa, { login_hint: user.email }, "RS256") }), 400, "invalid_request", "ciba_request_alg");
    const other = await keyPair("ES256");
    await expectError(await backchannelRequest(client, { request: await signed(client.client_id, other, { login_hint: user.email }) }), 400, "invalid_request", "ciba_request_signature");
    const unsigned = `${btoa(JSON.stringify({ alg: "none" }))}.${btoa(JSON.stringify({ iss: client.client_id }))}.`.replace(/=/g, "");
    await expectError(await backchannelRequest(client, { request: unsigned }), 400, "invalid_request", "ciba_request_alg");
    // Sanity: the right key passes.
    expect((await backchannelRequest(client, { request: await signed(client.client_id, key, { login_hint: user.email }) })).status).toBe(200);
  });

  it("iss, aud, exp, nbf, iat: each refused under its own code", async () => {
    const { client, key } = await signingClient();
    const user = await person();
    const now = nowSeconds();
    const cases: [Record<string, unknown>, string][] = [
      [{ iss: "someone-else" }, "ciba_request_iss"],
      [{ aud: "https://elsewhere.example" }, "ciba_request_aud"],
      [{ exp: now - 120 }, "ciba_request_expired"],
      [{ exp: undefined }, "ciba_request_claim_missing"],
      [{ exp: now + 7200 }, "ciba_request_lifetime"],
      [{ nbf: now - 3000, exp: now + 1000 }, "ciba_request_lifetime"],
      [{ nbf: now + 600 }, "ciba_request_nbf"],
      [{ nbf: undefined }, "ciba_request_claim_missing"],
      [{ iat: now + 600 }, "ciba_request_iat"],
      [{ iat: now - 7200 }, "ciba_request_iat"],
      [{ iat: undefined }, "ciba_request_claim_missing"],
      [{ jti: undefined }, "ciba_request_jti_missing"],
    ];
    for (const [claims, code] of cases) {
      const res = await backchannelRequest(client, { request: await signed(client.client_id, key, { login_hint: user.email, ...claims }) });
      await expectError(res, 400, "invalid_request", code);
    }
    // aud as an array naming the issuer is accepted.
    expect((await backchannelRequest(client, { request: await signed(client.client_id, key, { login_hint: user.email, aud: [ISSUER, "x"] }) })).status).toBe(200);
  });

  it("jti is single use: 50 concurrent uses of one signed request → one 200, the rest ciba_request_jti_replayed", async () => {
    const { client, key } = await signingClient();
    const user = await person();
    const jwt = await signed(client.client_id, key, { login_hint: user.email });
    const answers = await Promise.all(Array.from({ length: 50 }, () => backchannelRequest(client, { request: jwt })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 200)) await expectError(res, 400, "invalid_request", "ciba_request_jti_replayed");
    await expectError(await backchannelRequest(client, { request: jwt }), 400, "invalid_request", "ciba_request_jti_replayed");
  });

  it("a JWT failing before the jti check does not spend its jti", async () => {
    const { client, key } = await signingClient();
    const user = await person();
    const jti = crypto.randomUUID();
    await expectError(await backchannelRequest(client, { request: await signed(client.client_id, key, { login_hint: user.email, jti, aud: "x" }) }), 400, "invalid_request", "ciba_request_aud");
    expect((await backchannelRequest(client, { request: await signed(client.client_id, key, { login_hint: user.email, jti }) })).status).toBe(200);
  });
});
