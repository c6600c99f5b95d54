import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { currentNonce } from "../src/dpop/nonce";
import { TOKEN_ENDPOINT_PROOF_ERRORS, proofDeps } from "../src/dpop/binding";
import { validateProof } from "../src/dpop/proof";
import { jwkThumbprint } from "../src/dpop/thumbprint";
import { configFrom } from "../src/config";
import { durableReplayCache } from "../src/replay/replay-cache";
import { ISSUER, basic, call, createClient, expectError, nowSeconds } from "./helpers";
import { clientRedirect, codeRequest, workerWithEnv } from "./oidc-helpers";
import { dpopKey, personsCode, proof, tokenPost } from "./rfc9449-helpers";

/**
 * RFC 9449 (DPoP) at the token endpoint: the proof checks of §4.3 (numbered as there), the jti
 * used once (§11.1), server nonces (§8), bound access tokens (§5, §6.1), bound refresh tokens of
 * public clients (§5), `dpop_bound_access_tokens` (§5.2), discovery (§5.1) and registration.
 */

const CC = { grant_type: "client_credentials" };

async function confidential(input: Record<string, unknown> = {}) {
  const c = await createClient(input);
  return { ...c, auth: { authorization: basic(c.client_id, c.client_secret!) } };
}

/** A client_credentials request with these DPoP header values. */
async function ccWith(dpop: string | string[] | undefined, input: Record<string, unknown> = {}) {
  const c = await confidential(input);
  const headers = new Headers(c.auth);
  for (const value of dpop === undefined ? [] : Array.isArray(dpop) ? dpop : [dpop]) headers.append("dpop", value);
  return tokenPost(CC, headers);
}

const nonceDeps = (now: number) => ({ encryptionKey: env.ENCRYPTION_KEY, now, window: 300 });

describe("RFC 7638 §3.1 JWK thumbprint", () => {
  it("the RFC's RSA example key gives NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", async () => {
    const jwk = {
      kty: "RSA",
      n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
      e: "AQAB",
      alg: "RS256",
      kid: "2011-04-29",
    };
    expect(await jwkThumbprint(jwk)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  });

  it("EC and OKP keys: the same thumbprint as jose computes; other members are ignored", async () => {
    for (const alg of ["ES256", "EdDSA"]) {
      const key = await dpopKey(alg);
      expect(await jwkThumbprint({ ...key.jwk, kid: "x", use: "sig" })).toBe(key.jkt);
    }
    expect(await jwkThumbprint({ kty: "oct", k: "abc" })).toBeUndefined();
  });
});

describe("RFC 9449 §4.1 the RFC's example proof", () => {
  // Figure 2 of RFC 9449 §4.1 (and §5's token request): ES256, htm POST, htu https://server.example.com/token.
  const EXAMPLE =
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19" +
    ".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ" +
    ".2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
  const IAT = 1562262616;
  const validate = (now: number) =>
    validateProof(
      { header: EXAMPLE, method: "POST", url: "https://server.example.com/token", nonceRequired: false },
      proofDeps(configFrom(env), { now, encryptionKey: env.ENCRYPTION_KEY, replay: durableReplayCache(env.REPLAY_GUARD, now) }, TOKEN_ENDPOINT_PROOF_ERRORS),
    );

  it("is valid at its iat, its key's thumbprint is §6.1's cnf.jkt; once only; stale an hour later", async () => {
    expect(await validate(IAT + 1)).toEqual({ jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", jti: "-BwC3ESc6acc2lTc" });
    await expect(validate(IAT + 2)).rejects.toMatchObject({ code: "dpop_proof_replayed" });
    await expect(validate(IAT + 3600)).rejects.toMatchObject({ code: "invalid_dpop_proof" });
  });
});

describe("RFC 9449 §5, §6.1 a valid proof binds the access token", () => {
  for (const alg of ["ES256", "PS256", "EdDSA"]) {
    it(`${alg}: token_type DPoP, cnf.jkt = the proof key's thumbprint, a DPoP-Nonce on the answer (§8)`, async () => {
      const key = await dpopKey(alg);
      const res = await ccWith(await proof(key));
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as { access_token: string; token_type: string };
      expect(body.token_type).toBe("DPoP");
      expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
      expect(res.headers.get("dpop-nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });
  }

  it("without a proof: Bearer, no cnf, no DPoP-Nonce", async () => {
    const res = await ccWith(undefined);
    const body = (await res.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe("Bearer");
    expect(decodeJwt(body.access_token).cnf).toBeUndefined();
    expect(res.headers.get("dpop-nonce")).toBeNull();
  });

  it("§4.3 unknown header parameters and claims are ignored; htu compared without query and fragment, normalized (check 9)", async () => {
    const key = await dpopKey();
    for (const htu of [`${ISSUER}/token?x=1#f`, "HTTPS://LATCHKEY.TEST:443/token"]) {
      const res = await ccWith(await proof(key, { htu, header: { extra: 1 }, claims: { extra: "x" } }));
      expect(res.status, `${htu}: ${await res.clone().text()}`).toBe(200);
    }
  });
});

describe("RFC 9449 §4.3 every receiver check at the token endpoint → 400 invalid_dpop_proof", () => {
  it("check 1: two DPoP headers", async () => {
    const key = await dpopKey();
    await expectError(await ccWith([await proof(key), await proof(key)]), 400, "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("check 2: not a JWT", async () => {
    await expectError(await ccWith("not-a-jwt"), 400, "invalid_dpop_proof", "invalid_dpop_proof");
    await expectError(await ccWith("a.b.c"), 400, "invalid_dpop_proof", "invalid_dpop_proof");
  });

  it("check 3: a required claim missing (jti, htm, htu, iat)", async () => {
    const key = await dpopKey();
    for (const claim of ["jti", "htm", "htu", "iat"]) {
      const res = await ccWith(await proof(key, { claims: { [claim]: undefined } }));
      await expectError(res, 400, "invalid_dpop_proof", "invalid_dpop_proof");
    }
  });

  it("check 4: typ other than dpop+jwt", async () => {
    const key = await dpopKey();
    for (const typ of ["JWT", undefined]) await expectError(await ccWith(await proof(key, { header: { typ } })), 400, "invalid_dpop_proof");
  });

  it("check 5: a symmetric alg (HS256) or none", async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const { SignJWT } = await import("jose");
    const hs = await new SignJWT({ jti: "j", htm: "POST", htu: `${ISSUER}/token`, iat: nowSeconds() })
      .setProtectedHeader({ alg: "HS256", typ: "dpop+jwt", jwk: { kty: "oct", k: "AAAA" } } as never).sign(secret);
    const body = await expectError(await ccWith(hs), 400, "invalid_dpop_proof");
    expect(body.error_description).toContain("alg");
    const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const none = `${b64({ alg: "none", typ: "dpop+jwt" })}.${b64({ jti: "j", htm: "POST", htu: `${ISSUER}/token`, iat: nowSeconds() })}.`;
    await expectError(await ccWith(none), 400, "invalid_dpop_proof");
  });

  it("check 6: a signature that the header's jwk does not verify (another key's jwk)", async () => {
    const [key, other] = [await dpopKey(), await dpopKey()];
    await expectError(await ccWith(await proof(key, { header: { jwk: other.jwk } })), 400, "invalid_dpop_proof");
  });

  it("check 7: a private key in the jwk", async () => {
    const { generateKeyPair, exportJWK } = await import("jose");
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const key = await dpopKey();
    const body = await expectError(await ccWith(await proof(key, { header: { jwk: { ...key.jwk, d: (await exportJWK(privateKey)).d } } })), 400, "invalid_dpop_proof");
    expect(body.error_description).toContain("jwk");
  });

  it("check 8: htm not the request's method", async () => {
    const key = await dpopKey();
    await expectError(await ccWith(await proof(key, { htm: "GET" })), 400, "invalid_dpop_proof");
  });

  it("check 9: htu of another URI (path, host, scheme)", async () => {
    const key = await dpopKey();
    for (const htu of [`${ISSUER}/userinfo`, "https://other.test/token", "http://latchkey.test/token", "token"]) {
      await expectError(await ccWith(await proof(key, { htu })), 400, "invalid_dpop_proof");
    }
  });

  it("check 11: iat too old (beyond 300 s + skew) or in the future; within the skew accepted", async () => {
    const key = await dpopKey();
    await expectError(await ccWith(await proof(key, { iat: nowSeconds() - 400 })), 400, "invalid_dpop_proof");
    await expectError(await ccWith(await proof(key, { iat: nowSeconds() + 60 })), 400, "invalid_dpop_proof");
    for (const iat of [nowSeconds() - 10, nowSeconds() + 10]) expect((await ccWith(await proof(key, { iat }))).status).toBe(200);
  });

  it("check 11 / §11.1: a replayed jti → invalid_dpop_proof (dpop_proof_replayed)", async () => {
    const key = await dpopKey();
    const c = await confidential();
    const value = await proof(key);
    expect((await tokenPost(CC, { ...c.auth, dpop: value })).status).toBe(200);
    await expectError(await tokenPost(CC, { ...c.auth, dpop: value }), 400, "invalid_dpop_proof", "dpop_proof_replayed");
  });
});

describe("RFC 9449 §11.1 proof jti single use under concurrency", () => {
  it("50 concurrent token requests with the same proof: exactly one 200", async () => {
    const key = await dpopKey();
    const c = await confidential();
    const value = await proof(key);
    const answers = await Promise.all(Array.from({ length: 50 }, () => tokenPost(CC, { ...c.auth, dpop: value })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(49);
    for (const r of answers.filter((a) => a.status === 400)) expect(((await r.json()) as { code?: string; error: string }).error).toBe("invalid_dpop_proof");
  });

  it("the same jti under another key is another proof (the namespace is keyed by thumbprint and jti)", async () => {
    const c = await confidential();
    for (const key of [await dpopKey(), await dpopKey()]) {
      expect((await tokenPost(CC, { ...c.auth, dpop: await proof(key, { jti: "shared-jti" }) })).status).toBe(200);
    }
  });
});

describe("RFC 9449 §8 server nonces at the token endpoint", () => {
  it("a client with dpop_nonce_required: no nonce → 400 use_dpop_nonce + DPoP-Nonce; with it → 200 and a nonce again", async () => {
    const key = await dpopKey();
    const c = await confidential({ dpop_nonce_required: true });
    const first = await tokenPost(CC, { ...c.auth, dpop: await proof(key) });
    await expectError(first.clone(), 400, "use_dpop_nonce", "use_dpop_nonce");
    const nonce = first.headers.get("dpop-nonce")!;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = await tokenPost(CC, { ...c.auth, dpop: await proof(key, { nonce }) });
    expect(second.status, await second.clone().text()).toBe(200);
    expect(second.headers.get("dpop-nonce")).toBeTruthy();
  });

  it("an expired nonce (two windows old), a made-up one → use_dpop_nonce; the previous window's is accepted", async () => {
    const key = await dpopKey();
    const c = await confidential({ dpop_nonce_required: true });
    const now = nowSeconds();
    for (const nonce of [await currentNonce(nonceDeps(now - 600)), "x".repeat(43)]) {
      await expectError(await tokenPost(CC, { ...c.auth, dpop: await proof(key, { nonce }) }), 400, "use_dpop_nonce");
    }
    const previous = await tokenPost(CC, { ...c.auth, dpop: await proof(key, { nonce: await currentNonce(nonceDeps(now - 300)) }) });
    expect(previous.status, await previous.clone().text()).toBe(200);
  });

  it("a stale iat where nonces are required → use_dpop_nonce (the client gets a nonce to make a fresh proof)", async () => {
    const key = await dpopKey();
    const c = await confidential({ dpop_nonce_required: true });
    await expectError(await tokenPost(CC, { ...c.auth, dpop: await proof(key, { iat: nowSeconds() - 900 }) }), 400, "use_dpop_nonce");
  });

  it("DPOP_NONCE_REQUIRED=true: every client's proofs need one", async () => {
    const worker = workerWithEnv({ DPOP_NONCE_REQUIRED: "true" });
    const key = await dpopKey();
    const c = await confidential();
    const post = async (dpop: string) => worker("/token", {
      method: "POST", headers: { ...c.auth, dpop, "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials",
    });
    const first = await post(await proof(key));
    await expectError(first.clone(), 400, "use_dpop_nonce");
    expect((await post(await proof(key, { nonce: first.headers.get("dpop-nonce")! }))).status).toBe(200);
  });
});

describe("RFC 9449 §5.2 dpop_bound_access_tokens", () => {
  it("a client registered with it must send a proof (400 invalid_dpop_proof); with one it gets a DPoP token", async () => {
    const c = await confidential({ dpop_bound_access_tokens: true });
    await expectError(await tokenPost(CC, c.auth), 400, "invalid_dpop_proof", "dpop_proof_required");
    expect((await tokenPost(CC, { ...c.auth, dpop: await proof(await dpopKey()) })).status).toBe(200);
  });

  it("registration keeps the flags; a non-boolean is invalid_client_metadata", async () => {
    const c = await createClient({ dpop_bound_access_tokens: true, dpop_nonce_required: false, tls_client_certificate_bound_access_tokens: true });
    expect(c).toMatchObject({ dpop_bound_access_tokens: true, dpop_nonce_required: false, tls_client_certificate_bound_access_tokens: true });
    const res = await call(`/admin/clients/bad-dpop-${nowSeconds()}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["client_credentials"], dpop_bound_access_tokens: "yes" }),
    });
    await expectError(res, 400, "invalid_client_metadata", "sender_constraint_metadata_malformed");
  });
});

describe("RFC 9449 §5 bound refresh tokens of public clients", () => {
  async function publicTokens(key: Awaited<ReturnType<typeof dpopKey>>) {
    const c = await createClient({
      grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none",
      redirect_uris: ["https://rp.example/callback"], scope: "openid offline_access",
    });
    const { form } = await personsCode(c.client_id);
    const res = await tokenPost(form, { dpop: await proof(key) });
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = (await res.json()) as { access_token: string; refresh_token: string; token_type: string };
    expect(tokens.token_type).toBe("DPoP");
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
    return { c, tokens };
  }

  it("the refresh proves the same key: 200, DPoP; another key or no proof → 400 invalid_grant (sender_key_mismatch)", async () => {
    const key = await dpopKey();
    const { c, tokens } = await publicTokens(key);
    const form = { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: c.client_id };
    await expectError(await tokenPost(form, { dpop: await proof(await dpopKey()) }), 400, "invalid_grant", "sender_key_mismatch");
    await expectError(await tokenPost(form), 400, "invalid_grant", "sender_key_mismatch");
    const res = await tokenPost(form, { dpop: await proof(key) });
    expect(res.status, await res.clone().text()).toBe(200);
    const next = (await res.json()) as { access_token: string; refresh_token: string; token_type: string };
    expect(next.token_type).toBe("DPoP");
    expect(decodeJwt(next.access_token).cnf).toEqual({ jkt: key.jkt });
    // The successor stays bound.
    await expectError(await tokenPost({ ...form, refresh_token: next.refresh_token }, { dpop: await proof(await dpopKey()) }), 400, "invalid_grant", "sender_key_mismatch");
  });
});

describe("RFC 9449 §5.1 discovery and CORS", () => {
  it("dpop_signing_alg_values_supported lists asymmetric algs only", async () => {
    const doc = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    const algs = doc.dpop_signing_alg_values_supported as string[];
    expect(algs).toEqual(expect.arrayContaining(["ES256", "PS256", "EdDSA"]));
    expect(algs.some((a) => a.startsWith("HS") || a === "none")).toBe(false);
    expect(doc.tls_client_certificate_bound_access_tokens).toBe(true);
  });

  it("the token endpoint's preflight allows the DPoP header; answers expose DPoP-Nonce", async () => {
    const origin = "https://spa-dpop.example";
    const c = await createClient({
      grant_types: ["authorization_code"], token_endpoint_auth_method: "none", redirect_uris: [`${origin}/cb`],
    });
    const pre = await call("/token", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "dpop" } });
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/\bdpop\b/i);
    const res = await tokenPost({ grant_type: "authorization_code", code: "x", client_id: c.client_id, redirect_uri: `${origin}/cb` }, { origin });
    expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(res.headers.get("access-control-expose-headers")).toMatch(/DPoP-Nonce/i);
  });
});

describe("RFC 9449 §10 authorization code binding (dpop_jkt)", () => {
  async function boundCode(jkt: string) {
    const c = await createClient({
      grant_types: ["authorization_code"], token_endpoint_auth_method: "none", redirect_uris: ["https://rp.example/callback"], scope: "openid",
    });
    return personsCode(c.client_id, { scope: "openid", dpop_jkt: jkt });
  }

  it("a code bound to a key: another key or no proof → 400 invalid_grant (sender_key_mismatch), the code not spent; that key → 200 DPoP", async () => {
    const key = await dpopKey();
    const { form } = await boundCode(key.jkt);
    await expectError(await tokenPost(form, { dpop: await proof(await dpopKey()) }), 400, "invalid_grant", "sender_key_mismatch");
    await expectError(await tokenPost(form), 400, "invalid_grant", "sender_key_mismatch");
    const res = await tokenPost(form, { dpop: await proof(key) });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe("DPoP");
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it("a malformed dpop_jkt is a redirected invalid_request (dpop_jkt_malformed)", async () => {
    const c = await createClient({
      grant_types: ["authorization_code"], token_endpoint_auth_method: "none", redirect_uris: ["https://rp.example/callback"], scope: "openid",
    });
    const { params } = await codeRequest(c.client_id, { dpop_jkt: "not a thumbprint" });
    const res = await call(`/authorize?${new URLSearchParams(params)}`, { redirect: "manual" });
    expect([302, 303], await res.clone().text()).toContain(res.status);
    const back = clientRedirect(res);
    expect(back.get("error")).toBe("invalid_request");
    expect(back.get("error_description")).toContain("dpop_jkt");
  });
});
