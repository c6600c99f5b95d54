import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { currentNonce } from "../src/dpop/nonce";
import { ISSUER, basic, createClient, expectError, nowSeconds } from "./helpers";
import { ath, dpopKey, personsCode, proof, send, tokenPost, type DpopKey } from "./rfc9449-helpers";

/**
 * RFC 9449 §7 (and §9 nonces) at UserInfo, the protected resource of this server: the DPoP scheme
 * with a proof carrying `ath` (§4.3 check 12), a DPoP-bound token refused as Bearer (§7.2), both
 * challenges (§7.1, §7.2); §6.2 introspection answers `cnf` and token_type DPoP.
 */

const USERINFO = `${ISSUER}/userinfo`;

/** A person's DPoP-bound tokens (openid) for a fresh confidential client. */
async function boundTokens(key: DpopKey, input: Record<string, unknown> = {}) {
  const c = await createClient({
    grant_types: ["authorization_code", "refresh_token"], redirect_uris: ["https://rp.example/callback"], scope: "openid offline_access", ...input,
  });
  const { form } = await personsCode(c.client_id);
  const res = await tokenPost(form, { authorization: basic(c.client_id, c.client_secret!), dpop: await proof(key) });
  expect(res.status, await res.clone().text()).toBe(200);
  const tokens = (await res.json()) as { access_token: string; token_type: string };
  expect(tokens.token_type).toBe("DPoP");
  return { c, token: tokens.access_token };
}

function userinfo(headers: Record<string, string>, method = "GET") {
  return send("/userinfo", { method, headers });
}

async function dpopCall(key: DpopKey, token: string, opts: Parameters<typeof proof>[1] = {}) {
  return userinfo({ authorization: `DPoP ${token}`, dpop: await proof(key, { htm: "GET", htu: USERINFO, ath: await ath(token), ...opts }) });
}

function challenges(res: Response): string {
  return res.headers.get("www-authenticate") ?? "";
}

describe("RFC 9449 §7.1 UserInfo with a DPoP-bound token", () => {
  it("Authorization: DPoP + a proof with ath → 200, and a fresh DPoP-Nonce (§9); the scheme name is case-insensitive", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key);
    const res = await dpopCall(key, token);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe(decodeJwt(token).sub);
    expect(res.headers.get("dpop-nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers.get("access-control-expose-headers")).toMatch(/DPoP-Nonce/);
    const lower = await userinfo({ authorization: `dpop ${token}`, dpop: await proof(key, { htm: "GET", htu: USERINFO, ath: await ath(token) }) });
    expect(lower.status).toBe(200);
  });

  it("§7.2 the bound token presented as Bearer → 401 invalid_token (dpop_token_as_bearer), both challenges", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key);
    const res = await userinfo({ authorization: `Bearer ${token}` });
    await expectError(res.clone(), 401, "invalid_token", "dpop_token_as_bearer");
    expect(challenges(res)).toMatch(/^Bearer realm="https:\/\/latchkey\.test", error="invalid_token", .*DPoP algs="[^"]*ES256/);
  });

  it("no proof → 401 invalid_dpop_proof with a DPoP challenge naming it and the algs", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key);
    const res = await userinfo({ authorization: `DPoP ${token}` });
    await expectError(res.clone(), 401, "invalid_dpop_proof", "resource_dpop_proof_invalid");
    expect(challenges(res)).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="[^"]+", Bearer realm=/);
  });

  it("§4.3 check 12: a wrong ath, or none → 401 invalid_dpop_proof", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key);
    await expectError(await dpopCall(key, token, { ath: await ath("another token") }), 401, "invalid_dpop_proof");
    await expectError(await dpopCall(key, token, { claims: { ath: undefined } }), 401, "invalid_dpop_proof");
  });

  it("§4.3 checks 8, 9 at the resource: htm and htu of UserInfo, not the token endpoint", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key);
    await expectError(await dpopCall(key, token, { htm: "POST" }), 401, "invalid_dpop_proof");
    await expectError(await dpopCall(key, token, { htu: `${ISSUER}/token` }), 401, "invalid_dpop_proof");
  });

  it("§4.3 check 12: a proof by another key than the token's cnf.jkt → 401 invalid_token", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key);
    await expectError(await dpopCall(await dpopKey(), token), 401, "invalid_token", "dpop_token_key_mismatch");
  });

  it("§11.1 a replayed proof → 401 invalid_dpop_proof", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key);
    const value = await proof(key, { htm: "GET", htu: USERINFO, ath: await ath(token) });
    expect((await userinfo({ authorization: `DPoP ${token}`, dpop: value })).status).toBe(200);
    await expectError(await userinfo({ authorization: `DPoP ${token}`, dpop: value }), 401, "invalid_dpop_proof", "resource_dpop_proof_replayed");
  });

  it("an unbound (Bearer) token under the DPoP scheme → 401 invalid_token", async () => {
    const c = await createClient({ grant_types: ["authorization_code"], redirect_uris: ["https://rp.example/callback"], scope: "openid" });
    const { form } = await personsCode(c.client_id, { scope: "openid" });
    const tokens = (await (await tokenPost(form, { authorization: basic(c.client_id, c.client_secret!) })).json()) as { access_token: string };
    const key = await dpopKey();
    await expectError(await dpopCall(key, tokens.access_token), 401, "invalid_token", "dpop_scheme_unbound_token");
  });
});

describe("RFC 9449 §9 resource server nonces at UserInfo", () => {
  it("a client with dpop_nonce_required: no nonce → 401, WWW-Authenticate: DPoP error=\"use_dpop_nonce\", DPoP-Nonce; with it → 200", async () => {
    const key = await dpopKey();
    const { token } = await boundTokens(key, { dpop_nonce_required: false });
    // The nonce requirement comes after the tokens: the operator sets it on the client.
    const { setClientMetadata } = await import("./rfc6749-6-helpers");
    await setClientMetadata(decodeJwt(token).client_id as string, { dpop_nonce_required: true });
    const first = await dpopCall(key, token);
    await expectError(first.clone(), 401, "use_dpop_nonce", "resource_use_dpop_nonce");
    expect(challenges(first)).toMatch(/^DPoP error="use_dpop_nonce"/);
    const nonce = first.headers.get("dpop-nonce")!;
    expect(nonce).toBeTruthy();
    expect((await dpopCall(key, token, { nonce })).status).toBe(200);
    // An expired nonce (two windows old) is refused the same way.
    const old = await currentNonce({ encryptionKey: env.ENCRYPTION_KEY, now: nowSeconds() - 600, window: 300 });
    await expectError(await dpopCall(key, token, { nonce: old }), 401, "use_dpop_nonce");
  });
});

describe("RFC 9449 §7.2 challenges where both schemes are accepted", () => {
  it("no credentials: a Bearer and a DPoP challenge, no error", async () => {
    const res = await userinfo({});
    expect(res.status).toBe(401);
    expect(challenges(res)).toMatch(/^Bearer realm="https:\/\/latchkey\.test", DPoP algs="[A-Za-z0-9 ]+"$/);
  });
});

describe("RFC 9449 §6.2 introspection of a DPoP-bound token", () => {
  it("answers cnf.jkt and token_type DPoP", async () => {
    const key = await dpopKey();
    const { c, token } = await boundTokens(key);
    const res = await send("/introspect", {
      method: "POST",
      headers: { authorization: basic(c.client_id, c.client_secret!), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt: key.jkt } });
  });
});
