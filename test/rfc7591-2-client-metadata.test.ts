import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectError, keyPair } from "./helpers";
import { REDIRECT_URI } from "./oidc-helpers";
import { expectRegistrationError, register, registered, serveRpDocuments, webClient } from "./rfc7591-helpers";

/**
 * RFC 7591 §2 client metadata and OpenID Connect Dynamic Client Registration 1.0 §2: one test per
 * validation rule, named after the field and the section that sets the rule. Every refusal is a
 * 400 JSON error (RFC 7591 §3.2.2) with the catalog's internal code and a description that names
 * the field; `invalid_redirect_uri` for redirect URIs, `invalid_client_metadata` for the rest.
 */

afterEach(() => vi.restoreAllMocks());

const ec = await keyPair("ES256", "ec-1");
const rsa = await keyPair("RS256", "rsa-1");
const weakRsa = await crypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true,
  ["sign", "verify"],
) as CryptoKeyPair;
const weakRsaJwk = await crypto.subtle.exportKey("jwk", weakRsa.publicKey) as { kty: string; n: string; e: string };

type Rule = [name: string, metadata: Record<string, unknown>, error: string, code: string, field: string];

const redirectUriRules: Rule[] = [
  ["redirect_uris (RFC 7591 §2): must be an array of strings", { redirect_uris: REDIRECT_URI }, "invalid_redirect_uri", "redirect_uris_malformed", "redirect_uris"],
  ["redirect_uris (RFC 7591 §2): at most 32", { redirect_uris: Array.from({ length: 33 }, (_, i) => `${REDIRECT_URI}${i}`) }, "invalid_redirect_uri", "redirect_uris_malformed", "redirect_uris"],
  ["redirect_uris (OIDC Registration §2): required for the authorization_code grant", { client_name: "x" }, "invalid_redirect_uri", "redirect_uris_required", "redirect_uris"],
  ["redirect_uris (RFC 6749 §3.1.2): absolute, not a path", { redirect_uris: ["/callback"] }, "invalid_redirect_uri", "redirect_uri_not_absolute", "redirect_uris"],
  ["redirect_uris (RFC 6749 §3.1.2): absolute, not scheme-relative text", { redirect_uris: ["rp.example/callback"] }, "invalid_redirect_uri", "redirect_uri_not_absolute", "redirect_uris"],
  ["redirect_uris (RFC 6749 §3.1.2): https needs //host", { redirect_uris: ["https:rp.example/callback"] }, "invalid_redirect_uri", "redirect_uri_not_absolute", "redirect_uris"],
  ["redirect_uris (RFC 3986 §2): no spaces or non-ASCII", { redirect_uris: ["https://rp.example/call back"] }, "invalid_redirect_uri", "redirect_uri_not_absolute", "redirect_uris"],
  ["redirect_uris (RFC 6749 §3.1.2): no fragment", { redirect_uris: [`${REDIRECT_URI}#frag`] }, "invalid_redirect_uri", "redirect_uri_fragment", "redirect_uris"],
  ["redirect_uris (RFC 6749 §3.1.2): not even an empty fragment", { redirect_uris: [`${REDIRECT_URI}#`] }, "invalid_redirect_uri", "redirect_uri_fragment", "redirect_uris"],
  ["redirect_uris (RFC 9700 §2.1): no wildcards", { redirect_uris: ["https://*.rp.example/callback"] }, "invalid_redirect_uri", "redirect_uri_wildcard", "redirect_uris"],
  ["redirect_uris (OIDC Registration §2): web clients use https, not http", { redirect_uris: ["http://rp.example/callback"] }, "invalid_redirect_uri", "redirect_uri_web_not_https", "redirect_uris"],
  ["redirect_uris (OIDC Registration §2): web clients use https, not loopback http", { redirect_uris: ["http://127.0.0.1:8080/callback"] }, "invalid_redirect_uri", "redirect_uri_web_not_https", "redirect_uris"],
  ["redirect_uris (OIDC Registration §2): web clients use https, not a private-use scheme", { redirect_uris: ["com.example.app:/callback"] }, "invalid_redirect_uri", "redirect_uri_web_not_https", "redirect_uris"],
  ["redirect_uris (RFC 8252 §7.3): native http only on loopback", { application_type: "native", redirect_uris: ["http://rp.example/callback"] }, "invalid_redirect_uri", "redirect_uri_native_not_allowed", "redirect_uris"],
  ["redirect_uris (RFC 8252 §7.1): native private-use schemes are reverse domain names", { application_type: "native", redirect_uris: ["myapp:/callback"] }, "invalid_redirect_uri", "redirect_uri_native_not_allowed", "redirect_uris"],
];

const metadataRules: Rule[] = [
  ["grant_types (RFC 7591 §2): an array of strings", { ...webClient(), grant_types: "authorization_code" }, "invalid_client_metadata", "grant_types_malformed", "grant_types"],
  ["grant_types (RFC 7591 §2): at least one", { ...webClient(), grant_types: [] }, "invalid_client_metadata", "grant_types_malformed", "grant_types"],
  ["grant_types (RFC 7591 §2): supported grant types only", { ...webClient(), grant_types: ["authorization_code", "implicit"] }, "invalid_client_metadata", "grant_type_unsupported", "implicit"],
  ["grant_types (RFC 7591 §2): the password grant is not offered", { grant_types: ["password"] }, "invalid_client_metadata", "grant_type_unsupported", "password"],
  ["response_types (RFC 7591 §2): an array of strings", { ...webClient(), response_types: "code" }, "invalid_client_metadata", "response_types_malformed", "response_types"],
  ["response_types (RFC 7591 §2): only code", { ...webClient(), response_types: ["code id_token"] }, "invalid_client_metadata", "response_type_unsupported", "code id_token"],
  ["response_types (RFC 7591 §2): token (implicit) is not offered", { ...webClient(), response_types: ["token"] }, "invalid_client_metadata", "response_type_unsupported", "token"],
  ["grant_types/response_types (RFC 7591 §2.1): code needs authorization_code", { grant_types: ["client_credentials"], response_types: ["code"] }, "invalid_client_metadata", "grant_response_types_inconsistent", "grant_types"],
  ["grant_types/response_types (RFC 7591 §2.1): authorization_code needs code", { ...webClient(), response_types: [] }, "invalid_client_metadata", "grant_response_types_inconsistent", "response_types"],
  ["token_endpoint_auth_method (RFC 7591 §2): a supported method", { ...webClient(), token_endpoint_auth_method: "client_secret_magic" }, "invalid_client_metadata", "token_endpoint_auth_method_unsupported", "token_endpoint_auth_method"],
  ["token_endpoint_auth_method (RFC 7591 §2): a string", { ...webClient(), token_endpoint_auth_method: 1 }, "invalid_client_metadata", "token_endpoint_auth_method_unsupported", "token_endpoint_auth_method"],
  ["token_endpoint_auth_method (RFC 6749 §4.4): none cannot use client_credentials", { grant_types: ["client_credentials"], token_endpoint_auth_method: "none" }, "invalid_client_metadata", "auth_method_grant_inconsistent", "client_credentials"],
  ["token_endpoint_auth_signing_alg (OIDC Registration §2): HMAC for client_secret_jwt", { ...webClient(), token_endpoint_auth_method: "client_secret_jwt", token_endpoint_auth_signing_alg: "RS256" }, "invalid_client_metadata", "token_endpoint_auth_signing_alg_unsupported", "token_endpoint_auth_signing_alg"],
  ["token_endpoint_auth_signing_alg (OIDC Registration §2): asymmetric for private_key_jwt", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [ec.publicJwk] }, token_endpoint_auth_signing_alg: "HS256" }, "invalid_client_metadata", "token_endpoint_auth_signing_alg_unsupported", "token_endpoint_auth_signing_alg"],
  ["token_endpoint_auth_signing_alg (RFC 7591 §2): only for JWT methods", { ...webClient(), token_endpoint_auth_signing_alg: "HS256" }, "invalid_client_metadata", "token_endpoint_auth_signing_alg_unsupported", "token_endpoint_auth_signing_alg"],
  ["token_endpoint_auth_signing_alg (RFC 7518 §3.6): never none", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [ec.publicJwk] }, token_endpoint_auth_signing_alg: "none" }, "invalid_client_metadata", "token_endpoint_auth_signing_alg_unsupported", "token_endpoint_auth_signing_alg"],
  ["jwks/jwks_uri (RFC 7591 §2): not both", { ...webClient(), jwks: { keys: [ec.publicJwk] }, jwks_uri: "https://rp.example/jwks" }, "invalid_client_metadata", "jwks_and_jwks_uri", "jwks_uri"],
  ["jwks (RFC 7591 §2): private_key_jwt needs keys", { ...webClient(), token_endpoint_auth_method: "private_key_jwt" }, "invalid_client_metadata", "jwks_required", "jwks"],
  ["jwks (RFC 8705 §2.2): self_signed_tls_client_auth needs the certificate in jwks, not jwks_uri", { grant_types: ["client_credentials"], token_endpoint_auth_method: "self_signed_tls_client_auth", jwks_uri: "https://rp.example/jwks" }, "invalid_client_metadata", "jwks_required", "jwks"],
  ["jwks (RFC 7517 §5): a JWK Set object", { ...webClient(), jwks: [ec.publicJwk] }, "invalid_client_metadata", "jwks_malformed", "jwks"],
  ["jwks (RFC 7517 §5): keys is a non-empty array of JWKs", { ...webClient(), jwks: { keys: [] } }, "invalid_client_metadata", "jwks_malformed", "jwks"],
  ["jwks (RFC 7591 §2): public keys only, no private key", { ...webClient(), jwks: { keys: [{ ...ec.publicJwk, d: "c2VjcmV0" }] } }, "invalid_client_metadata", "jwks_private_key", "private"],
  ["jwks (RFC 7591 §2): no symmetric keys", { ...webClient(), jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } }, "invalid_client_metadata", "jwks_private_key", "private"],
  ["jwks (RFC 7518 §6.2.1.1): EC keys on a supported curve", { ...webClient(), jwks: { keys: [{ ...ec.publicJwk, crv: "secp256k1" }] } }, "invalid_client_metadata", "jwks_unsupported_key", "jwks"],
  ["jwks (RFC 7518 §6.3.1): RSA keys have n and e", { ...webClient(), jwks: { keys: [{ kty: "RSA", e: "AQAB" }] } }, "invalid_client_metadata", "jwks_unsupported_key", "jwks"],
  ["jwks (RFC 7518 §3.3): RSA keys of 2048 bits or more", { ...webClient(), jwks: { keys: [{ kty: "RSA", n: weakRsaJwk.n, e: weakRsaJwk.e }] } }, "invalid_client_metadata", "jwks_unsupported_key", "2048"],
  ["jwks (RFC 7518 §6.1): supported key types only", { ...webClient(), jwks: { keys: [{ kty: "XYZ", x: "abc" }] } }, "invalid_client_metadata", "jwks_unsupported_key", "XYZ"],
  ["jwks (RFC 7523 §3): a key that can verify the registered alg", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", token_endpoint_auth_signing_alg: "ES256", jwks: { keys: [rsa.publicJwk] } }, "invalid_client_metadata", "jwks_no_usable_key", "ES256"],
  ["jwks (RFC 7517 §4.2): an encryption-only key cannot verify assertions", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ ...ec.publicJwk, use: "enc" }] } }, "invalid_client_metadata", "jwks_no_usable_key", "jwks"],
  ["jwks_uri (RFC 7591 §2): an https URL", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", jwks_uri: "http://rp.example/jwks" }, "invalid_client_metadata", "jwks_uri_malformed", "jwks_uri"],
  ["jwks_uri (RFC 7591 §2): no fragment", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://rp.example/jwks#k" }, "invalid_client_metadata", "jwks_uri_malformed", "fragment"],
  ["jwks_uri (ASVS 5.0 1.3.6): a public host, not a loopback or private address (test/asvs-1.3.6-outbound-fetch.test.ts has every notation)", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://127.0.0.1/jwks" }, "invalid_client_metadata", "client_uri_forbidden_host", "jwks_uri"],
  ["jwks_uri (RFC 9110 §4.2.4): no user name or password in the URL", { ...webClient(), token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://user:pw@rp.example/jwks" }, "invalid_client_metadata", "client_uri_credentials", "jwks_uri"],
  ["tls_client_auth_subject_dn (RFC 8705 §2.1.2): required for tls_client_auth", { grant_types: ["client_credentials"], token_endpoint_auth_method: "tls_client_auth" }, "invalid_client_metadata", "tls_client_auth_subject_dn_required", "tls_client_auth_subject_dn"],
  ["tls_client_auth_subject_dn (RFC 8705 §2.1.2): a string", { grant_types: ["client_credentials"], token_endpoint_auth_method: "tls_client_auth", tls_client_auth_subject_dn: ["CN=x"] }, "invalid_client_metadata", "tls_client_auth_subject_dn_required", "tls_client_auth_subject_dn"],
  ["application_type (OIDC Registration §2): web or native", { ...webClient(), application_type: "desktop" }, "invalid_client_metadata", "application_type_unsupported", "application_type"],
  ["id_token_signed_response_alg (OIDC Registration §2): an alg this server signs with", { ...webClient(), id_token_signed_response_alg: "PS256" }, "invalid_client_metadata", "id_token_signed_response_alg_unsupported", "id_token_signed_response_alg"],
  ["id_token_signed_response_alg (OIDC Registration §2): not none (oidcc-idtoken-unsigned is skipped)", { ...webClient(), id_token_signed_response_alg: "none" }, "invalid_client_metadata", "id_token_signed_response_alg_unsupported", "id_token_signed_response_alg"],
  ["userinfo_signed_response_alg (OIDC Registration §2): an alg this server signs with", { ...webClient(), userinfo_signed_response_alg: "PS256" }, "invalid_client_metadata", "userinfo_signed_response_alg_unsupported", "userinfo_signed_response_alg"],
  ["request_object_signing_alg (OIDC Registration §2): an alg request objects are not verified with (symmetric)", { ...webClient(), request_object_signing_alg: "HS256" }, "invalid_client_metadata", "request_object_signing_alg_unsupported", "request_object_signing_alg"],
  ["id_token_encrypted_response_alg (OIDC Registration §2): encryption is not supported", { ...webClient(), id_token_encrypted_response_alg: "RSA-OAEP-256" }, "invalid_client_metadata", "encrypted_responses_unsupported", "id_token_encrypted_response_alg"],
  ["userinfo_encrypted_response_enc (OIDC Registration §2): encryption is not supported", { ...webClient(), userinfo_encrypted_response_enc: "A128GCM" }, "invalid_client_metadata", "encrypted_responses_unsupported", "userinfo_encrypted_response_enc"],
  ["client_name (RFC 7591 §2): a non-empty string", { ...webClient(), client_name: "" }, "invalid_client_metadata", "client_name_malformed", "client_name"],
  ["client_name (RFC 7591 §2): no control characters", { ...webClient(), client_name: "Evil\nApp" }, "invalid_client_metadata", "client_name_malformed", "client_name"],
  ["client_name#<lang> (RFC 7591 §2.2): localized names follow the same rule", { ...webClient(), "client_name#fr": 5 }, "invalid_client_metadata", "client_name_malformed", "client_name#fr"],
  ["client_uri (RFC 7591 §2): an https URL", { ...webClient(), client_uri: "http://rp.example/" }, "invalid_client_metadata", "client_uri_malformed", "client_uri"],
  ["logo_uri (RFC 7591 §2): an https URL", { ...webClient(), logo_uri: "javascript:alert(1)" }, "invalid_client_metadata", "logo_uri_malformed", "logo_uri"],
  ["logo_uri#<lang> (RFC 7591 §2.2): localized URLs follow the same rule", { ...webClient(), "logo_uri#de": "http://rp.example/logo.png" }, "invalid_client_metadata", "logo_uri_malformed", "logo_uri#de"],
  ["policy_uri (RFC 7591 §2): an https URL", { ...webClient(), policy_uri: "not a url" }, "invalid_client_metadata", "policy_uri_malformed", "policy_uri"],
  ["tos_uri (RFC 7591 §2): an https URL", { ...webClient(), tos_uri: 42 }, "invalid_client_metadata", "tos_uri_malformed", "tos_uri"],
  ["initiate_login_uri (OIDC Registration §2): an https URL", { ...webClient(), initiate_login_uri: "http://rp.example/login" }, "invalid_client_metadata", "initiate_login_uri_malformed", "initiate_login_uri"],
  ["contacts (RFC 7591 §2): an array of strings", { ...webClient(), contacts: "admin@rp.example" }, "invalid_client_metadata", "contacts_malformed", "contacts"],
  ["contacts (RFC 7591 §2): no empty or non-string entries", { ...webClient(), contacts: ["admin@rp.example", 7] }, "invalid_client_metadata", "contacts_malformed", "contacts"],
  ["scope (RFC 7591 §2, RFC 6749 §3.3): a string of scope tokens", { ...webClient(), scope: ["openid"] }, "invalid_client_metadata", "scope_malformed", "scope"],
  ["scope (RFC 6749 §3.3): no quotes or backslashes", { ...webClient(), scope: 'openid "admin"' }, "invalid_client_metadata", "scope_malformed", "scope"],
  ["scope (RFC 7591 §2): within what self-registered clients may have", { ...webClient(), scope: "openid admin" }, "invalid_client_metadata", "scope_not_allowed", "admin"],
  ["post_logout_redirect_uris (OIDC RP-Initiated Logout §3.1): an array", { ...webClient(), post_logout_redirect_uris: "https://rp.example/bye" }, "invalid_client_metadata", "post_logout_redirect_uris_malformed", "post_logout_redirect_uris"],
  ["post_logout_redirect_uris (OIDC RP-Initiated Logout §3.1): no fragment", { ...webClient(), post_logout_redirect_uris: ["https://rp.example/bye#x"] }, "invalid_client_metadata", "post_logout_redirect_uris_malformed", "post_logout_redirect_uris"],
  ["post_logout_redirect_uris (OIDC Registration §2): https for web clients", { ...webClient(), post_logout_redirect_uris: ["http://rp.example/bye"] }, "invalid_client_metadata", "post_logout_redirect_uris_malformed", "post_logout_redirect_uris"],
  ["sector_identifier_uri (OIDC Registration §5): an https URL", { ...webClient(), sector_identifier_uri: "http://rp.example/sector.json" }, "invalid_client_metadata", "sector_identifier_uri_malformed", "sector_identifier_uri"],
  ["sector_identifier_uri (ASVS 5.0 1.3.6): a public host, not the link-local metadata address", { ...webClient(), sector_identifier_uri: "https://169.254.169.254/latest/meta-data/" }, "invalid_client_metadata", "client_uri_forbidden_host", "sector_identifier_uri"],
  ["subject_type (OIDC Registration §2): public only, no pairwise", { ...webClient(), subject_type: "pairwise" }, "invalid_client_metadata", "subject_type_unsupported", "subject_type"],
  ["require_auth_time (OIDC Registration §2): a boolean", { ...webClient(), require_auth_time: "yes" }, "invalid_client_metadata", "require_auth_time_malformed", "require_auth_time"],
  ["software_id (RFC 7591 §2): a string", { ...webClient(), software_id: 4 }, "invalid_client_metadata", "software_id_malformed", "software_id"],
  ["software_version (RFC 7591 §2): a string", { ...webClient(), software_version: { v: 1 } }, "invalid_client_metadata", "software_version_malformed", "software_version"],
  ["default_max_age (OIDC Registration §2): not supported, refused rather than ignored", { ...webClient(), default_max_age: 3600 }, "invalid_client_metadata", "client_metadata_unsupported", "default_max_age"],
  ["request_uris (OIDC Registration §2, RFC 9101 §10.4): a private host is refused (the outbound policy's URL rule)", { ...webClient(), request_uris: ["https://10.0.0.1/req"] }, "invalid_client_metadata", "client_uri_forbidden_host", "request_uris"],
  ["tls_client_certificate_bound_access_tokens (RFC 8705 §3.4): true or false", { ...webClient(), tls_client_certificate_bound_access_tokens: "yes" }, "invalid_client_metadata", "sender_constraint_metadata_malformed", "tls_client_certificate_bound_access_tokens"],
  ["dpop_bound_access_tokens (RFC 9449 §5.2): true or false", { ...webClient(), dpop_bound_access_tokens: 1 }, "invalid_client_metadata", "sender_constraint_metadata_malformed", "dpop_bound_access_tokens"],
];

describe("RFC 7591 §2 / OIDC Registration §2: redirect URIs are refused with invalid_redirect_uri", () => {
  it.each(redirectUriRules)("%s", async (_name, metadata, error, code, field) => {
    await expectRegistrationError(await register(metadata), error, code, field);
  });

  it("accepted: https for web (with a query), loopback http, [::1] with a port, a private-use scheme and claimed https for native (RFC 8252 §7)", async () => {
    await registered(webClient({ redirect_uris: ["https://rp.example/cb?tenant=a", "https://rp.example/cb2"] }));
    await registered({
      application_type: "native",
      token_endpoint_auth_method: "none",
      redirect_uris: ["http://127.0.0.1/cb", "http://[::1]:8080/cb", "com.example.app:/oauth2redirect", "https://app.example/cb"],
    });
  });
});

describe("RFC 7591 §2 / OIDC Registration §2: other metadata is refused with invalid_client_metadata", () => {
  it.each(metadataRules)("%s", async (_name, metadata, error, code, field) => {
    await expectRegistrationError(await register(metadata), error, code, field);
  });

  it("subject_type public, require_auth_time and the sender-constraint flags (RFC 8705 §3.4, RFC 9449 §5.2) are kept", async () => {
    const body = await registered(webClient({ tls_client_certificate_bound_access_tokens: false, dpop_bound_access_tokens: true, subject_type: "public", require_auth_time: true }));
    expect(body).toMatchObject({ subject_type: "public", require_auth_time: true, tls_client_certificate_bound_access_tokens: false, dpop_bound_access_tokens: true });
  });
});

describe("sector_identifier_uri (OIDC Registration §5): fetched and checked to list every redirect URI", () => {
  const SECTOR = "https://rp.example/sector.json";

  it("a document listing every redirect URI: registered, and the value kept", async () => {
    const fetched = serveRpDocuments({ [SECTOR]: () => Response.json([REDIRECT_URI, "https://rp.example/other"]) });
    const body = await registered(webClient({ sector_identifier_uri: SECTOR }));
    expect(body.sector_identifier_uri).toBe(SECTOR);
    expect(fetched).toEqual([SECTOR]);
  });

  it("a document missing a redirect URI → invalid_client_metadata naming it", async () => {
    serveRpDocuments({ [SECTOR]: () => Response.json(["https://rp.example/other"]) });
    await expectRegistrationError(await register(webClient({ sector_identifier_uri: SECTOR })), "invalid_client_metadata",
      "sector_identifier_uri_missing_redirect_uri", REDIRECT_URI);
  });

  it("unreachable (404, 500, a redirect, a network failure) → invalid_client_metadata", async () => {
    for (const answer of [
      () => new Response("gone", { status: 404 }),
      () => new Response("oops", { status: 500 }),
      () => new Response(null, { status: 302, headers: { location: "https://elsewhere.example/" } }),
      () => { throw new TypeError("network down"); },
    ]) {
      vi.restoreAllMocks();
      serveRpDocuments({ [SECTOR]: answer });
      await expectRegistrationError(await register(webClient({ sector_identifier_uri: SECTOR })), "invalid_client_metadata",
        "sector_identifier_uri_unreachable", "sector_identifier_uri");
    }
  });

  it("not a JSON array of strings, or larger than 64 KiB → invalid_client_metadata", async () => {
    for (const answer of [
      () => new Response("<html>", { status: 200 }),
      () => Response.json({ redirect_uris: [REDIRECT_URI] }),
      () => Response.json([REDIRECT_URI, 5]),
      () => new Response(JSON.stringify([REDIRECT_URI, "x".repeat(70_000)]), { status: 200 }),
    ]) {
      vi.restoreAllMocks();
      serveRpDocuments({ [SECTOR]: answer });
      await expectRegistrationError(await register(webClient({ sector_identifier_uri: SECTOR })), "invalid_client_metadata",
        "sector_identifier_uri_bad_document", "sector_identifier_uri");
    }
  });

  it("is fetched only after every local rule passed", async () => {
    const fetched = serveRpDocuments({ [SECTOR]: () => Response.json([REDIRECT_URI]) });
    await expectRegistrationError(await register(webClient({ sector_identifier_uri: SECTOR, logo_uri: "http://x" })), "invalid_client_metadata", "logo_uri_malformed");
    expect(fetched).toEqual([]);
  });
});

describe("RFC 7591 §2: the operator API shares the validator, and only it has the extensions", () => {
  const admin = (id: string, body: unknown) =>
    call(`/admin/clients/${id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("the same rules and codes answer the operator (a fragment in a redirect URI)", async () => {
    await expectError(await admin("op-frag", webClient({ redirect_uris: [`${REDIRECT_URI}#x`] })), 400, "invalid_redirect_uri", "redirect_uri_fragment");
  });

  it.each([
    ["client_secret (operator): at least 43 characters", { client_secret: "short" }, "client_secret_malformed"],
    ["client_secret (operator): only for methods that use one", { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [ec.publicJwk] }, client_secret: "x".repeat(50) }, "client_secret_not_used"],
    ["client_secret_expires_at (operator, RFC 7591 §3.2.1): a non-negative integer", { client_secret_expires_at: -1 }, "client_secret_expires_at_malformed"],
    ["first_party (operator extension): a boolean", { first_party: "yes" }, "operator_extension_malformed"],
    ["allowed_cors_origins (operator extension): origins", { allowed_cors_origins: ["https://app.example/path"] }, "allowed_cors_origins_malformed"],
    ["refresh_token_idle_lifetime (operator extension, RFC 9700 §4.14.2): 60 s to a year", { refresh_token_idle_lifetime: 10 }, "refresh_token_lifetime_malformed"],
    ["refresh_token_reuse_grace (operator extension, RFC 9700 §4.14.2): 0 to 300 s", { refresh_token_reuse_grace: 301 }, "refresh_token_lifetime_malformed"],
  ] as const)("%s", async (_name, body, code) => {
    await expectError(await admin("op-ext", { ...webClient(), ...body }), 400, "invalid_client_metadata", code);
  });

  it("the operator's per-client refresh-token lifetimes are stored where refreshPolicy reads them", async () => {
    const res = await admin("op-refresh", webClient({ refresh_token_idle_lifetime: 120, refresh_token_absolute_lifetime: 300, refresh_token_reuse_grace: 0 }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ refresh_token_idle_lifetime: 120, refresh_token_absolute_lifetime: 300, refresh_token_reuse_grace: 0 });
  });

  it("the operator may register scopes a client may not register itself", async () => {
    const res = await admin("op-scope", webClient({ scope: "openid admin" }));
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("dynamic registration ignores the operator-only members: not stored, not echoed", async () => {
    const body = await registered(webClient({
      first_party: true, allow_plain_pkce: true, plain_oauth2: true, allowed_cors_origins: ["https://evil.example"],
      client_id: "chosen-id", client_secret: "x".repeat(64), client_secret_expires_at: 1, refresh_token_absolute_lifetime: 3600,
    }));
    expect(body.client_id).not.toBe("chosen-id");
    expect(body.client_secret).not.toBe("x".repeat(64));
    expect(body.client_secret_expires_at).toBe(0);
    for (const member of ["first_party", "allow_plain_pkce", "plain_oauth2", "allowed_cors_origins", "refresh_token_absolute_lifetime"]) {
      expect(body).not.toHaveProperty(member);
    }
    const stored = (await (await call(`/admin/clients/${body.client_id}`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })).json()) as Record<string, unknown>;
    for (const member of ["first_party", "allow_plain_pkce", "plain_oauth2", "allowed_cors_origins", "refresh_token_absolute_lifetime"]) {
      expect(stored).not.toHaveProperty(member);
    }
  });
});
