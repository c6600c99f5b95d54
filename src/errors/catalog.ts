/**
 * The error catalog: every error Latchkey can raise, in one table.
 *
 * Each entry maps a stable internal code (ours, never renamed once shipped) to the RFC `error`
 * value, the HTTP status, a default ASCII description, and whether the error may be delivered to a
 * client's redirect URI (only once client_id and redirect_uri have been validated, RFC 6749
 * §4.1.2.1). Endpoints throw `new OAuthError("<internal code>")`; nothing builds error JSON by hand.
 *
 * `docs/errors.md` is generated from this table (`npm run docs:errors`) and a test keeps the two
 * in sync.
 */
export interface CatalogEntry {
  /** The registered OAuth `error` value (RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3.1; RFC 7591 §3.2.2 …). */
  readonly error: string;
  /** HTTP status of the JSON error response. */
  readonly status: number;
  /** Default `error_description`; only %x20-21 / %x23-5B / %x5D-7E characters. */
  readonly description: string;
  /** May be sent to a validated redirect URI (authorization endpoint errors). */
  readonly redirect?: boolean;
  /** Where the rule comes from. */
  readonly ref: string;
}

const entry = (
  error: string,
  status: number,
  description: string,
  ref: string,
  redirect = false,
): CatalogEntry => ({ error, status, description, ref, redirect });

export const catalog = {
  // ── invalid_request (400) ─────────────────────────────────────────────────────────────────
  invalid_request: entry("invalid_request", 400, "The request is malformed.", "RFC 6749 5.2", true),
  method_not_allowed: entry("invalid_request", 405, "This endpoint does not accept that HTTP method.", "RFC 6749 3.2"),
  unsupported_content_type: entry("invalid_request", 400, "The request body must be application/x-www-form-urlencoded.", "RFC 6749 3.2, 4.4.2"),
  request_body_too_large: entry("invalid_request", 400, "The request body is too large.", "RFC 6749 3.2"),
  request_body_length_mismatch: entry("invalid_request", 400, "The request body is not as long as its Content-Length says.", "RFC 9112 6.3"),
  request_body_not_utf8: entry("invalid_request", 400, "The request body is not valid UTF-8.", "RFC 6749 Appendix B"),
  duplicate_parameter: entry("invalid_request", 400, "A request parameter was sent more than once.", "RFC 6749 3.1, 3.2", true),
  missing_parameter: entry("invalid_request", 400, "A required parameter is missing.", "RFC 6749 5.2", true),
  multiple_client_auth_methods: entry("invalid_request", 400, "The client used more than one authentication method.", "RFC 6749 2.3"),
  client_secret_in_query: entry("invalid_request", 400, "Client credentials must not be sent in the URI query.", "RFC 6749 2.3.1"),
  // ── invalid_client (401) ──────────────────────────────────────────────────────────────────
  invalid_client: entry("invalid_client", 401, "Client authentication failed.", "RFC 6749 5.2"),
  missing_client_credentials: entry("invalid_client", 401, "No client credentials found.", "RFC 6749 2.3, 5.2"),
  invalid_client_id: entry("invalid_client", 401, "Unknown or invalid client_id.", "RFC 6749 2.2, 5.2"),
  client_disabled: entry("invalid_client", 401, "The client is disabled.", "RFC 6749 5.2"),
  client_id_mismatch: entry("invalid_client", 401, "The client_id does not match the client's credentials.", "RFC 6749 2.3.1; RFC 7523 3"),
  invalid_basic_auth_creds: entry("invalid_client", 401, "The Authorization header does not carry valid Basic client credentials.", "RFC 6749 2.3.1, Appendix B; RFC 7617"),
  unsupported_auth_scheme: entry("invalid_client", 401, "The Authorization header scheme is not supported here; use Basic.", "RFC 6749 2.3.1"),
  invalid_token_endpoint_auth_method: entry("invalid_client", 401, "The client is not registered for this authentication method.", "RFC 7591 2; OIDC Core 9"),
  invalid_client_secret: entry("invalid_client", 401, "The client secret is invalid.", "RFC 6749 2.3.1"),
  client_secret_expired: entry("invalid_client", 401, "The client secret has expired.", "RFC 7591 3.2.1"),
  unsupported_client_assertion_type: entry("invalid_client", 401, "Unsupported client_assertion_type.", "RFC 7521 4.2; RFC 7523 2.2"),
  client_assertion_missing: entry("invalid_client", 401, "client_assertion_type was sent without a client_assertion.", "RFC 7521 4.2"),
  client_assertion_invalid_jwt: entry("invalid_client", 401, "The client_assertion is not a well-formed signed JWT.", "RFC 7523 3"),
  client_assertion_invalid_signature_algorithm: entry("invalid_client", 401, "The client_assertion signature algorithm is not allowed for this client.", "RFC 7523 3.9; RFC 8725 3.1"),
  client_assertion_invalid_issuer: entry("invalid_client", 401, "The client_assertion iss claim must be the client_id.", "RFC 7523 3.1; OIDC Core 9"),
  client_assertion_invalid_subject: entry("invalid_client", 401, "The client_assertion sub claim must be the client_id.", "RFC 7523 3.2; OIDC Core 9"),
  client_assertion_invalid_audience: entry("invalid_client", 401, "The client_assertion aud claim must be the issuer or the token endpoint.", "RFC 7523 3.3"),
  client_assertion_expiration_required: entry("invalid_client", 401, "The client_assertion must contain an exp claim.", "RFC 7523 3.4"),
  client_assertion_expired_token: entry("invalid_client", 401, "The client_assertion has expired.", "RFC 7523 3.4"),
  client_assertion_expires_too_far_in_future: entry("invalid_client", 401, "The client_assertion exp is too far in the future.", "RFC 7523 3.4"),
  client_assertion_not_yet_valid: entry("invalid_client", 401, "The client_assertion nbf is in the future.", "RFC 7523 3.5"),
  client_assertion_issued_at_in_future: entry("invalid_client", 401, "The client_assertion iat is in the future.", "RFC 7523 3.6"),
  client_assertion_jti_required: entry("invalid_client", 401, "The client_assertion must contain a jti claim.", "OIDC Core 9"),
  client_assertion_already_used: entry("invalid_client", 401, "The client_assertion has already been used.", "RFC 7523 3.7; OIDC Core 9"),
  client_assertion_invalid_signature: entry("invalid_client", 401, "The client_assertion signature is invalid.", "RFC 7523 3.9"),
  client_assertion_invalid_kid: entry("invalid_client", 401, "No registered key of the client matches the client_assertion kid.", "RFC 7515 4.1.4"),
  client_assertion_ambiguous_key: entry("invalid_client", 401, "More than one registered key could verify the client_assertion; send a kid.", "RFC 7515 4.1.4"),
  client_assertion_invalid_jwks: entry("invalid_client", 401, "The client's registered JWK Set is invalid.", "RFC 7517 5"),
  client_assertion_jwks_not_configured: entry("invalid_client", 401, "The client has no JWK Set registered.", "RFC 7591 2"),
  client_assertion_invalid_secret_length: entry("invalid_client", 401, "The client secret is too short for the HMAC algorithm.", "RFC 7518 3.2"),
  client_assertion_invalid_no_secret: entry("invalid_client", 401, "The client has no secret to verify an HMAC client_assertion.", "OIDC Core 9"),
  jwks_uri_error: entry("invalid_client", 401, "The client's jwks_uri could not be retrieved.", "RFC 7591 2"),
  jwks_uri_no_key: entry("invalid_client", 401, "The client's JWK Set holds no usable key.", "RFC 7517 5"),
  tls_client_certificate_missing: entry("invalid_client", 401, "No TLS client certificate was presented.", "RFC 8705 2"),
  tls_client_certificate_untrusted: entry("invalid_client", 401, "The TLS client certificate did not pass chain validation.", "RFC 8705 2.1"),
  tls_client_certificate_mismatch: entry("invalid_client", 401, "The TLS client certificate does not match the client's registration.", "RFC 8705 2.1.2, 2.2.2"),
  // ── grant and scope errors (400) ──────────────────────────────────────────────────────────
  invalid_grant: entry("invalid_grant", 400, "The grant is invalid, expired or revoked.", "RFC 6749 5.2"),
  unauthorized_client: entry("unauthorized_client", 400, "The client is not allowed to use this grant type.", "RFC 6749 5.2", true),
  public_client_not_allowed: entry("unauthorized_client", 400, "Public clients may not use this grant type.", "RFC 6749 4.4"),
  unsupported_grant_type: entry("unsupported_grant_type", 400, "The grant_type is not supported.", "RFC 6749 5.2"),
  missing_grant_type: entry("invalid_request", 400, "The grant_type parameter is missing.", "RFC 6749 4.4.2"),
  invalid_scope: entry("invalid_scope", 400, "The requested scope is invalid, unknown or not allowed for this client.", "RFC 6749 3.3, 5.2", true),
  malformed_scope: entry("invalid_scope", 400, "The scope parameter is malformed.", "RFC 6749 3.3", true),
  // ── authorization endpoint: shown as a page, never redirected (RFC 6749 §3.1.2.4, §4.1.2.1) ──
  authorize_missing_client_id: entry("invalid_request", 400, "The request has no client_id.", "RFC 6749 4.1.2.1"),
  authorize_unknown_client: entry("invalid_request", 400, "The client is unknown or disabled.", "RFC 6749 4.1.2.1"),
  authorize_missing_redirect_uri: entry("invalid_request", 400, "The request has no redirect_uri and the client has several.", "RFC 6749 3.1.2.3"),
  authorize_redirect_uri_mismatch: entry("invalid_request", 400, "The app that sent you here is not set up correctly (its redirect_uri is not registered). Contact its developer.", "RFC 6749 3.1.2.2; RFC 9700 4.1.3"),
  authorize_duplicate_parameter: entry("invalid_request", 400, "client_id or redirect_uri was sent more than once.", "RFC 6749 3.1"),
  // ── end_session_endpoint: shown as a page, never redirected (OIDC RP-Initiated Logout §2–4) ──
  logout_id_token_hint_invalid: entry("invalid_request", 400, "The id_token_hint is not an ID token issued by this server.", "OIDC RP-Initiated Logout 2, 4"),
  logout_client_mismatch: entry("invalid_request", 400, "client_id does not match the audience of the id_token_hint.", "OIDC RP-Initiated Logout 2"),
  logout_unknown_client: entry("invalid_request", 400, "The client is unknown or disabled.", "OIDC RP-Initiated Logout 2"),
  logout_redirect_uri_without_client: entry("invalid_request", 400, "post_logout_redirect_uri needs an id_token_hint or client_id naming the app it belongs to.", "OIDC RP-Initiated Logout 3"),
  logout_redirect_uri_not_registered: entry("invalid_request", 400, "The app that sent you here is not set up correctly (its post_logout_redirect_uri is not registered). Contact its developer.", "OIDC RP-Initiated Logout 3; RFC 9700 4.11"),
  // ── authorization endpoint: redirected to the validated redirect URI ─────────────────────
  unsupported_response_type: entry("unsupported_response_type", 400, "Only response_type=code is supported.", "RFC 6749 4.1.2.1", true),
  missing_response_type: entry("invalid_request", 400, "The response_type parameter is missing.", "RFC 6749 3.1.1", true),
  unsupported_response_mode: entry("invalid_request", 400, "Unsupported response_mode; use query, fragment or form_post.", "OAuth 2.0 Multiple Response Types 2.1", true),
  pkce_required: entry("invalid_request", 400, "PKCE is required: send code_challenge and code_challenge_method=S256.", "RFC 7636 4.4.1; RFC 9700 2.1.1", true),
  pkce_invalid_challenge: entry("invalid_request", 400, "code_challenge must be 43-128 characters of [A-Za-z0-9-._~].", "RFC 7636 4.2", true),
  pkce_method_not_allowed: entry("invalid_request", 400, "Unsupported code_challenge_method; use S256.", "RFC 7636 4.4.1; RFC 9700 2.1.1", true),
  openid_scope_required: entry("invalid_scope", 400, "The openid scope is required.", "OIDC Core 3.1.2.1", true),
  invalid_prompt: entry("invalid_request", 400, "Unsupported prompt value; send one of none, login, consent.", "OIDC Core 3.1.2.1", true),
  invalid_max_age: entry("invalid_request", 400, "max_age must be a non-negative integer.", "OIDC Core 3.1.2.1", true),
  request_not_supported: entry("request_not_supported", 400, "The request parameter is not supported.", "OIDC Core 3.1.2.6", true),
  request_uri_not_supported: entry("request_uri_not_supported", 400, "The request_uri parameter is not supported.", "OIDC Core 3.1.2.6", true),
  registration_not_supported: entry("registration_not_supported", 400, "The registration parameter is not supported.", "OIDC Core 3.1.2.6", true),
  access_denied: entry("access_denied", 400, "The resource owner denied the request.", "RFC 6749 4.1.2.1", true),
  email_verification_required: entry("access_denied", 400, "The user must verify their email address first.", "issue 3", true),
  user_disabled: entry("access_denied", 400, "The user account is disabled.", "issue 3", true),
  login_required: entry("login_required", 400, "The user is not signed in.", "OIDC Core 3.1.2.6", true),
  consent_required: entry("consent_required", 400, "The user has not consented to this request.", "OIDC Core 3.1.2.6", true),
  interaction_required: entry("interaction_required", 400, "The request needs user interaction.", "OIDC Core 3.1.2.6", true),
  // ── interaction pages (login, consent, sign-up, email verification) ──────────────────────
  csrf_invalid: entry("invalid_request", 403, "The form has expired or was not sent from this site. Go back and try again.", "RFC 6749 10.12"),
  interaction_expired: entry("invalid_request", 400, "This sign-in request has expired or is invalid. Start again from the application.", "issue 3"),
  verification_link_invalid: entry("invalid_request", 400, "This verification link is invalid, expired or already used.", "issue 3"),
  signup_disabled: entry("access_denied", 403, "Sign-up is not enabled on this server.", "issue 3"),
  invalid_email: entry("invalid_request", 400, "The email address is not valid.", "RFC 5321 4.1.2; issue 3"),
  email_taken: entry("invalid_request", 400, "An account with this email address already exists.", "issue 3"),
  password_policy: entry("invalid_request", 400, "The password must be 8 to 256 characters and not only spaces.", "NIST SP 800-63B 3.1.1.2; issue 3"),
  too_many_attempts: entry("temporarily_unavailable", 429, "Too many failed sign-in attempts. Wait a few minutes and try again.", "RFC 9700 4.x; issue 3"),
  // ── authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6) ──────────────────────────────
  code_invalid: entry("invalid_grant", 400, "The authorization code is invalid.", "RFC 6749 4.1.3"),
  code_expired: entry("invalid_grant", 400, "The authorization code has expired.", "RFC 6749 4.1.2"),
  code_reused: entry("invalid_grant", 400, "The authorization code was already used; tokens issued with it are revoked.", "RFC 6749 4.1.2, 10.5"),
  code_client_mismatch: entry("invalid_grant", 400, "The authorization code was issued to another client.", "RFC 6749 4.1.3"),
  redirect_uri_mismatch: entry("invalid_grant", 400, "redirect_uri does not match the authorization request.", "RFC 6749 4.1.3"),
  pkce_verifier_missing: entry("invalid_grant", 400, "code_verifier is required for this code.", "RFC 7636 4.5, 4.6"),
  pkce_verifier_mismatch: entry("invalid_grant", 400, "code_verifier does not match the code_challenge.", "RFC 7636 4.6"),
  pkce_verifier_unexpected: entry("invalid_grant", 400, "code_verifier was sent for a code issued without a code_challenge.", "RFC 9700 4.8.2"),
  pkce_verifier_malformed: entry("invalid_request", 400, "code_verifier must be 43-128 characters of [A-Za-z0-9-._~].", "RFC 7636 4.1"),
  grant_user_unverified: entry("invalid_grant", 400, "The user's email address is no longer verified.", "issue 3"),
  grant_user_disabled: entry("invalid_grant", 400, "The user account is disabled.", "issue 3"),
  grant_consent_revoked: entry("invalid_grant", 400, "The consent behind this grant was withdrawn.", "issue 3"),
  // ── refresh_token grant (RFC 6749 §6, §10.4; RFC 9700 §4.14) ─────────────────────────────
  refresh_token_invalid: entry("invalid_grant", 400, "The refresh token is invalid.", "RFC 6749 5.2, 6"),
  refresh_token_expired: entry("invalid_grant", 400, "The refresh token has expired.", "RFC 6749 5.2; RFC 9700 4.14.2"),
  refresh_token_revoked: entry("invalid_grant", 400, "The refresh token was revoked.", "RFC 6749 5.2; RFC 7009 2"),
  refresh_token_reused: entry("invalid_grant", 400, "The refresh token was already used; every token of its family is revoked.", "RFC 9700 4.14.2"),
  refresh_token_client_mismatch: entry("invalid_grant", 400, "The refresh token was issued to another client.", "RFC 6749 6, 10.4"),
  refresh_scope_widened: entry("invalid_scope", 400, "The requested scope exceeds the scope granted with the refresh token.", "RFC 6749 6"),
  // ── revocation (RFC 7009) and introspection (RFC 7662) ───────────────────────────────────
  unsupported_token_type: entry("unsupported_token_type", 400, "This server cannot revoke that type of token.", "RFC 7009 2.2.1"),
  introspection_public_client: entry("invalid_client", 401, "Public clients may not introspect tokens; authenticate with a client credential.", "RFC 7662 2.1, 4"),
  // ── client metadata (RFC 7591 §3.2.2) ─────────────────────────────────────────────────────
  invalid_client_metadata: entry("invalid_client_metadata", 400, "A client metadata value is invalid.", "RFC 7591 3.2.2"),
  invalid_redirect_uri: entry("invalid_redirect_uri", 400, "A redirect URI is invalid.", "RFC 7591 3.2.2"),
  // ── client registration (RFC 7591 §3, RFC 7592 §2): the request itself ───────────────────
  registration_unsupported_content_type: entry("invalid_request", 400, "The registration request body must be application/json.", "RFC 7591 3"),
  registration_body_malformed: entry("invalid_request", 400, "The registration request body must be a JSON object.", "RFC 7591 3"),
  registration_client_id_mismatch: entry("invalid_request", 400, "The body's client_id must be this client's client_id.", "RFC 7592 2.2"),
  registration_read_only_field: entry("invalid_request", 400, "registration_access_token, registration_client_uri, client_secret_expires_at and client_id_issued_at cannot be changed.", "RFC 7592 2.2"),
  registration_client_secret_mismatch: entry("invalid_request", 400, "client_secret does not match the client's current secret; omit it to keep the secret.", "RFC 7592 2.2"),
  initial_access_token_missing: entry("invalid_token", 401, "An initial access token (Authorization: Bearer) is required to register a client.", "RFC 7591 3; RFC 6750 3.1"),
  initial_access_token_invalid: entry("invalid_token", 401, "The initial access token is invalid.", "RFC 7591 3; RFC 6750 3.1"),
  initial_access_token_expired: entry("invalid_token", 401, "The initial access token has expired.", "RFC 7591 3; RFC 6750 3.1"),
  initial_access_token_used_up: entry("invalid_token", 401, "The initial access token has been used as often as it allows.", "RFC 7591 3; RFC 6750 3.1"),
  registration_access_token_missing: entry("invalid_token", 401, "A registration access token (Authorization: Bearer) is required.", "RFC 7592 2; RFC 6750 3.1"),
  registration_access_token_invalid: entry("invalid_token", 401, "The registration access token is invalid for this client.", "RFC 7592 2; OIDC Registration 4.4"),
  // ── client metadata: redirect URIs (RFC 7591 §3.2.2 invalid_redirect_uri) ────────────────
  redirect_uris_malformed: entry("invalid_redirect_uri", 400, "redirect_uris must be an array of at most 32 URI strings.", "RFC 7591 2"),
  redirect_uris_required: entry("invalid_redirect_uri", 400, "redirect_uris is required for the authorization_code grant.", "RFC 7591 2; OIDC Registration 2"),
  redirect_uri_not_absolute: entry("invalid_redirect_uri", 400, "Each redirect URI must be an absolute URI of printable ASCII.", "RFC 6749 3.1.2"),
  redirect_uri_fragment: entry("invalid_redirect_uri", 400, "A redirect URI must not contain a fragment.", "RFC 6749 3.1.2"),
  redirect_uri_wildcard: entry("invalid_redirect_uri", 400, "Redirect URIs are matched exactly; wildcards (*) are not allowed.", "RFC 9700 2.1, 4.1.3"),
  redirect_uri_web_not_https: entry("invalid_redirect_uri", 400, "Web clients must use https redirect URIs.", "OIDC Registration 2; RFC 9700 2.1"),
  redirect_uri_native_not_allowed: entry("invalid_redirect_uri", 400, "Native clients must use loopback http, a private-use scheme with a dot, or https redirect URIs.", "RFC 8252 7"),
  // ── client metadata: everything else (RFC 7591 §3.2.2 invalid_client_metadata) ───────────
  grant_types_malformed: entry("invalid_client_metadata", 400, "grant_types must be an array of strings.", "RFC 7591 2"),
  grant_type_unsupported: entry("invalid_client_metadata", 400, "grant_types names a grant type this server does not support.", "RFC 7591 2"),
  response_types_malformed: entry("invalid_client_metadata", 400, "response_types must be an array of strings.", "RFC 7591 2"),
  response_type_unsupported: entry("invalid_client_metadata", 400, "response_types names a response type this server does not support; use code.", "RFC 7591 2"),
  grant_response_types_inconsistent: entry("invalid_client_metadata", 400, "grant_types and response_types are inconsistent: code needs authorization_code and the reverse.", "RFC 7591 2.1"),
  token_endpoint_auth_method_unsupported: entry("invalid_client_metadata", 400, "token_endpoint_auth_method is not supported.", "RFC 7591 2"),
  auth_method_grant_inconsistent: entry("invalid_client_metadata", 400, "A client with token_endpoint_auth_method none cannot use the client_credentials grant.", "RFC 6749 4.4; RFC 7591 2"),
  token_endpoint_auth_signing_alg_unsupported: entry("invalid_client_metadata", 400, "token_endpoint_auth_signing_alg is not supported for this token_endpoint_auth_method.", "RFC 7591 2; OIDC Registration 2"),
  jwks_and_jwks_uri: entry("invalid_client_metadata", 400, "jwks and jwks_uri must not both be present.", "RFC 7591 2"),
  jwks_required: entry("invalid_client_metadata", 400, "This token_endpoint_auth_method needs the client's keys in jwks or jwks_uri.", "RFC 7591 2; RFC 8705 2.2"),
  jwks_malformed: entry("invalid_client_metadata", 400, "jwks must be a JWK Set: an object whose keys member is an array of JWKs.", "RFC 7517 5; RFC 7591 2"),
  jwks_private_key: entry("invalid_client_metadata", 400, "jwks must hold public keys only; private key members were found.", "RFC 7591 2; RFC 7517 9.2"),
  jwks_unsupported_key: entry("invalid_client_metadata", 400, "jwks holds a key of an unsupported type or curve, or a key missing its public members.", "RFC 7518 6"),
  jwks_no_usable_key: entry("invalid_client_metadata", 400, "jwks holds no key usable to verify this client's assertions.", "RFC 7523 3; RFC 7591 2"),
  jwks_uri_malformed: entry("invalid_client_metadata", 400, "jwks_uri must be an https URL.", "RFC 7591 2"),
  tls_client_auth_subject_dn_required: entry("invalid_client_metadata", 400, "tls_client_auth needs tls_client_auth_subject_dn as a string.", "RFC 8705 2.1.2"),
  application_type_unsupported: entry("invalid_client_metadata", 400, "application_type must be web or native.", "OIDC Registration 2"),
  id_token_signed_response_alg_unsupported: entry("invalid_client_metadata", 400, "id_token_signed_response_alg is not one this server signs with.", "OIDC Registration 2"),
  introspection_signed_response_alg_unsupported: entry("invalid_client_metadata", 400, "introspection_signed_response_alg is not one this server signs with.", "RFC 9701 6"),
  userinfo_signed_response_alg_unsupported: entry("invalid_client_metadata", 400, "Signed UserInfo responses are not supported; omit userinfo_signed_response_alg.", "OIDC Registration 2"),
  request_object_signing_alg_unsupported: entry("invalid_client_metadata", 400, "Request objects are not supported; omit request_object_signing_alg.", "OIDC Registration 2"),
  encrypted_responses_unsupported: entry("invalid_client_metadata", 400, "Encryption of ID tokens, UserInfo, authorization and introspection responses and request objects is not supported.", "OIDC Registration 2; RFC 9701 6"),
  client_name_malformed: entry("invalid_client_metadata", 400, "client_name must be a string of 1 to 256 characters without control characters.", "RFC 7591 2, 2.2"),
  client_uri_malformed: entry("invalid_client_metadata", 400, "client_uri must be an https URL.", "RFC 7591 2"),
  logo_uri_malformed: entry("invalid_client_metadata", 400, "logo_uri must be an https URL.", "RFC 7591 2"),
  policy_uri_malformed: entry("invalid_client_metadata", 400, "policy_uri must be an https URL.", "RFC 7591 2"),
  tos_uri_malformed: entry("invalid_client_metadata", 400, "tos_uri must be an https URL.", "RFC 7591 2"),
  initiate_login_uri_malformed: entry("invalid_client_metadata", 400, "initiate_login_uri must be an https URL.", "OIDC Registration 2"),
  contacts_malformed: entry("invalid_client_metadata", 400, "contacts must be an array of at most 16 non-empty strings.", "RFC 7591 2"),
  scope_malformed: entry("invalid_client_metadata", 400, "scope must be space-separated scope tokens.", "RFC 7591 2; RFC 6749 3.3"),
  scope_not_allowed: entry("invalid_client_metadata", 400, "scope names a scope that self-registered clients may not have.", "RFC 7591 2"),
  post_logout_redirect_uris_malformed: entry("invalid_client_metadata", 400, "post_logout_redirect_uris must be absolute URIs without a fragment, following the redirect URI rules.", "OIDC RP-Initiated Logout 3.1"),
  backchannel_logout_uri_malformed: entry("invalid_client_metadata", 400, "backchannel_logout_uri must be an absolute https URI without a fragment.", "OIDC Back-Channel Logout 2.2"),
  backchannel_logout_session_required_malformed: entry("invalid_client_metadata", 400, "backchannel_logout_session_required must be true or false.", "OIDC Back-Channel Logout 2.2"),
  sector_identifier_uri_malformed: entry("invalid_client_metadata", 400, "sector_identifier_uri must be an https URL.", "OIDC Registration 2, 5"),
  sector_identifier_uri_unreachable: entry("invalid_client_metadata", 400, "sector_identifier_uri could not be retrieved.", "OIDC Registration 5"),
  sector_identifier_uri_bad_document: entry("invalid_client_metadata", 400, "sector_identifier_uri must return a JSON array of URI strings.", "OIDC Registration 5"),
  sector_identifier_uri_missing_redirect_uri: entry("invalid_client_metadata", 400, "The sector_identifier_uri document does not list every redirect URI.", "OIDC Registration 5"),
  subject_type_unsupported: entry("invalid_client_metadata", 400, "subject_type must be public; pairwise identifiers are not supported.", "OIDC Registration 2; OIDC Core 8"),
  require_auth_time_malformed: entry("invalid_client_metadata", 400, "require_auth_time must be true or false.", "OIDC Registration 2"),
  software_id_malformed: entry("invalid_client_metadata", 400, "software_id must be a string of 1 to 256 characters.", "RFC 7591 2"),
  software_version_malformed: entry("invalid_client_metadata", 400, "software_version must be a string of 1 to 256 characters.", "RFC 7591 2"),
  client_metadata_unsupported: entry("invalid_client_metadata", 400, "The metadata names a feature this server does not implement.", "RFC 7591 2; OIDC Registration 2"),
  client_id_malformed: entry("invalid_client_metadata", 400, "client_id must be 1 to 128 visible ASCII characters.", "RFC 6749 2.2"),
  client_secret_malformed: entry("invalid_client_metadata", 400, "A chosen client_secret must be a string of at least 43 characters.", "RFC 6749 10.10"),
  client_secret_not_used: entry("invalid_client_metadata", 400, "This token_endpoint_auth_method does not use a client_secret.", "RFC 7591 2"),
  client_secret_expires_at_malformed: entry("invalid_client_metadata", 400, "client_secret_expires_at must be a non-negative integer (0 = never).", "RFC 7591 3.2.1"),
  operator_extension_malformed: entry("invalid_client_metadata", 400, "first_party, allow_plain_pkce and plain_oauth2 must be true or false; introspection must be own or any.", "README (operator extensions)"),
  refresh_token_lifetime_malformed: entry("invalid_client_metadata", 400, "refresh_token_absolute_lifetime and refresh_token_idle_lifetime must be integers from 60 to 31536000 seconds, refresh_token_reuse_grace from 0 to 300.", "RFC 9700 4.14.2 (operator extensions)"),
  allowed_cors_origins_malformed: entry("invalid_client_metadata", 400, "allowed_cors_origins must hold origins such as https://app.example.", "Fetch standard 3.2.5"),
  // ── software statements (RFC 7591 §2.3, §3.2.2) ───────────────────────────────────────────
  software_statement_malformed: entry("invalid_software_statement", 400, "software_statement must be a signed JWT with an iss claim.", "RFC 7591 2.3"),
  software_statement_signature_invalid: entry("invalid_software_statement", 400, "The software_statement signature does not verify.", "RFC 7591 2.3"),
  software_statement_expired: entry("invalid_software_statement", 400, "The software_statement is expired or not yet valid.", "RFC 7591 2.3; RFC 7519 4.1.4"),
  software_statement_unapproved: entry("unapproved_software_statement", 400, "The software_statement is not signed by an issuer this server trusts.", "RFC 7591 3.2.2"),
  // ── bearer token errors (RFC 6750) ────────────────────────────────────────────────────────
  invalid_token: entry("invalid_token", 401, "The access token is invalid.", "RFC 6750 3.1"),
  token_expired: entry("invalid_token", 401, "The access token has expired.", "RFC 6750 3.1"),
  token_revoked: entry("invalid_token", 401, "The access token was revoked.", "RFC 6750 3.1; RFC 7009"),
  token_consent_revoked: entry("invalid_token", 401, "The consent behind the access token was withdrawn.", "issue 3"),
  insufficient_scope: entry("insufficient_scope", 403, "The access token does not carry the openid scope.", "RFC 6750 3.1"),
  bearer_token_missing: entry("invalid_request", 401, "No access token was sent.", "RFC 6750 3.1"),
  multiple_bearer_tokens: entry("invalid_request", 400, "The access token was sent in more than one way.", "RFC 6750 2"),
  // ── operator API (/admin) ─────────────────────────────────────────────────────────────────
  client_has_no_secret: entry("invalid_request", 400, "The client's authentication method uses no client secret.", "RFC 7591 2"),
  // ── generic ───────────────────────────────────────────────────────────────────────────────
  not_found: entry("invalid_request", 404, "No such endpoint.", "RFC 9110 15.5.5"),
  server_error: entry("server_error", 500, "The server encountered an unexpected condition.", "RFC 6749 4.1.2.1", true),
  temporarily_unavailable: entry("temporarily_unavailable", 503, "The server is temporarily unavailable.", "RFC 6749 4.1.2.1", true),
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof catalog;
