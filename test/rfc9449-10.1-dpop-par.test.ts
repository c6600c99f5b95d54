import { describe, expect, it } from "vitest";
import { basic, call, expectError } from "./helpers";
import { Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, person } from "./oidc-helpers";
import { PAR_ENDPOINT, secretClient, type TestClient } from "./par-jar-helpers";
import { dpopKey, proof, tokenPost, type DpopKey } from "./rfc9449-helpers";

/**
 * RFC 9449 §10.1 (DPoP with pushed authorization requests): a `DPoP` header at POST /par is
 * validated as at the token endpoint (§4.3: htm POST, htu the PAR endpoint, the jti used once, the
 * server nonce when required, §8) and binds the authorization code to the proof's key exactly as
 * `dpop_jkt` does (§10); `dpop_jkt` sent with a proof must name the proof's key. The code is then
 * redeemed only with a proof of that key.
 */

const parProof = (key: DpopKey, opts: Parameters<typeof proof>[1] = {}) => proof(key, { htu: PAR_ENDPOINT, ...opts });

/** POST /par with client_secret_basic and these extra headers (the DPoP proof). */
function pushWith(client: TestClient, form: Record<string, string>, headers: Record<string, string>): Promise<Response> {
  return call("/par", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(client.client_id, client.client_secret!), ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** Pushes a code request with a proof, runs the person's part, and returns the code and verifier. */
async function codeThroughPar(client: TestClient, key: DpopKey | undefined, extra: Record<string, string> = {}) {
  const { params, verifier } = await codeRequest(client.client_id, extra);
  const res = await pushWith(client, params, key === undefined ? {} : { dpop: await parProof(key) });
  expect(res.status, await res.clone().text()).toBe(201);
  const { request_uri: requestUri } = (await res.json()) as { request_uri: string };
  const flow = await authorize(new Browser(), { client_id: client.client_id, request_uri: requestUri }, await person());
  return { code: clientRedirect(flow.response).get("code")!, verifier };
}

const redeemForm = (code: string, verifier: string) => ({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
const auth = (client: TestClient) => ({ authorization: basic(client.client_id, client.client_secret!) });

describe("RFC 9449 §10.1: a DPoP proof at the pushed authorization request endpoint", () => {
  it("binds the code to the proof's key: redeemed with a proof of that key → DPoP-bound tokens; the answer carries a fresh DPoP-Nonce", async () => {
    const client = await secretClient();
    const key = await dpopKey();
    const { params } = await codeRequest(client.client_id);
    const pushedRes = await pushWith(client, params, { dpop: await parProof(key) });
    expect(pushedRes.status).toBe(201);
    expect(pushedRes.headers.get("dpop-nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { code, verifier } = await codeThroughPar(client, key);
    const res = await tokenPost(redeemForm(code, verifier), { ...auth(client), dpop: await proof(key) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { token_type: string }).token_type).toBe("DPoP");
  });

  it("the code is refused at the token endpoint with a proof of another key, or with none (invalid_grant)", async () => {
    const client = await secretClient();
    const [key, other] = await Promise.all([dpopKey(), dpopKey()]);
    const first = await codeThroughPar(client, key);
    await expectError(await tokenPost(redeemForm(first.code, first.verifier), { ...auth(client), dpop: await proof(other) }), 400, "invalid_grant", "sender_key_mismatch");
    const second = await codeThroughPar(client, key);
    await expectError(await tokenPost(redeemForm(second.code, second.verifier), auth(client)), 400, "invalid_grant", "sender_key_mismatch");
  });

  it("dpop_jkt and a proof of the same key are accepted; of different keys → invalid_dpop_proof", async () => {
    const client = await secretClient();
    const [key, other] = await Promise.all([dpopKey(), dpopKey()]);
    const same = await codeRequest(client.client_id, { dpop_jkt: key.jkt });
    expect((await pushWith(client, same.params, { dpop: await parProof(key) })).status).toBe(201);
    const mismatched = await codeRequest(client.client_id, { dpop_jkt: other.jkt });
    await expectError(await pushWith(client, mismatched.params, { dpop: await parProof(key) }), 400, "invalid_dpop_proof", "par_dpop_jkt_mismatch");
  });

  it("§4.3 at PAR: htu must be the PAR endpoint, htm POST; two DPoP headers; a replayed proof → invalid_dpop_proof", async () => {
    const client = await secretClient();
    const key = await dpopKey();
    const { params } = await codeRequest(client.client_id);
    await expectError(await pushWith(client, params, { dpop: await proof(key) }), 400, "invalid_dpop_proof", "invalid_dpop_proof");
    await expectError(await pushWith(client, params, { dpop: await parProof(key, { htm: "GET" }) }), 400, "invalid_dpop_proof", "invalid_dpop_proof");
    const twice = `${await parProof(key)}, ${await parProof(key)}`;
    await expectError(await pushWith(client, params, { dpop: twice }), 400, "invalid_dpop_proof", "invalid_dpop_proof");
    const once = await parProof(key);
    expect((await pushWith(client, params, { dpop: once })).status).toBe(201);
    await expectError(await pushWith(client, params, { dpop: once }), 400, "invalid_dpop_proof", "dpop_proof_replayed");
  });

  it("§11.1: of 50 concurrent pushes with the same proof exactly one is accepted", async () => {
    const client = await secretClient();
    const key = await dpopKey();
    const { params } = await codeRequest(client.client_id);
    const once = await parProof(key);
    const results = await Promise.all(Array.from({ length: 50 }, () => pushWith(client, params, { dpop: once })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) await expectError(r, 400, "invalid_dpop_proof", "dpop_proof_replayed");
  });

  it("§8 at PAR: a client whose proofs need a nonce gets 400 use_dpop_nonce with DPoP-Nonce, and succeeds with it", async () => {
    const client = await secretClient({ dpop_nonce_required: true });
    const key = await dpopKey();
    const { params } = await codeRequest(client.client_id);
    const first = await pushWith(client, params, { dpop: await parProof(key) });
    await expectError(first.clone(), 400, "use_dpop_nonce", "use_dpop_nonce");
    const nonce = first.headers.get("dpop-nonce");
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = await pushWith(client, params, { dpop: await parProof(key, { nonce: nonce! }) });
    expect(second.status, await second.clone().text()).toBe(201);
  });

  it("without a DPoP header PAR answers as before: no DPoP-Nonce, and the code is redeemed without a proof (Bearer)", async () => {
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id);
    const res = await pushWith(client, params, {});
    expect(res.status).toBe(201);
    expect(res.headers.get("dpop-nonce")).toBeNull();
    const { code, verifier } = await codeThroughPar(client, undefined);
    const tokens = await tokenPost(redeemForm(code, verifier), auth(client));
    expect(tokens.status, await tokens.clone().text()).toBe(200);
    expect(((await tokens.json()) as { token_type: string }).token_type).toBe("Bearer");
  });
});
