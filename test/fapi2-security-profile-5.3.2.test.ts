import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authorizationEndpointSteps, pushedAuthorizationSteps } from "../src/authorize/steps";
import { configFrom } from "../src/config";
import type { Env } from "../src/env";
import { checkProfileConfig, isFapi2RedirectUri, profileSetting } from "../src/profiles/fapi2";
import { ISSUER, basic, call, createClient, expectError, nowSeconds, tokenRequest, uniqueId } from "./helpers";
import { proof } from "./rfc9449-helpers";
import { push, secretClient } from "./par-jar-helpers";
import { Browser, REDIRECT_URI, codeRequest, expectErrorPage, workerWithEnv } from "./oidc-helpers";
import { expectRegistrationError, register, webClient } from "./rfc7591-helpers";
import {
  FAPI_PROFILE, certificate, clientAuth, decodeJwt, dpopKey, fapiClient, fapiCode, fapiPush, fapiToken, formPost, redeemFapiCode,
} from "./fapi2-helpers";

/**
 * FAPI 2.0 Security Profile (Final) §5.3.2: the authorization server's requirements as a profile —
 * per client (the operator's `fapi_profile`) and server-wide (FAPI_PROFILE=fapi2-security). "item n"
 * is the n-th entry of the section's list. A client not under the profile is unaffected.
 */

const CC = { grant_type: "client_credentials" };
const SERVER_WIDE = { FAPI_PROFILE: "fapi2-security" } as const;

describe("FAPI 2.0 §5.3.2.2 authorization endpoint flows", () => {
  it("the profile's step runs in the authorization and PAR columns, before the general PKCE rule", () => {
    for (const steps of [authorizationEndpointSteps, pushedAuthorizationSteps]) {
      const names = steps.map((s) => s.name);
      expect(names.indexOf("fapi2_authorization_request")).toBeGreaterThan(-1);
      expect(names.indexOf("fapi2_authorization_request")).toBeLessThan(names.indexOf("pkce"));
    }
  });

  it("items 2, 4, 5, 7: client-authenticated PAR, S256, then the code with iss, redeemed with a DPoP proof", async () => {
    const client = await fapiClient();
    const { code, verifier, response } = await fapiCode(client);
    expect(response.get("iss")).toBe(ISSUER);
    const key = await dpopKey();
    const body = await redeemFapiCode(client, key, code, verifier);
    expect(body.token_type).toBe("DPoP");
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it("item 3: a request not pushed is refused (a page), also a request object by value", async () => {
    const client = await fapiClient();
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "pushed_request_required");
    const request = "eyJhbGciOiJFUzI1NiJ9.e30.sig";
    await expectErrorPage(await new Browser().fetch(`/authorize?${new URLSearchParams({ client_id: client.client_id, request })}`), "pushed_request_required");
  });

  it("item 4: a pushed request without client authentication is refused", async () => {
    const client = await fapiClient();
    const { params } = await codeRequest(client.client_id);
    await expectError(await formPost("/par", params), 401, "invalid_client");
  });

  it("item 5: PKCE is required, and only S256 — even for a client the operator allowed plain", async () => {
    const client = await fapiClient({ allow_plain_pkce: true });
    const missing = await fapiPush(client, { code_challenge: "", code_challenge_method: "" });
    await expectError(missing.res, 400, "invalid_request", "fapi2_pkce_required");
    const plain = await fapiPush(client, { code_challenge: "a".repeat(43), code_challenge_method: "plain" });
    await expectError(plain.res, 400, "invalid_request", "fapi2_pkce_s256_required");
    const omitted = await fapiPush(client, { code_challenge_method: "" });
    await expectError(omitted.res, 400, "invalid_request", "fapi2_pkce_s256_required");
  });

  it("item 6: the pushed request must name its redirect_uri (no registered default)", async () => {
    const client = await fapiClient({ plain_oauth2: true });
    const { res } = await fapiPush(client, { redirect_uri: "", scope: "read" });
    await expectError(res, 400, "invalid_request", "fapi2_redirect_uri_required");
  });

  it("item 8: only https redirect URIs, or http loopback ones of native clients", async () => {
    expect(isFapi2RedirectUri("https://rp.example/cb", "web")).toBe(true);
    expect(isFapi2RedirectUri("http://rp.example/cb", "web")).toBe(false);
    expect(isFapi2RedirectUri("http://127.0.0.1:4000/cb", "web")).toBe(false);
    expect(isFapi2RedirectUri("http://127.0.0.1:4000/cb", "native")).toBe(true);
    expect(isFapi2RedirectUri("http://rp.example/cb", "native")).toBe(false);
    expect(isFapi2RedirectUri("com.example.app:/cb", "native")).toBe(true);
  });

  it("item 12: request_uri expires_in is under 600 s; a config that breaks it (or codes over 60 s, §5.3.2.1 item 11) is refused server-wide", async () => {
    const client = await fapiClient();
    const { res } = await fapiPush(client);
    expect(((await res.json()) as { expires_in: number }).expires_in).toBeLessThan(600);
    const config = configFrom({ ...env, FAPI_PROFILE: "fapi2-security" } as Env);
    expect(config.fapiProfile).toBe("fapi2-security");
    expect(config.codeTtl).toBeLessThanOrEqual(60);
    expect(() => checkProfileConfig({ ...config, codeTtl: 61 })).toThrow(/60 s/);
    expect(() => checkProfileConfig({ ...config, parTtl: 600 })).toThrow(/600 s/);
    expect(() => checkProfileConfig({ ...config, fapiProfile: null, codeTtl: 61 })).not.toThrow();
    expect(() => profileSetting("fapi1-advanced")).toThrow(/FAPI_PROFILE/);
    expect(profileSetting(undefined)).toBeNull();
  });

  it("a client not under the profile is unaffected: requests not pushed, plain PKCE where the operator allowed it", async () => {
    const client = await secretClient({ allow_plain_pkce: true });
    const { params } = await codeRequest(client.client_id);
    const page = await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`);
    expect([200, 302, 303]).toContain(page.status);
    expect(page.headers.get("location") ?? "").not.toContain("error=");
    const plain = await codeRequest(client.client_id, { code_challenge: "a".repeat(43), code_challenge_method: "plain" });
    expect((await push(client, plain.params)).status).toBe(201);
  });
});

describe("FAPI 2.0 §5.3.2.1 general requirements", () => {
  it("items 4, 5: no token without a sender constraint — a DPoP proof or the TLS client certificate binds it", async () => {
    const client = await fapiClient();
    await expectError(await fapiToken(client, CC), 400, "invalid_request", "fapi2_sender_constraint_required");
    const key = await dpopKey();
    const dpop = await fapiToken(client, CC, key);
    expect(dpop.status, await dpop.clone().text()).toBe(200);
    expect(((await dpop.json()) as { token_type: string }).token_type).toBe("DPoP");
    const mtls = await fapiToken(client, CC, undefined, { tls: certificate("c3".repeat(32)) });
    expect(mtls.status, await mtls.clone().text()).toBe(200);
    const cnf = decodeJwt(((await mtls.json()) as { access_token: string }).access_token).cnf as Record<string, string>;
    expect(Object.keys(cnf)).toEqual(["x5t#S256"]);
  });

  it("items 4, 5: a client not under the profile still gets a Bearer token without either", async () => {
    const client = await createClient({});
    const res = await tokenRequest(CC, { authorization: basic(client.client_id, client.client_secret!) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { token_type: string }).token_type).toBe("Bearer");
  });

  it("item 6: mTLS client authentication is one of the profile's methods", async () => {
    const client = await createClient({
      token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: "CN=fapi-client,O=Example", ...FAPI_PROFILE,
    });
    const res = await formPost("/token", { ...CC, client_id: client.client_id }, { tls: certificate() });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(decodeJwt(((await res.json()) as { access_token: string }).access_token).cnf).toHaveProperty("x5t#S256");
  });

  it("item 8: the assertion aud is the issuer as a single string — not an array, the token or the PAR endpoint URL", async () => {
    const client = await fapiClient();
    const key = await dpopKey();
    for (const aud of [[ISSUER], `${ISSUER}/token`, `${ISSUER}/par`]) {
      const res = await formPost("/token", { ...CC, ...(await clientAuth(client, { aud })) }, { dpop: await proof(key) });
      await expectError(res, 401, "invalid_client", "client_assertion_invalid_audience");
    }
    const { res } = await fapiPush(client, {}, { aud: `${ISSUER}/par` });
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_audience");
    const ok = await formPost("/token", { ...CC, ...(await clientAuth(client, { aud: ISSUER })) }, { dpop: await proof(key) });
    expect(ok.status).toBe(200);
  });

  it("item 13: an assertion whose nbf and iat are 8 s ahead is accepted; 61 s ahead it is refused", async () => {
    const client = await fapiClient();
    const now = nowSeconds();
    const ahead = (s: number) => clientAuth(client, { claims: { nbf: now + s, iat: now + s, exp: now + s + 60 } });
    const { params } = await codeRequest(client.client_id);
    expect((await formPost("/par", { ...params, ...(await ahead(8)) })).status).toBe(201);
    await expectError(await formPost("/par", { ...params, ...(await ahead(61)) }), 401, "invalid_client");
  });
});

describe("FAPI 2.0 §5.3.2.1 items 3, 6 and §5.3.2.2 item 8 at registration", () => {
  it("the operator's fapi_profile: only private_key_jwt or mTLS, https redirect URIs; the switch is kept in the metadata", async () => {
    const put = (input: Record<string, unknown>) => call(`/admin/clients/${uniqueId("fapi")}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    for (const method of ["client_secret_basic", "client_secret_post", "client_secret_jwt", "none"]) {
      await expectRegistrationError(await put({ token_endpoint_auth_method: method, ...FAPI_PROFILE }), "invalid_client_metadata", "fapi2_auth_method_metadata");
    }
    const key = (await fapiClient()).key;
    const base = { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] }, grant_types: ["authorization_code"], ...FAPI_PROFILE };
    // Allowed by the general rules in local development (ALLOW_INSECURE_CLIENT_URIS), never under the profile.
    const dev = workerWithEnv({ ALLOW_INSECURE_CLIENT_URIS: "true" });
    const http = await dev(`/admin/clients/${uniqueId("fapi")}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ ...base, redirect_uris: ["http://127.0.0.1:8080/cb"] }),
    });
    await expectRegistrationError(http, "invalid_redirect_uri", "fapi2_redirect_uri_metadata");
    await expectRegistrationError(await put({ ...base, redirect_uris: [REDIRECT_URI], fapi_profile: "fapi1" }), "invalid_client_metadata", "fapi_profile_malformed");
    const ok = await put({ ...base, redirect_uris: [REDIRECT_URI] });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Record<string, unknown>).fapi_profile).toBe("fapi2-security");
  });

  it("a client registering itself may not set fapi_profile; under the server-wide profile it gets the profile's rules", async () => {
    await expectRegistrationError(await register(webClient({ ...FAPI_PROFILE })), "invalid_client_metadata", "fapi_profile_operator_only");
    const serverWide = { REGISTRATION_POLICY: "open", REGISTRATION_SCOPES: "read write", SOFTWARE_STATEMENT_KEYS: "", ...SERVER_WIDE };
    await expectRegistrationError(await register(webClient(), { env: serverWide }), "invalid_client_metadata", "fapi2_auth_method_metadata");
    const key = (await fapiClient()).key;
    const res = await register(webClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] } }), { env: serverWide });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(((await res.json()) as Record<string, unknown>).id_token_signed_response_alg).toBe("ES256");
  });
});

describe("FAPI 2.0 server-wide (FAPI_PROFILE=fapi2-security)", () => {
  const send = workerWithEnv(SERVER_WIDE);

  it("§5.3.2.1 item 1: discovery tells what holds — PAR required, the profile's methods and algs, S256, iss", async () => {
    const metadata = (await (await send("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.require_pushed_authorization_requests).toBe(true);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"]);
    for (const member of ["token_endpoint_auth_signing_alg_values_supported", "request_object_signing_alg_values_supported",
      "dpop_signing_alg_values_supported", "id_token_signing_alg_values_supported"]) {
      const algs = metadata[member] as string[];
      expect(algs.length, member).toBeGreaterThan(0);
      expect(algs.every((a) => ["PS256", "ES256", "EdDSA", "Ed25519"].includes(a)), `${member}: ${algs}`).toBe(true);
    }
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    const plain = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(plain.require_pushed_authorization_requests).toBe(false);
    expect(plain.token_endpoint_auth_methods_supported).toContain("client_secret_basic");
  });

  it("§5.3.2.1 item 6: a client registered earlier with a secret is refused at the token endpoint (401)", async () => {
    const client = await createClient({});
    const res = await send("/token", {
      method: "POST",
      headers: { authorization: basic(client.client_id, client.client_secret!), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(CC).toString(),
    });
    await expectError(res, 401, "invalid_client", "fapi2_client_auth_method");
  });

  it("§5.3.2.1 items 4, 5, 8: every client — no unbound token, the issuer-only aud", async () => {
    const client = await fapiClient({ fapi_profile: undefined });
    await expectError(await fapiToken(client, CC, undefined, { fetcher: send }), 400, "invalid_request", "fapi2_sender_constraint_required");
    const res = await formPost("/token", { ...CC, ...(await clientAuth(client, { aud: `${ISSUER}/token` })) }, { dpop: await proof(await dpopKey()), fetcher: send });
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_audience");
    expect((await fapiToken(client, CC, await dpopKey(), { fetcher: send })).status).toBe(200);
  });

  it("§5.3.2.2 item 3: PAR is required of every client", async () => {
    const client = await fapiClient({ fapi_profile: undefined });
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await new Browser(send).fetch(`/authorize?${new URLSearchParams(params)}`), "pushed_request_required");
  });
});
