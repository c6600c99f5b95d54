import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { basic, createClient, expectError } from "./helpers";
import { personsCode, send, tokenPost } from "./rfc9449-helpers";

/**
 * RFC 8705 §3: access tokens bound to the client's TLS certificate (`cnf.x5t#S256`, §3.1) for
 * clients registered with `tls_client_certificate_bound_access_tokens` (§3.4) — confidential
 * clients authenticated by mTLS and public clients presenting a certificate — and UserInfo
 * refusing such a token over a connection without that certificate. The certificate data is what
 * Cloudflare's edge puts in request.cf.tlsClientAuth.
 */

const FINGERPRINT = "a1".repeat(32);
const OTHER = "b2".repeat(32);
/** base64url of the fingerprint's bytes: the x5t#S256 it gives. */
const x5t = (hex: string) => btoa(String.fromCharCode(...hex.match(/../g)!.map((b) => parseInt(b, 16)))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

const cert = (fingerprint = FINGERPRINT, overrides: Record<string, string> = {}) => ({
  certPresented: "1", certVerified: "SUCCESS", certRevoked: "0",
  certSubjectDNRFC2253: "CN=svc-a,O=Example Corp,C=US", certSubjectDN: "CN=svc-a,O=Example Corp,C=US",
  certIssuerDNRFC2253: "CN=Example CA", certFingerprintSHA256: fingerprint, ...overrides,
});

describe("RFC 8705 §3.1 certificate-bound access tokens", () => {
  it("tls_client_auth with tls_client_certificate_bound_access_tokens: cnf.x5t#S256 of the certificate, token_type Bearer", async () => {
    const c = await createClient({
      token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: "CN=svc-a,O=Example Corp,C=US",
      tls_client_certificate_bound_access_tokens: true,
    });
    const res = await tokenPost({ grant_type: "client_credentials", client_id: c.client_id }, {}, cert());
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe("Bearer");
    expect(decodeJwt(body.access_token).cnf).toEqual({ "x5t#S256": x5t(FINGERPRINT) });
  });

  it("without the metadata: no cnf", async () => {
    const c = await createClient({ token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: "CN=svc-a,O=Example Corp,C=US" });
    const body = (await (await tokenPost({ grant_type: "client_credentials", client_id: c.client_id }, {}, cert())).json()) as { access_token: string };
    expect(decodeJwt(body.access_token).cnf).toBeUndefined();
  });

  it("a client with the metadata but no certificate presented (Basic authentication) → 400 invalid_request", async () => {
    const c = await createClient({ tls_client_certificate_bound_access_tokens: true });
    const res = await tokenPost({ grant_type: "client_credentials" }, { authorization: basic(c.client_id, c.client_secret!) });
    await expectError(res, 400, "invalid_request", "tls_binding_certificate_missing");
  });

  it("a public client presenting a certificate: the code's tokens are bound; UserInfo checks the certificate (§3)", async () => {
    const c = await createClient({
      grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none", redirect_uris: ["https://rp.example/callback"],
      scope: "openid offline_access", tls_client_certificate_bound_access_tokens: true,
    });
    const { form } = await personsCode(c.client_id);
    const res = await tokenPost(form, {}, cert(FINGERPRINT, { certVerified: "FAILED:self signed certificate" }));
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = (await res.json()) as { access_token: string; refresh_token: string };
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ "x5t#S256": x5t(FINGERPRINT) });
    const info = (tls?: object) => send("/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } }, tls);
    expect((await info(cert())).status).toBe(200);
    await expectError(await info(), 401, "invalid_token", "certificate_token_mismatch");
    await expectError(await info(cert(OTHER)), 401, "invalid_token", "certificate_token_mismatch");
    // The public client's refresh token is bound too: another certificate cannot refresh it.
    const refresh = { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: c.client_id };
    await expectError(await tokenPost(refresh, {}, cert(OTHER)), 400, "invalid_grant", "sender_key_mismatch");
    expect((await tokenPost(refresh, {}, cert())).status).toBe(200);
  });
});
