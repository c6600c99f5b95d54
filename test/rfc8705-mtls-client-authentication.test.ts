import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { normalizeDn } from "../src/client-auth/methods/tls";
import { ISSUER, createClient, expectError } from "./helpers";

const CC = { grant_type: "client_credentials" };
// A stand-in DER certificate: self_signed_tls_client_auth pins the SHA-256 of the DER bytes.
const DER = new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff));
const DER_B64 = btoa(String.fromCharCode(...DER));

async function fingerprint(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function cert(overrides: Record<string, string> = {}) {
  return {
    certPresented: "1",
    certVerified: "SUCCESS",
    certRevoked: "0",
    certSubjectDNRFC2253: "CN=svc-a,O=Example Corp,C=US",
    certSubjectDN: "CN=svc-a,O=Example Corp,C=US",
    certIssuerDNRFC2253: "CN=Example CA",
    certFingerprintSHA256: "00",
    ...overrides,
  };
}

/** The token request as Cloudflare's edge delivers it after mTLS: certificate data in request.cf. */
function mtlsRequest(clientId: string, tlsClientAuth: object | undefined) {
  const init = {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...CC, client_id: clientId }).toString(),
    cf: tlsClientAuth ? { tlsClientAuth } : {},
  };
  return exports.default.fetch(new Request(`${ISSUER}/token`, init as RequestInit));
}

describe("RFC 8705 §2.1 tls_client_auth", () => {
  it("authenticates a CA-validated certificate whose subject DN matches", async () => {
    const c = await createClient({ token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: "CN=svc-a, O=Example Corp, C=US" });
    const res = await mtlsRequest(c.client_id, cert());
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("refuses a request without a certificate", async () => {
    const c = await createClient({ token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: "CN=svc-a,O=Example Corp,C=US" });
    await expectError(await mtlsRequest(c.client_id, undefined), 401, "invalid_client", "tls_client_certificate_missing");
    await expectError(await mtlsRequest(c.client_id, { certPresented: "0", certVerified: "NONE" }), 401, "invalid_client", "tls_client_certificate_missing");
  });

  it("refuses a certificate that failed chain validation or is revoked", async () => {
    const c = await createClient({ token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: "CN=svc-a,O=Example Corp,C=US" });
    await expectError(await mtlsRequest(c.client_id, cert({ certVerified: "FAILED:self signed certificate" })), 401, "invalid_client", "tls_client_certificate_untrusted");
    await expectError(await mtlsRequest(c.client_id, cert({ certRevoked: "1" })), 401, "invalid_client", "tls_client_certificate_untrusted");
  });

  it("refuses a certificate with another subject", async () => {
    const c = await createClient({ token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: "CN=svc-b,O=Example Corp,C=US" });
    await expectError(await mtlsRequest(c.client_id, cert()), 401, "invalid_client", "tls_client_certificate_mismatch");
  });

  it("compares DNs with attribute types case-insensitively and spaces ignored (RFC 4517 §4.2.15)", () => {
    expect(normalizeDn("cn=svc-a , o=Example Corp")).toBe(normalizeDn("CN=svc-a,O=Example Corp"));
    expect(normalizeDn("CN=a\\,b,O=x")).not.toBe(normalizeDn("CN=a,O=b,O=x"));
  });
});

describe("RFC 8705 §2.2 self_signed_tls_client_auth", () => {
  it("authenticates a certificate whose fingerprint matches a registered x5c", async () => {
    const c = await createClient({ token_endpoint_auth_method: "self_signed_tls_client_auth",
      jwks: { keys: [{ kty: "EC", crv: "P-256", x: "AA", y: "AA", x5c: [DER_B64] }] } });
    const res = await mtlsRequest(c.client_id, cert({ certVerified: "FAILED:self signed certificate", certFingerprintSHA256: await fingerprint(DER) }));
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("refuses a certificate not registered by the client", async () => {
    const c = await createClient({ token_endpoint_auth_method: "self_signed_tls_client_auth",
      jwks: { keys: [{ kty: "EC", crv: "P-256", x: "AA", y: "AA", x5c: [DER_B64] }] } });
    const res = await mtlsRequest(c.client_id, cert({ certFingerprintSHA256: await fingerprint(new Uint8Array([1, 2, 3])) }));
    await expectError(res, 401, "invalid_client", "tls_client_certificate_mismatch");
  });

  it("refuses a request without a certificate", async () => {
    const c = await createClient({ token_endpoint_auth_method: "self_signed_tls_client_auth",
      jwks: { keys: [{ kty: "EC", crv: "P-256", x: "AA", y: "AA", x5c: [DER_B64] }] } });
    await expectError(await mtlsRequest(c.client_id, undefined), 401, "invalid_client", "tls_client_certificate_missing");
  });
});
