import { env } from "cloudflare:workers";
import { SignJWT, decodeProtectedHeader, exportJWK, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { ISSUER, call, createClient, expectError, nowSeconds, uniqueId } from "./helpers";
import { clientAuth, dpopKey, fapiClient, fapiCode, fapiToken, formPost, redeemFapiCode } from "./fapi2-helpers";
import { codeRequest } from "./oidc-helpers";
import { expectRegistrationError } from "./rfc7591-helpers";
import { proof, tokenPost } from "./rfc9449-helpers";

/**
 * FAPI 2.0 Security Profile §5.4.1 item 1: JWTs created or processed for a client under the profile
 * use PS256, ES256 or EdDSA (Ed25519) — its client assertions, DPoP proofs, request objects, and the
 * ID tokens and other responses the server signs for it (its registered algs) — never `none`.
 */

const CC = { grant_type: "client_credentials" };

/** The same private key material for another alg of its type (an RSA key for RS256 and PS256). */
const sameKeyAs = async (key: CryptoKey, alg: string) => (await importJWK(await exportJWK(key), alg)) as CryptoKey;

const admin = (input: Record<string, unknown>) => call(`/admin/clients/${uniqueId("fapi-alg")}`, {
  method: "PUT",
  headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({ grant_types: ["client_credentials"], ...input }),
});

describe("FAPI 2.0 §5.4.1 item 1: algorithms", () => {
  it("client assertions: RS256 is refused (invalid_client), PS256 accepted", async () => {
    const client = await fapiClient({}, "PS256");
    const key = await dpopKey();
    // The client's own RSA key, as RS256: without the profile this assertion would be accepted.
    const rs256Key = await sameKeyAs(client.key.privateKey, "RS256");
    const rs256 = await formPost("/token", { ...CC, ...(await clientAuth({ ...client, key: { ...client.key, privateKey: rs256Key } }, { alg: "RS256" })) }, { dpop: await proof(key) });
    await expectError(rs256, 401, "invalid_client", "fapi2_client_assertion_alg");
    const ps256 = await formPost("/token", { ...CC, ...(await clientAuth(client, { alg: "PS256" })) }, { dpop: await proof(key) });
    expect(ps256.status, await ps256.clone().text()).toBe(200);
  });

  it("DPoP proofs: RS256 is refused for a client under the profile (invalid_dpop_proof), accepted from another; PS256, ES256, EdDSA accepted", async () => {
    const client = await fapiClient();
    await expectError(await fapiToken(client, CC, await dpopKey("RS256")), 400, "invalid_dpop_proof");
    for (const alg of ["PS256", "ES256", "EdDSA"]) {
      const res = await fapiToken(client, CC, await dpopKey(alg));
      expect(res.status, `${alg}: ${await res.clone().text()}`).toBe(200);
    }
    const other = await createClient({});
    const headers = new Headers({ authorization: `Basic ${btoa(`${other.client_id}:${other.client_secret}`)}`, dpop: await proof(await dpopKey("RS256")) });
    expect((await tokenPost(CC, headers)).status).toBe(200);
  });

  it("request objects at PAR: RS256 refused (invalid_request_object), PS256 accepted", async () => {
    const client = await fapiClient({}, "PS256");
    const { params } = await codeRequest(client.client_id, { scope: "openid" });
    const now = nowSeconds();
    const object = async (alg: string) => new SignJWT({ ...params, iss: client.client_id, aud: ISSUER, nbf: now, exp: now + 300 })
      .setProtectedHeader({ alg, typ: "oauth-authz-req+jwt" }).sign(await sameKeyAs(client.key.privateKey, alg));
    const rs256 = await formPost("/par", { client_id: client.client_id, request: await object("RS256"), ...(await clientAuth(client)) });
    await expectError(rs256, 400, "invalid_request_object", "request_object_invalid");
    const ps256 = await formPost("/par", { client_id: client.client_id, request: await object("PS256"), ...(await clientAuth(client)) });
    expect(ps256.status, await ps256.clone().text()).toBe(201);
  });

  it("ID tokens: signed ES256 for a client that registered no alg (not RS256)", async () => {
    const client = await fapiClient();
    const { code, verifier } = await fapiCode(client);
    const body = await redeemFapiCode(client, await dpopKey(), code, verifier);
    expect(decodeProtectedHeader(body.id_token!).alg).toBe("ES256");
  });

  it("registration: RS256 or none in any registered alg is refused", async () => {
    const { key } = await fapiClient({}, "PS256");
    const base = { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] }, fapi_profile: "fapi2-security" };
    for (const [member, alg] of [
      ["id_token_signed_response_alg", "RS256"],
      ["token_endpoint_auth_signing_alg", "RS256"],
      ["request_object_signing_alg", "none"],
      ["request_object_signing_alg", "RS256"],
      ["introspection_signed_response_alg", "RS256"],
      ["userinfo_signed_response_alg", "RS256"],
    ] as const) {
      await expectRegistrationError(await admin({ ...base, [member]: alg }), "invalid_client_metadata", "fapi2_alg_metadata", member);
    }
    const ciba = { ...base, grant_types: ["urn:openid:params:grant-type:ciba"], backchannel_token_delivery_mode: "poll" };
    await expectRegistrationError(await admin({ ...ciba, backchannel_authentication_request_signing_alg: "RS256" }),
      "invalid_client_metadata", "fapi2_alg_metadata", "backchannel_authentication_request_signing_alg");
    const ok = await admin({ ...base, id_token_signed_response_alg: "EdDSA", token_endpoint_auth_signing_alg: "PS256" });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });
});
