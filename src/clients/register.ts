import { requestObjectMetadata } from "../authorize/request-object";
import { RESOURCE_BYTES, resourceProblem } from "../authorize/resource";
import { validClientTypes, type AuthorizationDetailsType } from "../authorize/authorization-details";
import type { JSONWebKeySet } from "jose";
import { SENDER_CONSTRAINT_METADATA } from "../dpop/binding";
import { STANDARD_SCOPES } from "../authorize/request";
import { ensure } from "../errors/oauth-error";
import { GRANTS } from "../grants";
import { ASYMMETRIC_ASSERTION_ALGS, SERVER_SIGNING_ALGS, isAsymmetricAlg, isHmacAlg, isServerSigningAlg } from "../keys/algorithms";
import { checkSectorIdentifier } from "../registration/sector-identifier";
import { verifySoftwareStatement } from "../registration/software-statement";
import { SECRET_METHODS, isAuthMethod, type AuthMethod, type Client } from "./model";
import { cibaMetadata } from "./register-ciba";
import { FAPI2_DEFAULT_ID_TOKEN_ALG, checkFapi2Registration, registeredProfile } from "../profiles/fapi2";
import { canVerify, validJwks } from "./register-keys";
import {
  MAX_URIS, MAX_URI_LENGTH, backChannelLogoutMetadata, isHttpsUrl, isOrigin, isText, isTextArray, validFetchedUri,
  validPostLogoutRedirectUris, validRedirectUris,
} from "./register-uris";
import type { ClientStore } from "./store";

/**
 * Client registration: the ONE validator of client metadata (RFC 7591 §2, OpenID Connect Dynamic
 * Client Registration 1.0 §2), with its URI rules in ./register-uris.ts and key rules in
 * ./register-keys.ts; ./register-save.ts is the one way a registration is stored. Both the operator
 * API (/admin/clients) and dynamic registration (/register, RFC 7591/7592) come through here; they
 * differ only in `origin`:
 *
 * - "operator": may also set the documented extensions `first_party`, `allow_plain_pkce`,
 *   `plain_oauth2`, `allowed_cors_origins`, the refresh-token lifetimes, `introspection`,
 *   `allowed_resources` (RFC 8707), a chosen `client_id`, `client_secret` and
 *   `client_secret_expires_at`, and any scope.
 * - "dynamic": a client registering itself. Those members are unknown to it and ignored like any
 *   other unknown member (RFC 7591 §2), but `allowed_resources`, which is refused (it would widen
 *   where its tokens are accepted); its `scope` is limited to the OpenID Connect scopes plus
 *   config.registrationScopes.
 * - "document": a client ID metadata document (draft-ietf-oauth-client-id-metadata-document §4.1;
 *   src/clients/metadata-document.ts): as "dynamic", and since no secret can be shared with it,
 *   `token_endpoint_auth_method` is `none` (the default here) or `private_key_jwt`, and
 *   `client_secret` / `client_secret_expires_at` are refused (§4.1, §6.2).
 *
 * Every rule has its own internal error code (src/errors/catalog.ts): redirect URI rules answer
 * `invalid_redirect_uri`, software statement rules `invalid_software_statement` /
 * `unapproved_software_statement`, everything else `invalid_client_metadata` (RFC 7591 §3.2.2).
 * Nothing is silently replaced: an invalid value is refused, an omitted one gets its default.
 * A member sent as JSON `null` counts as omitted. Members this server does not know are dropped
 * (not stored, not echoed); members naming a feature it does not implement (encryption, request
 * objects, pairwise subjects, default_max_age …) are refused, since ignoring them would leave the
 * client believing it has protections it has not.
 */

/** Registration input in RFC 7591 §2 member names (the admin API and DCR speak this). */
export interface ClientInput {
  client_id?: string;
  client_name?: string;
  token_endpoint_auth_method?: string;
  token_endpoint_auth_signing_alg?: string;
  /** Operator-chosen secret (seeding); otherwise one is generated. */
  client_secret?: string;
  client_secret_expires_at?: number;
  grant_types?: string[];
  response_types?: string[];
  redirect_uris?: string[];
  scope?: string;
  jwks?: JSONWebKeySet;
  jwks_uri?: string;
  tls_client_auth_subject_dn?: string;
  application_type?: string;
  id_token_signed_response_alg?: string;
  /** RFC 9701 §6: the alg of the client's JWT introspection responses (default RS256). */
  introspection_signed_response_alg?: string;
  /** OIDC Registration §2: the alg of the client's signed UserInfo responses (default: unsigned JSON). */
  userinfo_signed_response_alg?: string;
  post_logout_redirect_uris?: string[];
  /** OIDC Back-Channel Logout §2.2. */
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
  /** Extensions (operator only, documented in README): */
  first_party?: boolean;
  allow_plain_pkce?: boolean;
  plain_oauth2?: boolean;
  allowed_cors_origins?: string[];
  /** Which tokens the client may introspect (RFC 7662 §2.1): "own" (default) or "any" (a resource server). */
  introspection?: string;
  /** RFC 7591 §2 human-facing URLs, shown on the consent page (https only). */
  client_uri?: string;
  logo_uri?: string;
  policy_uri?: string;
  tos_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  software_statement?: string;
  sector_identifier_uri?: string;
  subject_type?: string;
  require_auth_time?: boolean;
  initiate_login_uri?: string;
  /** Anything else a JSON body may carry; validated or ignored as described above. */
  [member: string]: unknown;
}

/** Who is registering. */
export type RegistrationOrigin = "operator" | "dynamic" | "document";

export interface RegisterDeps {
  store: ClientStore;
  encryptionKey: string;
  now: number;
  /**
   * config.allowInsecureClientUris (local development): http loopback redirect URIs for web clients,
   * and http and loopback hosts in the URLs the server fetches (src/http/outbound.ts).
   */
  allowInsecureUris: boolean;
  /**
   * FAPI 2.0 applies whatever the input says (src/profiles/fapi2.ts): the server-wide profile, or a
   * client replacing its own registration that its operator put under it. Default false.
   */
  fapi2?: boolean;
  /** Default "operator". */
  origin?: RegistrationOrigin;
  /** "dynamic" only: scopes allowed besides the OpenID Connect ones (config.registrationScopes). */
  registrationScopes?: readonly string[];
  /** Keys trusted to sign software statements (config.softwareStatementKeys). Default none. */
  softwareStatementKeys?: JSONWebKeySet | null;
  /** sector_identifier_uri fetch bounds (config.sectorIdentifierFetch). */
  sectorIdentifierFetch?: { timeoutMs: number; maxBytes: number };
  /** Allowed clock skew for a software statement's exp/nbf/iat (config.clockSkew). Default 15 s. */
  clockSkew?: number;
  /** RFC 9396 §10.2: the types a client's authorization_details_types may name (config.authorizationDetailsTypes). Default none. */
  authorizationDetailsTypes?: readonly AuthorizationDetailsType[];
  /** "dynamic" only: lifetime of a secret issued (config.dynamicClientSecretTtl); 0 or absent = never expires. */
  dynamicSecretTtl?: number;
}

/** Metadata after validation, before the server adds an id and secrets. */
export interface ValidMetadata extends Pick<Client,
  | "clientName" | "authMethod" | "authSigningAlg" | "grantTypes" | "responseTypes" | "redirectUris" | "scope"
  | "jwks" | "jwksUri" | "tlsSubjectDn" | "applicationType" | "idTokenSignedResponseAlg" | "postLogoutRedirectUris"
  | "metadata"> {
  /** Operator-only members; undefined for dynamic registration. */
  operator?: {
    clientId?: string;
    clientSecret?: string;
    clientSecretExpiresAt?: number;
    firstParty: boolean;
    allowPlainPkce: boolean;
    plainOAuth2: boolean;
    allowedCorsOrigins: string[];
  };
}

const MIN_CHOSEN_SECRET = 43;
/** Response types this server implements (discovery's response_types_supported). */
export const SUPPORTED_RESPONSE_TYPES: readonly string[] = ["code"];
/** RFC 7591 §2 human-facing URLs; each may also come in language-tagged form (§2.2), e.g. `logo_uri#fr`. */
const HUMAN_URLS = ["client_uri", "logo_uri", "policy_uri", "tos_uri"] as const;
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;
const YEAR = 365 * 24 * 3600;

/**
 * Operator-only members kept in the metadata column: per-client refresh-token lifetimes
 * (src/tokens/refresh-token.ts refreshPolicy reads them), as [min, max] seconds. A client cannot set
 * them itself, and replacing its own registration keeps the operator's values.
 */
const OPERATOR_METADATA: Readonly<Record<string, readonly [number, number]>> = {
  refresh_token_absolute_lifetime: [60, YEAR],
  refresh_token_idle_lifetime: [60, YEAR],
  refresh_token_reuse_grace: [0, 300],
};
/** Operator-only members kept in `metadata`: the lifetimes above and `introspection`. */
export const OPERATOR_METADATA_MEMBERS: readonly string[] = [...Object.keys(OPERATOR_METADATA), "introspection", "fapi_profile", "allowed_resources"];

/**
 * Members naming features this server does not implement, refused when they ask for the feature
 * (RFC 7591 §2 lets a server refuse; OIDC Registration §2). `true` flags only matter when true.
 */
const UNSUPPORTED: Readonly<Record<string, (value: unknown) => boolean>> = {
  default_max_age: () => true,
  default_acr_values: () => true,
  frontchannel_logout_uri: () => true,
  authorization_signed_response_alg: () => true,
  require_signed_request_object: (v) => v === true,
};
const ENCRYPTION_MEMBERS = [
  "id_token_encrypted_response_alg", "id_token_encrypted_response_enc",
  "userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc",
  "request_object_encryption_alg", "request_object_encryption_enc",
  "authorization_encrypted_response_alg", "authorization_encrypted_response_enc",
  "introspection_encrypted_response_alg", "introspection_encrypted_response_enc",
];

/**
 * Validates registration metadata. `raw` is the parsed JSON body (or the operator's input); the
 * software statement, when present, is verified first and its claims take precedence (RFC 7591
 * §3.1.1). Network checks (sector_identifier_uri) come last, after every local rule passed.
 */
export async function validateClientMetadata(raw: Record<string, unknown>, deps: RegisterDeps): Promise<ValidMetadata> {
  const origin = deps.origin ?? "operator";
  const input = await withSoftwareStatement(stripNulls(raw), deps);
  const metadata: Record<string, unknown> = {};
  if (input.software_statement !== undefined) metadata.software_statement = input.software_statement;
  const fapi2 = registeredProfile(input.fapi_profile, origin === "operator", metadata) || deps.fapi2 === true;

  for (const [field, refuses] of Object.entries(UNSUPPORTED)) {
    ensure(input[field] === undefined || !refuses(input[field]), "client_metadata_unsupported", `${field} is not supported by this server; omit it.`);
  }
  for (const field of ENCRYPTION_MEMBERS) {
    ensure(input[field] === undefined, "encrypted_responses_unsupported", `${field}: encryption is not supported; omit it.`);
  }
  requestObjectMetadata(input, metadata, deps.allowInsecureUris);

  // ── grant types, response types and the authentication method (RFC 7591 §2, §2.1) ────────
  const grantTypes = input.grant_types ?? ["authorization_code"];
  ensure(isTextArray(grantTypes, 16) && grantTypes.length > 0, "grant_types_malformed", "grant_types must be a non-empty array of strings.");
  const supportedGrants = GRANTS.map((g) => g.type);
  const unknownGrant = grantTypes.find((g) => !supportedGrants.includes(g));
  ensure(unknownGrant === undefined, "grant_type_unsupported",
    `grant_types: ${unknownGrant} is not supported; use ${supportedGrants.join(", ")}.`);
  const responseTypes = input.response_types ?? (grantTypes.includes("authorization_code") ? ["code"] : []);
  ensure(isTextArray(responseTypes, 8), "response_types_malformed");
  const unknownResponse = responseTypes.find((r) => !SUPPORTED_RESPONSE_TYPES.includes(r));
  ensure(unknownResponse === undefined, "response_type_unsupported", `response_types: ${unknownResponse} is not supported; use code.`);
  ensure(responseTypes.includes("code") === grantTypes.includes("authorization_code"), "grant_response_types_inconsistent",
    responseTypes.includes("code")
      ? "response_types code needs the authorization_code grant in grant_types."
      : "grant_types authorization_code needs response_types code.");

  const method = input.token_endpoint_auth_method ?? (origin === "document" ? "none" : "client_secret_basic");
  ensure(isAuthMethod(method), "token_endpoint_auth_method_unsupported",
    `token_endpoint_auth_method must be one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none.`);
  if (origin === "document") documentAuthentication(input, method);
  // The operator may register such a client (the token endpoint refuses it anyway, public_client_not_allowed).
  if (origin !== "operator") ensure(!(method === "none" && grantTypes.includes("client_credentials")), "auth_method_grant_inconsistent");

  const alg = input.token_endpoint_auth_signing_alg ?? null;
  if (alg !== null) {
    const fits = typeof alg === "string" &&
      (method === "client_secret_jwt" ? isHmacAlg(alg) : method === "private_key_jwt" ? isAsymmetricAlg(alg) : false);
    ensure(fits, "token_endpoint_auth_signing_alg_unsupported",
      method === "client_secret_jwt" ? "token_endpoint_auth_signing_alg must be HS256, HS384 or HS512 for client_secret_jwt."
        : method === "private_key_jwt" ? `token_endpoint_auth_signing_alg must be one of ${ASYMMETRIC_ASSERTION_ALGS.join(", ")} for private_key_jwt.`
          : `token_endpoint_auth_signing_alg only applies to client_secret_jwt and private_key_jwt, not ${method}.`);
  }

  // ── keys (RFC 7591 §2 jwks / jwks_uri; RFC 8705 §2.2) ─────────────────────────────────────
  ensure(input.jwks === undefined || input.jwks_uri === undefined, "jwks_and_jwks_uri");
  const jwks = input.jwks === undefined ? null : validJwks(input.jwks);
  const jwksUri = input.jwks_uri === undefined ? null : validFetchedUri("jwks_uri", input.jwks_uri, deps.allowInsecureUris);
  if (method === "private_key_jwt") {
    ensure(jwks !== null || jwksUri !== null, "jwks_required", "private_key_jwt needs the client's public keys in jwks or jwks_uri.");
    if (jwks !== null) {
      const algs = alg !== null ? [alg] : ASYMMETRIC_ASSERTION_ALGS;
      ensure(jwks.keys.some((k) => algs.some((a) => canVerify(k, a))), "jwks_no_usable_key",
        `jwks holds no signing key usable with ${alg ?? "any supported alg"} for private_key_jwt.`);
    }
  }
  if (method === "self_signed_tls_client_auth") {
    ensure(jwks !== null, "jwks_required", "self_signed_tls_client_auth needs jwks holding the client's certificate (x5c); jwks_uri is not read for it.");
    ensure(jwks.keys.some((k) => Array.isArray(k.x5c) && typeof k.x5c[0] === "string"), "jwks_no_usable_key",
      "self_signed_tls_client_auth needs a key in jwks with the certificate in x5c.");
  }
  const tlsSubjectDn = input.tls_client_auth_subject_dn ?? null;
  ensure(tlsSubjectDn === null || isText(tlsSubjectDn, 1024), "tls_client_auth_subject_dn_required", "tls_client_auth_subject_dn must be a string.");
  if (method === "tls_client_auth") ensure(tlsSubjectDn !== null, "tls_client_auth_subject_dn_required");

  // ── redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7, OIDC Registration §2) ─────────────────────
  const applicationType = input.application_type ?? "web";
  ensure(applicationType === "web" || applicationType === "native", "application_type_unsupported");
  const redirectUris = validRedirectUris(input.redirect_uris, applicationType, deps.allowInsecureUris);
  // OIDC Registration §2: REQUIRED. The operator may add them later (until then /authorize shows an error page).
  if (origin !== "operator" && grantTypes.includes("authorization_code")) ensure(redirectUris.length > 0, "redirect_uris_required");

  // ── logout (OIDC RP-Initiated Logout §3.1, Back-Channel Logout §2.2) ───────────────────────
  const postLogoutRedirectUris = validPostLogoutRedirectUris(input.post_logout_redirect_uris, applicationType, deps.allowInsecureUris);
  backChannelLogoutMetadata(input, deps.allowInsecureUris, metadata);
  // ── CIBA (CIBA Core §4): delivery mode, notification endpoint, signed requests, user codes ──
  cibaMetadata(input, { grantTypes, method, hasKeys: jwks !== null || jwksUri !== null }, deps.allowInsecureUris, metadata);

  // ── what the client says about itself (RFC 7591 §2, §2.2; OIDC Registration §2) ───────────
  const clientName = input.client_name ?? null;
  ensure(clientName === null || isText(clientName), "client_name_malformed");
  for (const [member, value] of Object.entries(input)) {
    const hash = member.indexOf("#");
    const [field, tag] = [member.slice(0, hash), member.slice(hash + 1)];
    if (hash === -1 || !LANGUAGE_TAG.test(tag)) continue;
    if (field === "client_name") {
      ensure(isText(value), "client_name_malformed", `${member} must be a string of 1 to 256 characters without control characters.`);
      metadata[member] = value;
    } else if ((HUMAN_URLS as readonly string[]).includes(field)) {
      ensure(isText(value, MAX_URI_LENGTH) && isHttpsUrl(value), `${field as (typeof HUMAN_URLS)[number]}_malformed`, `${member} must be an https URL.`);
      metadata[member] = value;
    }
  }
  for (const field of HUMAN_URLS) {
    const value = input[field];
    if (value === undefined) continue;
    ensure(isText(value, MAX_URI_LENGTH) && isHttpsUrl(value), `${field}_malformed`);
    metadata[field] = value;
  }
  if (input.initiate_login_uri !== undefined) {
    ensure(isText(input.initiate_login_uri, MAX_URI_LENGTH) && isHttpsUrl(input.initiate_login_uri), "initiate_login_uri_malformed");
    metadata.initiate_login_uri = input.initiate_login_uri;
  }
  if (input.contacts !== undefined) {
    ensure(isTextArray(input.contacts, 16), "contacts_malformed");
    metadata.contacts = input.contacts;
  }
  for (const field of ["software_id", "software_version"] as const) {
    if (input[field] === undefined) continue;
    ensure(isText(input[field]), `${field}_malformed`);
    metadata[field] = input[field];
  }
  if (input.require_auth_time !== undefined) {
    // ID tokens always carry auth_time (src/tokens/id-token.ts), so either value is honoured.
    ensure(typeof input.require_auth_time === "boolean", "require_auth_time_malformed");
    metadata.require_auth_time = input.require_auth_time;
  }
  // RFC 9449 §5.2, RFC 8705 §3.4 and dpop_nonce_required (ours): src/dpop/binding.ts reads them.
  for (const field of SENDER_CONSTRAINT_METADATA) {
    if (input[field] === undefined) continue;
    ensure(typeof input[field] === "boolean", "sender_constraint_metadata_malformed");
    metadata[field] = input[field];
  }
  if (input.subject_type !== undefined) {
    ensure(input.subject_type === "public", "subject_type_unsupported");
    metadata.subject_type = "public";
  }

  const idTokenAlg = input.id_token_signed_response_alg ?? (fapi2 ? FAPI2_DEFAULT_ID_TOKEN_ALG : "RS256");
  ensure(isServerSigningAlg(idTokenAlg), "id_token_signed_response_alg_unsupported",
    `id_token_signed_response_alg must be one of ${SERVER_SIGNING_ALGS.join(", ")}.`);
  // RFC 9701 §6: kept in metadata when given; omitted, the RFC's default RS256 applies when signing.
  const introspectionAlg = input.introspection_signed_response_alg;
  if (introspectionAlg !== undefined) {
    ensure(isServerSigningAlg(introspectionAlg), "introspection_signed_response_alg_unsupported",
      `introspection_signed_response_alg must be one of ${SERVER_SIGNING_ALGS.join(", ")}.`);
    metadata.introspection_signed_response_alg = introspectionAlg;
  }
  // OIDC Registration §2, OIDC Core §5.3.2: UserInfo answers as a JWS with this alg; omitted, as JSON.
  const userinfoAlg = input.userinfo_signed_response_alg;
  if (userinfoAlg !== undefined) {
    ensure(isServerSigningAlg(userinfoAlg), "userinfo_signed_response_alg_unsupported",
      `userinfo_signed_response_alg must be one of ${SERVER_SIGNING_ALGS.join(", ")}.`);
    metadata.userinfo_signed_response_alg = userinfoAlg;
  }

  // RFC 9396 §10.2: the authorization details types the client uses, among the server's (src/authorize/authorization-details.ts).
  if (input.authorization_details_types !== undefined) {
    metadata.authorization_details_types = validClientTypes(input.authorization_details_types, deps.authorizationDetailsTypes ?? []);
  }

  // ── scope (RFC 7591 §2; RFC 6749 §3.3) ─────────────────────────────────────────────────────
  const scopeText = input.scope ?? "";
  ensure(typeof scopeText === "string" && scopeText.length <= 2048, "scope_malformed");
  const scope = [...new Set(scopeText.split(" ").filter(Boolean))];
  ensure(scope.every((s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)), "scope_malformed");
  if (origin !== "operator") {
    const allowed = new Set<string>([...STANDARD_SCOPES, ...(deps.registrationScopes ?? [])]);
    const refused = scope.find((s) => !allowed.has(s));
    ensure(refused === undefined, "scope_not_allowed", `scope: ${refused} may not be registered by a client itself; ask the operator.`);
  }

  // RFC 8707: which resource servers a client may get tokens for is the operator's decision.
  ensure(origin === "operator" || input.allowed_resources === undefined, "allowed_resources_operator_only");
  const operator = origin === "operator" ? operatorExtensions(input, method, metadata) : undefined;
  if (fapi2) checkFapi2Registration({ authMethod: method, authSigningAlg: alg, idTokenSignedResponseAlg: idTokenAlg, redirectUris, applicationType, metadata });

  // ── network checks last (OIDC Registration §5) ──────────────────────────────────────────────
  if (input.sector_identifier_uri !== undefined) {
    const sector = validFetchedUri("sector_identifier_uri", input.sector_identifier_uri, deps.allowInsecureUris);
    await checkSectorIdentifier(sector, redirectUris, {
      ...(deps.sectorIdentifierFetch ?? { timeoutMs: 3000, maxBytes: 64 * 1024 }),
      allowInsecure: deps.allowInsecureUris,
    });
    metadata.sector_identifier_uri = sector;
  }

  return {
    clientName,
    authMethod: method,
    authSigningAlg: alg,
    grantTypes: [...new Set(grantTypes)],
    responseTypes: [...new Set(responseTypes)],
    redirectUris,
    scope,
    jwks,
    jwksUri,
    tlsSubjectDn,
    applicationType,
    idTokenSignedResponseAlg: idTokenAlg,
    postLogoutRedirectUris,
    metadata,
    ...(operator && { operator }),
  };
}

/** The members only the operator may set (README: operator extensions); metadata-column ones go into `metadata`. */
function operatorExtensions(input: ClientInput, method: AuthMethod, metadata: Record<string, unknown>): NonNullable<ValidMetadata["operator"]> {
  const clientId = input.client_id;
  ensure(clientId === undefined || (typeof clientId === "string" && /^[\x21-\x7e]{1,128}$/.test(clientId)), "client_id_malformed");
  const secret = input.client_secret;
  if (secret !== undefined) {
    ensure(SECRET_METHODS.includes(method), "client_secret_not_used", `${method} clients do not use a client_secret.`);
    ensure(typeof secret === "string" && secret.length >= MIN_CHOSEN_SECRET && secret.length <= 512, "client_secret_malformed");
  }
  const expiresAt = input.client_secret_expires_at;
  ensure(expiresAt === undefined || (Number.isSafeInteger(expiresAt) && expiresAt >= 0), "client_secret_expires_at_malformed");
  for (const flag of ["first_party", "allow_plain_pkce", "plain_oauth2"] as const) {
    ensure(input[flag] === undefined || typeof input[flag] === "boolean", "operator_extension_malformed", `${flag} must be true or false.`);
  }
  const origins = input.allowed_cors_origins ?? [];
  ensure(isTextArray(origins, MAX_URIS, MAX_URI_LENGTH) && origins.every(isOrigin), "allowed_cors_origins_malformed");
  for (const [member, [min, max]] of Object.entries(OPERATOR_METADATA)) {
    const value = input[member];
    if (value === undefined) continue;
    ensure(Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max, "refresh_token_lifetime_malformed",
      `${member} must be an integer from ${min} to ${max} seconds.`);
    metadata[member] = value;
  }
  // RFC 7662 §2.1, §4: a resource server's credential may introspect any token of this server;
  // every other client only its own (src/endpoints/introspection.ts).
  const introspection = input.introspection;
  ensure(introspection === undefined || introspection === "own" || introspection === "any", "operator_extension_malformed",
    "introspection must be own or any.");
  if (introspection === "any") metadata.introspection = "any";
  // RFC 8707 §2: the resources (of the server's RESOURCES) this client may ask tokens for; unset, all of them.
  const resources = input.allowed_resources;
  if (resources !== undefined) {
    ensure(isTextArray(resources, 32, RESOURCE_BYTES) && resources.every((r) => resourceProblem(r) === undefined), "allowed_resources_malformed");
    metadata.allowed_resources = [...new Set(resources)];
  }
  return {
    ...(clientId !== undefined && { clientId }),
    ...(secret !== undefined && { clientSecret: secret }),
    ...(expiresAt !== undefined && { clientSecretExpiresAt: expiresAt }),
    firstParty: input.first_party === true,
    allowPlainPkce: input.allow_plain_pkce === true,
    plainOAuth2: input.plain_oauth2 === true,
    allowedCorsOrigins: origins,
  };
}

/**
 * draft-ietf-oauth-client-id-metadata-document §4.1, §6.2: no shared secret with a client that
 * publishes its own metadata — only `none` or `private_key_jwt` (its keys in jwks or jwks_uri).
 */
function documentAuthentication(input: ClientInput, method: AuthMethod): void {
  ensure(method === "none" || method === "private_key_jwt", "client_id_metadata_document_auth_method",
    `token_endpoint_auth_method ${method} cannot be used by a client ID metadata document; use none or private_key_jwt.`);
  ensure(input.client_secret === undefined && input.client_secret_expires_at === undefined, "client_id_metadata_document_secret");
}

/** JSON null means "not given" (a PUT that clears a member sends null or leaves it out). */
function stripNulls(raw: Record<string, unknown>): ClientInput {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null)) as ClientInput;
}

/** RFC 7591 §3.1.1: the statement's claims take precedence over the same members in the body. */
async function withSoftwareStatement(input: ClientInput, deps: RegisterDeps): Promise<ClientInput> {
  if (input.software_statement === undefined) return input;
  const claims = await verifySoftwareStatement(input.software_statement, {
    keys: deps.softwareStatementKeys ?? null,
    now: deps.now,
    clockSkew: deps.clockSkew ?? 15,
  });
  const { iss: _iss, sub: _sub, aud: _aud, exp: _exp, nbf: _nbf, iat: _iat, jti: _jti, ...metadata } = claims;
  return { ...input, ...stripNulls(metadata), software_statement: input.software_statement };
}
