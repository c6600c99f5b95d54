import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ISSUER, TOKEN_ENDPOINT, basic, call, expectError, nowSeconds, tokenRequest } from "./helpers";
import { Browser, REDIRECT_URI, person, signIn } from "./oidc-helpers";
import {
  expectInvalidToken, expectRegistrationError, manage, registered, registrationRequest, webClient, type Registration,
} from "./rfc7591-helpers";

/**
 * RFC 7592 (OAuth 2.0 Dynamic Client Registration Management Protocol): reading (§2.1), updating
 * (§2.2) and deleting (§2.3) a registration at its registration_client_uri with the registration
 * access token; OpenID Connect Dynamic Client Registration §4.4: never 404.
 */

const operator = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const adminGet = async (id: string) => (await call(`/admin/clients/${id}`, { headers: operator })).json() as Promise<Record<string, unknown>>;
const adminPatch = (id: string, body: unknown) => call(`/admin/clients/${id}`, { method: "PATCH", headers: operator, body: JSON.stringify(body) });

/** What GET returns, minus the secret, as a PUT body: what a client edits and sends back. */
async function current(reg: Registration): Promise<Record<string, unknown>> {
  const res = await manage("GET", reg.registration_client_uri, reg.registration_access_token);
  expect(res.status).toBe(200);
  return res.json();
}

const clientCredentials = (id: string, secret: string) =>
  tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(id, secret) });

describe("RFC 7592 §2: the registration access token", () => {
  it("missing, wrong, another client's, or a non-Bearer scheme → 401 invalid_token with a Bearer challenge", async () => {
    const a = await registered(webClient());
    const b = await registered(webClient());
    await expectInvalidToken(await manage("GET", a.registration_client_uri, undefined), "registration_access_token_missing");
    await expectInvalidToken(await manage("GET", a.registration_client_uri, "wrong-token"), "registration_access_token_invalid");
    await expectInvalidToken(await manage("GET", a.registration_client_uri, b.registration_access_token), "registration_access_token_invalid");
    await expectInvalidToken(await manage("PUT", a.registration_client_uri, b.registration_access_token, { client_id: a.client_id }), "registration_access_token_invalid");
    await expectInvalidToken(await manage("DELETE", a.registration_client_uri, b.registration_access_token), "registration_access_token_invalid");
  });

  it("OIDC Registration §4.4: an unknown client answers exactly like a wrong token (401, never 404)", async () => {
    const a = await registered(webClient());
    const unknown = await manage("GET", `${ISSUER}/register/no-such-client`, a.registration_access_token);
    const wrong = await manage("GET", a.registration_client_uri, "x".repeat(43));
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual(await wrong.json());
  });

  it("a client the operator created has no registration access token: 401", async () => {
    const res = await call("/admin/clients", { method: "POST", headers: operator, body: JSON.stringify({ grant_types: ["client_credentials"] }) });
    const { client_id } = (await res.json()) as { client_id: string };
    await expectInvalidToken(await manage("GET", `${ISSUER}/register/${client_id}`, "anything"), "registration_access_token_invalid");
  });

  it("a client the operator disabled cannot be managed (401)", async () => {
    const reg = await registered(webClient());
    expect((await adminPatch(reg.client_id, { disabled: true })).status).toBe(200);
    await expectInvalidToken(await manage("GET", reg.registration_client_uri, reg.registration_access_token), "registration_access_token_invalid");
  });

  it("§2: when the client is gone (deleted by the operator), its token is revoked on sight", async () => {
    const reg = await registered(webClient());
    expect((await call(`/admin/clients/${reg.client_id}`, { method: "DELETE", headers: operator })).status).toBe(204);
    await expectInvalidToken(await manage("GET", reg.registration_client_uri, reg.registration_access_token), "registration_access_token_invalid");
    const row = await env.DB.prepare("SELECT 1 FROM registration_tokens WHERE client_id = ?").bind(reg.client_id).first();
    expect(row).toBeNull();
  });

  it("other methods → 405 with Allow", async () => {
    const reg = await registered(webClient());
    for (const method of ["POST", "PATCH"] as const) {
      const res = await manage(method, reg.registration_client_uri, reg.registration_access_token, {});
      await expectError(res, 405, "invalid_request", "method_not_allowed");
      expect(res.headers.get("allow")).toBe("GET, PUT, DELETE");
    }
  });
});

describe("RFC 7592 §2.1 client read request", () => {
  it("200 JSON, no-store: the registration as at §3.2.1 with the token and URI, without the secret", async () => {
    const reg = await registered(webClient({ logo_uri: "https://rp.example/logo.png" }));
    const res = await manage("GET", reg.registration_client_uri, reg.registration_access_token);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { client_secret: _secret, ...expected } = reg;
    expect(await res.json()).toEqual(expected);
  });
});

describe("RFC 7592 §2.2 client update request", () => {
  it("full replacement: changed members change, omitted members return to their defaults; 200 with the result", async () => {
    const reg = await registered(webClient({ logo_uri: "https://rp.example/logo.png", scope: "openid read", contacts: ["a@rp.example"], id_token_signed_response_alg: "ES256" }));
    const res = await manage("PUT", reg.registration_client_uri, reg.registration_access_token, {
      client_id: reg.client_id,
      redirect_uris: [REDIRECT_URI, "https://rp.example/second"],
      client_name: "Renamed RP",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      client_id: reg.client_id,
      client_id_issued_at: reg.client_id_issued_at,
      client_name: "Renamed RP",
      redirect_uris: [REDIRECT_URI, "https://rp.example/second"],
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      id_token_signed_response_alg: "RS256",
      client_secret_expires_at: 0,
      registration_access_token: reg.registration_access_token,
      registration_client_uri: reg.registration_client_uri,
    });
    for (const member of ["logo_uri", "scope", "contacts", "client_secret"]) expect(body).not.toHaveProperty(member);
    expect(await current(reg)).toEqual(body);
  });

  it("client_id must be sent and must be this client's (else 400 invalid_request)", async () => {
    const reg = await registered(webClient());
    for (const clientId of [undefined, "someone-else"]) {
      await expectRegistrationError(await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { ...webClient(), client_id: clientId }),
        "invalid_request", "registration_client_id_mismatch");
    }
  });

  it("the server's members may be sent back as GET gave them (ignored); changed ones → 400 invalid_request", async () => {
    const reg = await registered(webClient());
    const echoed = await current(reg);
    expect((await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { ...echoed, client_name: "Echo" })).status).toBe(200);
    for (const [member, value] of Object.entries({
      registration_access_token: "new-token",
      registration_client_uri: `${ISSUER}/register/elsewhere`,
      client_secret_expires_at: nowSeconds() + 60,
      client_id_issued_at: 1,
    })) {
      await expectRegistrationError(await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { ...echoed, [member]: value }),
        "invalid_request", "registration_read_only_field", member);
    }
  });

  it("the secret is kept: it still works after a PUT, which returns no client_secret", async () => {
    const reg = await registered({ grant_types: ["client_credentials"], scope: "read" });
    const res = await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { client_id: reg.client_id, grant_types: ["client_credentials"], scope: "read write" });
    expect(await res.json()).not.toHaveProperty("client_secret");
    expect((await clientCredentials(reg.client_id, reg.client_secret!)).status).toBe(200);
  });

  it("client_secret may be sent if it is the current one; another value → 400 invalid_request", async () => {
    const reg = await registered({ grant_types: ["client_credentials"] });
    const base = { client_id: reg.client_id, grant_types: ["client_credentials"] };
    expect((await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { ...base, client_secret: reg.client_secret })).status).toBe(200);
    await expectRegistrationError(await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { ...base, client_secret: "x".repeat(86) }),
      "invalid_request", "registration_client_secret_mismatch");
  });

  it("extension rotate_client_secret: a new secret, returned once; the old one stops working", async () => {
    const reg = await registered({ grant_types: ["client_credentials"] });
    const res = await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { client_id: reg.client_id, grant_types: ["client_credentials"], rotate_client_secret: true });
    const body = (await res.json()) as Registration;
    expect(body.client_secret).toEqual(expect.any(String));
    expect(body.client_secret).not.toBe(reg.client_secret);
    expect((await clientCredentials(reg.client_id, body.client_secret!)).status).toBe(200);
    await expectError(await clientCredentials(reg.client_id, reg.client_secret!), 401, "invalid_client");
  });

  it("switching to client_secret_jwt with the current secret in the body keeps it (sealed for HMAC)", async () => {
    const reg = await registered({ grant_types: ["client_credentials"] });
    const res = await manage("PUT", reg.registration_client_uri, reg.registration_access_token, {
      client_id: reg.client_id, grant_types: ["client_credentials"], token_endpoint_auth_method: "client_secret_jwt", client_secret: reg.client_secret,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).not.toHaveProperty("client_secret");
    const now = nowSeconds();
    const assertion = await new SignJWT({ iss: reg.client_id, sub: reg.client_id, aud: TOKEN_ENDPOINT, iat: now, exp: now + 60, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(reg.client_secret));
    const token = await tokenRequest({
      grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion,
    });
    expect(token.status, await token.clone().text()).toBe(200);
  });

  it("switching to a method without a secret drops it (and client_secret_expires_at)", async () => {
    const reg = await registered(webClient());
    const res = await manage("PUT", reg.registration_client_uri, reg.registration_access_token, {
      client_id: reg.client_id, ...webClient(), application_type: "native", token_endpoint_auth_method: "none", redirect_uris: ["http://127.0.0.1/cb"],
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_endpoint_auth_method: "none" });
    expect(body).not.toHaveProperty("client_secret_expires_at");
    await expectError(await clientCredentials(reg.client_id, reg.client_secret!), 401, "invalid_client");
  });

  it("the metadata rules apply: a fragment → invalid_redirect_uri; an unknown scope → invalid_client_metadata; nothing changes", async () => {
    const reg = await registered(webClient());
    await expectRegistrationError(await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { client_id: reg.client_id, redirect_uris: [`${REDIRECT_URI}#f`] }),
      "invalid_redirect_uri", "redirect_uri_fragment");
    await expectRegistrationError(await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { ...webClient(), client_id: reg.client_id, scope: "admin" }),
      "invalid_client_metadata", "scope_not_allowed");
    const { client_secret: _secret, ...expected } = reg;
    expect(await current(reg)).toEqual(expected);
  });

  it("what only the operator sets survives the client's PUT (and stays hidden from it)", async () => {
    const reg = await registered(webClient());
    expect((await adminPatch(reg.client_id, { first_party: true, refresh_token_idle_lifetime: 600 })).status).toBe(200);
    const res = await manage("PUT", reg.registration_client_uri, reg.registration_access_token, { client_id: reg.client_id, ...webClient({ client_name: "Still first party" }) });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("first_party");
    expect(body).not.toHaveProperty("refresh_token_idle_lifetime");
    expect(await adminGet(reg.client_id)).toMatchObject({ client_name: "Still first party", first_party: true, refresh_token_idle_lifetime: 600 });
  });

  it("the body must be JSON (a form → 400 invalid_request)", async () => {
    const reg = await registered(webClient());
    const res = await registrationRequest(reg.registration_client_uri, {
      method: "PUT",
      headers: { authorization: `Bearer ${reg.registration_access_token}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: reg.client_id }).toString(),
    });
    await expectRegistrationError(res, "invalid_request", "registration_unsupported_content_type");
  });
});

describe("RFC 7592 §2.3 client delete request", () => {
  it("204; afterwards the registration, its token and its secret are gone", async () => {
    const reg = await registered({ grant_types: ["client_credentials"] });
    const res = await manage("DELETE", reg.registration_client_uri, reg.registration_access_token);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectInvalidToken(await manage("GET", reg.registration_client_uri, reg.registration_access_token), "registration_access_token_invalid");
    await expectInvalidToken(await manage("DELETE", reg.registration_client_uri, reg.registration_access_token), "registration_access_token_invalid");
    await expectError(await clientCredentials(reg.client_id, reg.client_secret!), 401, "invalid_client");
    expect(await env.DB.prepare("SELECT 1 FROM registration_tokens WHERE client_id = ?").bind(reg.client_id).first()).toBeNull();
  });

  it("revokes the client's grants and tokens: consents gone, UserInfo refuses its access tokens at once, refresh tokens revoked", async () => {
    const reg = await registered(webClient({ grant_types: ["authorization_code", "refresh_token"] }));
    const user = await person();
    const { tokens } = await signIn(new Browser(), reg, user, { scope: "openid offline_access" });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect((await call("/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);

    expect((await manage("DELETE", reg.registration_client_uri, reg.registration_access_token)).status).toBe(204);

    const info = await call("/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(info.status).toBe(401);
    expect(info.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(await env.DB.prepare("SELECT 1 FROM consents WHERE client_id = ?").bind(reg.client_id).first()).toBeNull();
    const live = await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ? AND revoked_at IS NULL").bind(reg.client_id).first<{ n: number }>();
    expect(live!.n).toBe(0);
    const refresh = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token! }, { authorization: basic(reg.client_id, reg.client_secret!) });
    expect(refresh.status).toBe(401);
  });
});
