import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { CIBA_GRANT, cibaClient, decideOnApprovalPage, mailedApproval, pollCiba, startCiba } from "./ciba-helpers";
import { describe, expect, it } from "vitest";
import { ISSUER, JWT_BEARER, assertion, basic, call, createClient, keyPair, tokenRequest } from "./helpers";
import { Browser, authorize, codeRequest, oidcClient, person, redeem } from "./oidc-helpers";
import { offlineTokens, refresh, refreshClient } from "./rfc6749-6-helpers";
import { DEVICE_GRANT, approveOnDevicePage, deviceClient, poll, startDevice } from "./rfc8628-helpers";

type Metadata = Record<string, unknown> & {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported: string[];
};

async function metadata(path: string): Promise<Metadata> {
  const res = await call(path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("access-control-allow-origin")).toBe("*");
  return res.json();
}

const DOCS = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"];
const utf8 = (s: string) => new TextEncoder().encode(s);

describe("RFC 8414 §3 / OIDC Discovery §4 metadata", () => {
  it("both documents are served and agree; issuer is the configured one exactly (§3.3)", async () => {
    const [a, b] = await Promise.all(DOCS.map(metadata));
    expect(a).toEqual(b);
    expect(a!.issuer).toBe(ISSUER);
  });

  it("every advertised endpoint answers", async () => {
    const m = await metadata(DOCS[0]!);
    const endpoints = Object.entries(m).filter(([k]) => k.endsWith("_endpoint") || k === "jwks_uri");
    expect(endpoints.length).toBeGreaterThanOrEqual(2);
    for (const [name, url] of endpoints) {
      expect(String(url).startsWith(ISSUER), name).toBe(true);
      const method = name === "jwks_uri" || name === "authorization_endpoint" ? "GET" : "POST";
      const res = await call(new URL(String(url)).pathname, { method });
      expect(res.status, name).not.toBe(404);
      expect(res.status, name).toBeLessThan(500);
    }
  });

  it("every advertised grant type is accepted", async () => {
    const m = await metadata(DOCS[0]!);
    for (const grant of m.grant_types_supported) {
      if (grant === "authorization_code") {
        const client = await oidcClient();
        const { params, verifier } = await codeRequest(client.client_id);
        const { params: back } = await authorize(new Browser(), params, await person());
        expect((await redeem(client, back.get("code")!, verifier)).status, grant).toBe(200);
      } else if (grant === "refresh_token") {
        const client = await refreshClient();
        const { tokens } = await offlineTokens(client);
        expect((await refresh(client, tokens.refresh_token)).status, grant).toBe(200);
      } else if (grant === CIBA_GRANT) {
        const client = await cibaClient();
        const user = await person();
        const started = await startCiba(client, user.email);
        await decideOnApprovalPage(new Browser(), (await mailedApproval(user.email)).path, user);
        expect((await pollCiba(client, started.auth_req_id)).status, grant).toBe(200);
      } else if (grant === DEVICE_GRANT) {
        const client = await deviceClient();
        const device = await startDevice(client);
        await approveOnDevicePage(new Browser(), device.user_code, await person());
        expect((await poll(client, device.device_code)).status, grant).toBe(200);
      } else {
        const c = await createClient({ grant_types: [grant] });
        const res = await tokenRequest({ grant_type: grant }, { authorization: basic(c.client_id, c.client_secret!) });
        expect(res.status, grant).toBe(200);
      }
    }
  });

  it("every advertised response mode delivers a code; scopes and claims are listed", async () => {
    const m = await metadata(DOCS[0]!);
    const client = await oidcClient();
    const user = await person();
    for (const mode of m.response_modes_supported as string[]) {
      const { params } = await codeRequest(client.client_id, { response_mode: mode });
      const { params: back } = await authorize(new Browser(), params, user);
      expect(back.get("code"), mode).toBeTruthy();
    }
    expect(m.scopes_supported).toContain("openid");
    expect(m.code_challenge_methods_supported).toEqual(["S256"]);
    expect(m.id_token_signing_alg_values_supported).toContain("RS256");
  });

  it("every advertised client authentication method is accepted", async () => {
    const m = await metadata(DOCS[0]!);
    const accepted = new Set<string>();
    for (const method of m.token_endpoint_auth_methods_supported) {
      const cc = { grant_type: "client_credentials" };
      if (method === "client_secret_basic") {
        const c = await createClient({ token_endpoint_auth_method: method });
        if ((await tokenRequest(cc, { authorization: basic(c.client_id, c.client_secret!) })).status === 200) accepted.add(method);
      } else if (method === "client_secret_post") {
        const c = await createClient({ token_endpoint_auth_method: method });
        if ((await tokenRequest({ ...cc, client_id: c.client_id, client_secret: c.client_secret! })).status === 200) accepted.add(method);
      } else if (method === "client_secret_jwt") {
        const c = await createClient({ token_endpoint_auth_method: method });
        const jwt = await assertion(c.client_id, utf8(c.client_secret!), { alg: "HS256" });
        if ((await tokenRequest({ ...cc, client_assertion_type: JWT_BEARER, client_assertion: jwt })).status === 200) accepted.add(method);
      } else if (method === "private_key_jwt") {
        const k = await keyPair("ES256");
        const c = await createClient({ token_endpoint_auth_method: method, jwks: { keys: [k.publicJwk] } });
        const jwt = await assertion(c.client_id, k.privateKey);
        if ((await tokenRequest({ ...cc, client_assertion_type: JWT_BEARER, client_assertion: jwt })).status === 200) accepted.add(method);
      } else if (method === "none") {
        // Public clients authenticate by client_id alone; the token endpoint identifies them
        // (they are then refused client_credentials as unauthorized_client, not invalid_client).
        const c = await createClient({ token_endpoint_auth_method: method });
        const res = await tokenRequest({ ...cc, client_id: c.client_id });
        if (((await res.json()) as { error: string }).error === "unauthorized_client") accepted.add(method);
      } else if (method === "tls_client_auth" || method === "self_signed_tls_client_auth") {
        // Covered with certificate data in test/rfc8705-mtls-client-authentication.test.ts.
        accepted.add(method);
      }
    }
    expect([...accepted].sort()).toEqual([...m.token_endpoint_auth_methods_supported].sort());
  });

  it("every advertised assertion signing alg is accepted", async () => {
    const m = await metadata(DOCS[0]!);
    for (const alg of m.token_endpoint_auth_signing_alg_values_supported) {
      let jwt: string;
      if (alg.startsWith("HS")) {
        const c = await createClient({ token_endpoint_auth_method: "client_secret_jwt" });
        jwt = await assertion(c.client_id, utf8(c.client_secret!), { alg });
      } else {
        const k = await keyPair(alg);
        const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [k.publicJwk] } });
        jwt = await assertion(c.client_id, k.privateKey, { alg });
      }
      const res = await tokenRequest({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: jwt });
      expect(res.status, `${alg}: ${await res.clone().text()}`).toBe(200);
    }
  });

  it("every advertised introspection signing alg signs JWT introspection responses (RFC 9701 §7)", async () => {
    const m = await metadata(DOCS[0]!);
    const algs = m.introspection_signing_alg_values_supported as string[];
    expect(algs).toContain("RS256");
    const jwks = createLocalJWKSet((await (await call(new URL(m.jwks_uri).pathname)).json()) as JSONWebKeySet);
    for (const alg of algs) {
      const c = await createClient({ introspection_signed_response_alg: alg });
      const res = await call(new URL(String(m.introspection_endpoint)).pathname, {
        method: "POST",
        headers: {
          authorization: basic(c.client_id, c.client_secret!),
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/token-introspection+jwt",
        },
        body: "token=unknown",
      });
      const jwt = new TextDecoder().decode(await res.arrayBuffer());
      expect(res.status, `${alg}: ${jwt}`).toBe(200);
      const { protectedHeader } = await jwtVerify(jwt, jwks, { issuer: ISSUER, audience: c.client_id, typ: "token-introspection+jwt", algorithms: [alg] });
      expect(protectedHeader.alg).toBe(alg);
    }
  });

  it("advertises nothing it does not implement", async () => {
    const m = await metadata(DOCS[0]!);
    for (const key of [
      "frontchannel_logout_supported",
      "introspection_encryption_alg_values_supported", "introspection_encryption_enc_values_supported",
    ]) {
      expect(m[key], key).toBeUndefined();
    }
    expect(m.response_types_supported).toEqual(["code"]);
    expect(m.id_token_signing_alg_values_supported).not.toContain("none");
  });
});

describe("RFC 7517 §5 JWKS", () => {
  it("publishes ES256, RS256 and EdDSA public keys with kid and use, and no private members", async () => {
    const res = await call("/jwks");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    expect(res.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(new Set(keys.map((k) => k.alg))).toEqual(new Set(["ES256", "RS256", "EdDSA"]));
    for (const k of keys) {
      expect(k.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(k.use).toBe("sig");
      for (const priv of ["d", "p", "q", "dp", "dq", "qi", "k"]) expect(k[priv]).toBeUndefined();
    }
  });
});
