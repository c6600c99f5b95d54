import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { expectError } from "./helpers";
import { OTHER_RESOURCE, RESOURCE, challenges, kit, mintToken, refused, resourceRequest } from "./resource-server-helpers";
import { ath, dpopKey, proof, type DpopKey, type ProofOptions } from "./rfc9449-helpers";

/**
 * RFC 9449 §7 at a resource server outside Latchkey, through the kit (src/resource-server/): a
 * DPoP-bound token (`cnf.jkt`, minted by Latchkey's token endpoint with a proof) works only with the
 * DPoP scheme and a proof of that key for this request (§4.3: htm, htu, ath, jti once), never as
 * Bearer (§7.2); an unbound token only as Bearer. Proof jtis are remembered in the kit's isolate
 * memory by default (src/resource-server/memory.ts).
 */
async function boundToken(key: DpopKey): Promise<string> {
  const token = await mintToken({ key });
  expect((decodeJwt(token).cnf as { jkt: string }).jkt).toBe(key.jkt);
  return token;
}

async function dpopRequest(key: DpopKey, token: string, opts: ProofOptions = {}, url = RESOURCE) {
  return resourceRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, { htm: "POST", htu: url, ath: await ath(token), ...opts }) }, url);
}

describe("RFC 9449 §7.1 a DPoP-bound token at the kit", () => {
  it("DPoP scheme + a proof of the token's key with ath → ok, the key's thumbprint on the token", async () => {
    const key = await dpopKey();
    const token = await boundToken(key);
    const auth = await kit().authenticate(await dpopRequest(key, token));
    expect(auth.ok, auth.ok ? "" : await auth.response.clone().text()).toBe(true);
    expect(auth.ok && auth.token).toMatchObject({ scheme: "DPoP", jkt: key.jkt });
  });

  it("§7.2: the bound token as Bearer → 401 invalid_token (dpop_token_as_bearer), the error in the Bearer challenge", async () => {
    const key = await dpopKey();
    const res = await refused(resourceRequest({ authorization: `Bearer ${await boundToken(key)}` }));
    await expectError(res.clone(), 401, "invalid_token", "dpop_token_as_bearer");
    expect(challenges(res)).toMatch(/^Bearer error="invalid_token", .*resource_metadata=.*, DPoP resource_metadata="[^"]+", scope="read", algs="[^"]*ES256/);
  });

  it("DPoP scheme without a proof → 401 invalid_dpop_proof, named in the DPoP challenge (the Bearer one bare but for resource_metadata)", async () => {
    const key = await dpopKey();
    const res = await refused(resourceRequest({ authorization: `DPoP ${await boundToken(key)}` }));
    await expectError(res.clone(), 401, "invalid_dpop_proof", "resource_dpop_proof_invalid");
    expect(challenges(res)).toMatch(/^Bearer resource_metadata="[^"]+", scope="read", DPoP error="invalid_dpop_proof", error_description="[^"]+", resource_metadata=/);
  });

  it("§4.3 checks 8, 9, 12: another htm, the htu of another path of the host, a wrong or missing ath → 401 invalid_dpop_proof", async () => {
    const key = await dpopKey();
    const token = await boundToken(key);
    await expectError(await refused(await dpopRequest(key, token, { htm: "GET" })), 401, "invalid_dpop_proof");
    await expectError(await refused(await dpopRequest(key, token, { htu: OTHER_RESOURCE })), 401, "invalid_dpop_proof");
    await expectError(await refused(await dpopRequest(key, token, { ath: await ath("another token") })), 401, "invalid_dpop_proof");
    await expectError(await refused(await dpopRequest(key, token, { claims: { ath: undefined } })), 401, "invalid_dpop_proof");
  });

  it("§4.3 check 11: a stale proof (iat older than the window) → 401 invalid_dpop_proof", async () => {
    const key = await dpopKey();
    const token = await boundToken(key);
    await expectError(await refused(await dpopRequest(key, token, { iat: Math.floor(Date.now() / 1000) - 400 })), 401, "invalid_dpop_proof");
  });

  it("a proof by another key than cnf.jkt → 401 invalid_token (dpop_token_key_mismatch)", async () => {
    const key = await dpopKey();
    const token = await boundToken(key);
    await expectError(await refused(await dpopRequest(await dpopKey(), token)), 401, "invalid_token", "dpop_token_key_mismatch");
  });

  it("§11.1: a proof used once is refused the second time (resource_dpop_proof_replayed)", async () => {
    const key = await dpopKey();
    const token = await boundToken(key);
    const rs = kit();
    const request = await dpopRequest(key, token);
    expect((await rs.authenticate(request.clone())).ok).toBe(true);
    await expectError(await refused(request, rs), 401, "invalid_dpop_proof", "resource_dpop_proof_replayed");
  });

  it("§11.1: 50 concurrent requests with one proof → exactly one accepted", async () => {
    const key = await dpopKey();
    const token = await boundToken(key);
    const rs = kit();
    const request = await dpopRequest(key, token);
    const results = await Promise.all(Array.from({ length: 50 }, () => rs.authenticate(request.clone())));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok)) await expectError((r as { response: Response }).response, 401, "invalid_dpop_proof", "resource_dpop_proof_replayed");
  });

  it("a replay store of the Worker's own is used instead of the isolate's memory when given", async () => {
    const key = await dpopKey();
    const token = await boundToken(key);
    const seen: string[] = [];
    const rs = kit({ replay: { reserve: async (_ns, k) => (seen.includes(k) ? false : (seen.push(k), true)) } });
    expect((await rs.authenticate(await dpopRequest(key, token))).ok).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain(key.jkt);
  });
});

describe("RFC 9449 §7.1: an unbound token, and a kit that does not accept DPoP", () => {
  it("a token without cnf.jkt under the DPoP scheme → 401 invalid_token (dpop_scheme_unbound_token)", async () => {
    const key = await dpopKey();
    const token = await mintToken();
    await expectError(await refused(await dpopRequest(key, token)), 401, "invalid_token", "dpop_scheme_unbound_token");
  });

  it("dpop: false → no DPoP challenge, no DPoP metadata; the DPoP scheme counts as no token; a bound token is refused", async () => {
    const rs = kit({ dpop: false });
    expect(rs.metadataDocument).not.toHaveProperty("dpop_signing_alg_values_supported");
    const key = await dpopKey();
    const token = await boundToken(key);
    const res = await refused(await dpopRequest(key, token), rs);
    await expectError(res.clone(), 401, "invalid_request", "bearer_token_missing");
    expect(challenges(res)).not.toContain("DPoP");
    await expectError(await refused(resourceRequest({ authorization: `Bearer ${token}` }), rs), 401, "invalid_token", "dpop_token_as_bearer");
  });
});
