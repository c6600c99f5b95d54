import { acrValuesSupported } from "../acr";
import { DPOP_SIGNING_ALGS } from "../dpop/proof";
import { CLIENT_AUTH_METHODS } from "../client-auth";
import type { Config } from "../config";
import { GRANTS } from "../grants";
import { ASYMMETRIC_ASSERTION_ALGS, HMAC_ASSERTION_ALGS, SERVER_SIGNING_ALGS } from "../keys/algorithms";
import { STANDARD_SCOPES } from "../authorize/request";
import { USER_CLAIM_NAMES } from "../tokens/claims";
import type { Step } from "../http/context";
import { fapi2Metadata } from "../profiles/fapi2";

/**
 * Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata (OIDC Discovery §3).
 * Every list is derived from the registry that implements it, so nothing is advertised that does
 * not work (test/rfc8414-discovery.test.ts checks each advertised endpoint, method and alg).
 */
const assertionAlgs = [...Object.keys(HMAC_ASSERTION_ALGS), ...ASYMMETRIC_ASSERTION_ALGS];

/**
 * An endpoint's URL as advertised here, from its route in src/app.ts. Client authentication
 * accepts the URL of the endpoint being called as an assertion's `aud` (RFC 7523 §3), so both
 * sides build it with this one function.
 */
export const endpointUrl = (config: Config, route: string): string => `${config.issuer}${route}`;

export function serverMetadata(config: Config): Record<string, unknown> {
  const { issuer } = config;
  const url = (route: string) => endpointUrl(config, route);
  // Under the server-wide FAPI 2.0 profile, only what holds for it (src/profiles/fapi2.ts).
  return fapi2Metadata(config, {
    issuer,
    authorization_endpoint: url("/authorize"),
    token_endpoint: url("/token"),
    device_authorization_endpoint: url("/device_authorization"),
    pushed_authorization_request_endpoint: url("/par"),
    require_pushed_authorization_requests: config.requirePushedAuthorizationRequests,
    userinfo_endpoint: url("/userinfo"),
    registration_endpoint: url("/register"),
    jwks_uri: url("/jwks"),
    scopes_supported: [...STANDARD_SCOPES],
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "amr", "acr", ...USER_CLAIM_NAMES],
    grant_types_supported: GRANTS.map((g) => g.type),
    response_types_supported: ["code"],
    response_modes_supported: ["query", "fragment", "form_post"],
    code_challenge_methods_supported: ["S256"],
    prompt_values_supported: ["none", "login", "consent"],
    // OIDC Core §3.1.2.1, §5.2: ui_locales and claims_locales are accepted (the locales step); the pages are
    // English, and claims carry no language tags (their values are as the person entered them), so no claims_locales_supported.
    ui_locales_supported: ["en"],
    subject_types_supported: ["public"],
    acr_values_supported: acrValuesSupported(config.acrTable),
    id_token_signing_alg_values_supported: [...SERVER_SIGNING_ALGS],
    authorization_response_iss_parameter_supported: true,
    // OIDC Core §5.5 (src/authorize/claims-request.ts) and §5.3.2 signed UserInfo (any alg we sign with).
    // RFC 9396 §10.1: the authorization_details types the operator declared (AUTHORIZATION_DETAILS_TYPES).
    authorization_details_types_supported: config.authorizationDetailsTypes.map((t) => t.type),
    claims_parameter_supported: true,
    userinfo_signing_alg_values_supported: [...SERVER_SIGNING_ALGS],
    // RFC 9101 / OIDC Core §6: request objects by value and by reference (registered request_uris only).
    request_parameter_supported: true,
    request_uri_parameter_supported: true,
    require_request_uri_registration: true,
    request_object_signing_alg_values_supported: [...ASYMMETRIC_ASSERTION_ALGS, "none"],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.map((m) => m.name),
    token_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    revocation_endpoint: url("/revoke"),
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.map((m) => m.name),
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    introspection_endpoint: url("/introspect"),
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.map((m) => m.name).filter((m) => m !== "none"),
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    // RFC 9701 §7: algs of JWT introspection responses; none for encryption (refused at registration).
    introspection_signing_alg_values_supported: [...SERVER_SIGNING_ALGS],
    // RFC 8705 §3.3 certificate-bound tokens; RFC 9449 §5.1 the DPoP proof algs (src/dpop/).
    tls_client_certificate_bound_access_tokens: true,
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    // OIDC RP-Initiated Logout §2.1 and Back-Channel Logout §2.1 (logout tokens always carry sid).
    end_session_endpoint: url("/logout"),
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // CIBA Core §4: poll, ping and push (src/ciba/delivery.ts); signed authentication requests (§7.1.1,
    // src/ciba/signed-request.ts) with the asymmetric algs of the table; user codes are not supported.
    backchannel_authentication_endpoint: url("/bc-authorize"),
    backchannel_token_delivery_modes_supported: ["poll", "ping", "push"],
    backchannel_authentication_request_signing_alg_values_supported: [...ASYMMETRIC_ASSERTION_ALGS],
    backchannel_user_code_parameter_supported: false,
    // draft-ietf-oauth-client-id-metadata-document-00 §5: an https URL as client_id (src/clients/metadata-document.ts).
    client_id_metadata_document_supported: config.clientIdMetadataDocuments.enabled,
  });
}

/** Public, cacheable documents: CORS allowed (RFC 9700 §2.6 restricts only the authorization endpoint). */
const PUBLIC_DOC = { "cache-control": "public, max-age=300", "access-control-allow-origin": "*" } as const;

export const discovery: Step = async function discovery(c) {
  return c.json(serverMetadata(c.get("config")), 200, PUBLIC_DOC);
};
