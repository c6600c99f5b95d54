import type { JSONWebKeySet, JWK } from "jose";
import { STANDARD_SCOPES } from "../authorize/request";
import { seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import { GRANTS } from "../grants";
import { ASYMMETRIC_ASSERTION_ALGS, SERVER_SIGNING_ALGS, isAsymmetricAlg, isHmacAlg, keyFitsAlg } from "../keys/algorithms";
import { checkSectorIdentifier } from "../registration/sector-identifier";
import { verifySoftwareStatement } from "../registration/software-statement";
import { isLoopbackHost } from "./redirect-uris";
import { isAuthMethod, type AuthMethod, type Client } from "./model";
import type { ClientStore } from "./store";

/**
 * Client registration: the ONE validator of client metadata (RFC 7591 §2, OpenID Connect Dynamic
 * Client Registration 1.0 §2) and the one way a registration is stored. Both the operator API
 * (/admin/clients) and dynamic registration (/register, RFC 7591/7592) come through here; they
 * differ only in `origin`:
 *
 * - "operator": may also set the documented extensions `first_party`, `allow_plain_pkce`,
 *   `plain_oauth2`, `allowed_cors_origins`, a chosen `client_id`, `client_secret` and
 *   `client_secret_expires_at`, and any scope.
 * - "dynamic": a client registering itself. Those members are unknown to it and ignored like any
 *   other unknown member (RFC 7591 §2); its `scope` is limited to the OpenID Connect scopes plus
 *   config.registrationScopes.
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
  post_logout_redirect_uris?: string[];
  /** Extensions (operator only, documented in README): */
  first_party?: boolean;
  allow_plain_pkce?: boolean;
  plain_oauth2?: boolean;
  allowed_cors_origins?: string[];
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
export type RegistrationOrigin = "operator" | "dynamic";

export interface RegisterDeps {
  store: ClientStore;
  encryptionKey: string;
  now: number;
  /** config.allowInsecureClientUris: http loopback redirect URIs for web clients, http jwks_uri (development). */
  allowInsecureUris: boolean;
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
}

export interface RegisterOptions {
  /** The client being replaced (RFC 7592 PUT, operator PUT): keeps its client_id_issued_at. */
  existing?: Client | null;
  /** "dynamic": the client_id of the client being replaced (from its registration_client_uri). */
  clientId?: string;
  /**
   * What happens to an existing secret when the method still uses one: "rotate" (default; what
   * the operator PUT always did) issues a new one, "keep" keeps the stored one.
   */
  secret?: "rotate" | "keep";
  /** The current secret as the client sent it (already checked against the stored hash), so a switch to client_secret_jwt can seal it. */
  currentSecret?: string;
}

export interface Registered {
  client: Client;
  /** Present when a secret was issued; shown once, stored only as a hash (and sealed for client_secret_jwt). */
  clientSecret?: string;
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

const SECRET_METHODS: readonly AuthMethod[] = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];
/** 64 random bytes: long enough for HS512 (RFC 7518 §3.2) when used by client_secret_jwt. */
const SECRET_BYTES = 64;
const MIN_CHOSEN_SECRET = 43;
/** Response types this server implements (discovery's response_types_supported). */
export const SUPPORTED_RESPONSE_TYPES: readonly string[] = ["code"];
/** RFC 7591 §2 human-facing URLs; each may also come in language-tagged form (§2.2), e.g. `logo_uri#fr`. */
const HUMAN_URLS = ["client_uri", "logo_uri", "policy_uri", "tos_uri"] as const;
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;
/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MAX_URIS = 32;
const MAX_URI_LENGTH = 2048;
const MAX_KEYS = 32;
const MAX_TEXT = 256;
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
export const OPERATOR_METADATA_MEMBERS: readonly string[] = Object.keys(OPERATOR_METADATA);

/**
 * Members naming features this server does not implement, refused when they ask for the feature
 * (RFC 7591 §2 lets a server refuse; OIDC Registration §2). `true` flags only matter when true.
 */
const UNSUPPORTED: Readonly<Record<string, (value: unknown) => boolean>> = {
  default_max_age: () => true,
  default_acr_values: () => true,
  request_uris: () => true,
  frontchannel_logout_uri: () => true,
  backchannel_logout_uri: () => true,
  authorization_signed_response_alg: () => true,
  backchannel_token_delivery_mode: () => true,
  tls_client_certificate_bound_access_tokens: (v) => v === true,
  dpop_bound_access_tokens: (v) => v === true,
  require_pushed_authorization_requests: (v) => v === true,
  require_signed_request_object: (v) => v === true,
};
const ENCRYPTION_MEMBERS = [
  "id_token_encrypted_response_alg", "id_token_encrypted_response_enc",
  "userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc",
  "request_object_encryption_alg", "request_object_encryption_enc",
  "authorization_encrypted_response_alg", "authorization_encrypted_response_enc",
];

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);
/** Printable text without control characters (C0, DEL, C1). */
const isText = (value: unknown, max = MAX_TEXT): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= max && !/[\u0000-\u001f\u007f-\u009f]/.test(value);
const isTextArray = (value: unknown, maxItems: number, maxLength = MAX_TEXT): value is string[] =>
  Array.isArray(value) && value.length <= maxItems && value.every((v) => isText(v, maxLength));

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

  for (const [field, refuses] of Object.entries(UNSUPPORTED)) {
    ensure(input[field] === undefined || !refuses(input[field]), "client_metadata_unsupported", `${field} is not supported by this server; omit it.`);
  }
  for (const field of ENCRYPTION_MEMBERS) {
    ensure(input[field] === undefined, "encrypted_responses_unsupported", `${field}: encryption is not supported; omit it.`);
  }
  ensure(input.userinfo_signed_response_alg === undefined, "userinfo_signed_response_alg_unsupported");
  ensure(input.request_object_signing_alg === undefined, "request_object_signing_alg_unsupported");

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

  const method = input.token_endpoint_auth_method ?? "client_secret_basic";
  ensure(isAuthMethod(method), "token_endpoint_auth_method_unsupported",
    `token_endpoint_auth_method must be one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none.`);
  // The operator may register such a client (the token endpoint refuses it anyway, public_client_not_allowed).
  if (origin === "dynamic") ensure(!(method === "none" && grantTypes.includes("client_credentials")), "auth_method_grant_inconsistent");

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
  const jwksUri = input.jwks_uri ?? null;
  if (jwksUri !== null) {
    ensure(isText(jwksUri, MAX_URI_LENGTH) && isHttpsUrl(jwksUri, deps.allowInsecureUris), "jwks_uri_malformed");
  }
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
  const redirectUris = input.redirect_uris ?? [];
  ensure(isTextArray(redirectUris, MAX_URIS, MAX_URI_LENGTH), "redirect_uris_malformed");
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(uri, applicationType, deps.allowInsecureUris);
    if (problem !== undefined) throw new OAuthError(problem, `redirect_uris: ${uri} - ${REDIRECT_PROBLEM_TEXT[problem]}`);
  }
  // OIDC Registration §2: REQUIRED. The operator may add them later (until then /authorize shows an error page).
  if (origin === "dynamic" && grantTypes.includes("authorization_code")) ensure(redirectUris.length > 0, "redirect_uris_required");
  const postLogoutRedirectUris = input.post_logout_redirect_uris ?? [];
  ensure(isTextArray(postLogoutRedirectUris, MAX_URIS, MAX_URI_LENGTH), "post_logout_redirect_uris_malformed");
  for (const uri of postLogoutRedirectUris) {
    const problem = redirectUriProblem(uri, applicationType, deps.allowInsecureUris);
    if (problem !== undefined) {
      throw new OAuthError("post_logout_redirect_uris_malformed", `post_logout_redirect_uris: ${uri} - ${REDIRECT_PROBLEM_TEXT[problem]}`);
    }
  }

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
  if (input.subject_type !== undefined) {
    ensure(input.subject_type === "public", "subject_type_unsupported");
    metadata.subject_type = "public";
  }

  const idTokenAlg = input.id_token_signed_response_alg ?? "RS256";
  ensure(typeof idTokenAlg === "string" && (SERVER_SIGNING_ALGS as readonly string[]).includes(idTokenAlg), "id_token_signed_response_alg_unsupported",
    `id_token_signed_response_alg must be one of ${SERVER_SIGNING_ALGS.join(", ")}.`);

  // ── scope (RFC 7591 §2; RFC 6749 §3.3) ─────────────────────────────────────────────────────
  const scopeText = input.scope ?? "";
  ensure(typeof scopeText === "string" && scopeText.length <= 2048, "scope_malformed");
  const scope = [...new Set(scopeText.split(" ").filter(Boolean))];
  ensure(scope.every((s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)), "scope_malformed");
  if (origin === "dynamic") {
    const allowed = new Set<string>([...STANDARD_SCOPES, ...(deps.registrationScopes ?? [])]);
    const refused = scope.find((s) => !allowed.has(s));
    ensure(refused === undefined, "scope_not_allowed", `scope: ${refused} may not be registered by a client itself; ask the operator.`);
  }

  const operator = origin === "operator" ? operatorExtensions(input, method, metadata) : undefined;

  // ── network checks last (OIDC Registration §5) ──────────────────────────────────────────────
  if (input.sector_identifier_uri !== undefined) {
    const sector = input.sector_identifier_uri;
    ensure(isText(sector, MAX_URI_LENGTH) && isHttpsUrl(sector, deps.allowInsecureUris), "sector_identifier_uri_malformed");
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
 * Validates and stores a registration (insert, or full replacement of `options.existing`).
 * Returns the client and, when one was issued, the secret in clear (shown once).
 */
export async function registerClient(deps: RegisterDeps, input: ClientInput, options: RegisterOptions = {}): Promise<Registered> {
  return saveRegistration(deps, await validateClientMetadata(input, deps), options);
}

/** Stores validated metadata: assigns the client_id (unless given) and issues or keeps the secret. */
export async function saveRegistration(deps: RegisterDeps, valid: ValidMetadata, options: RegisterOptions = {}): Promise<Registered> {
  const op = valid.operator;
  const clientId = op?.clientId ?? options.clientId ?? randomToken(16);
  const existing = options.existing !== undefined ? options.existing : await deps.store.get(clientId);
  const method = valid.authMethod;

  let clientSecret: string | undefined;
  let secretHash: string | null = null;
  let secretSealed: string | null = null;
  let secretExpiresAt = op?.clientSecretExpiresAt ?? 0;
  if (SECRET_METHODS.includes(method)) {
    const keep = options.secret === "keep" && existing?.secretHash && op?.clientSecret === undefined &&
      (method !== "client_secret_jwt" || existing.secretSealed !== null || options.currentSecret !== undefined);
    if (keep) {
      secretHash = existing.secretHash;
      secretExpiresAt = op?.clientSecretExpiresAt ?? existing.secretExpiresAt;
      if (method === "client_secret_jwt") {
        secretSealed = existing.secretSealed ?? (await seal(deps.encryptionKey, "client-secret", clientId, options.currentSecret!));
      }
    } else {
      clientSecret = op?.clientSecret ?? randomToken(SECRET_BYTES);
      secretHash = await hashForStorage(clientSecret);
      if (method === "client_secret_jwt") secretSealed = await seal(deps.encryptionKey, "client-secret", clientId, clientSecret);
    }
  }

  // A client replacing its own registration keeps what only the operator may set.
  const kept = op ?? {
    firstParty: existing?.firstParty ?? false,
    allowPlainPkce: existing?.allowPlainPkce ?? false,
    plainOAuth2: existing?.plainOAuth2 ?? false,
    allowedCorsOrigins: existing?.allowedCorsOrigins ?? [],
  };
  const client: Client = {
    clientId,
    clientName: valid.clientName,
    authMethod: method,
    authSigningAlg: valid.authSigningAlg,
    secretHash,
    secretSealed,
    secretExpiresAt: secretHash === null ? 0 : secretExpiresAt,
    grantTypes: valid.grantTypes,
    responseTypes: valid.responseTypes,
    redirectUris: valid.redirectUris,
    scope: valid.scope,
    jwks: valid.jwks,
    jwksUri: valid.jwksUri,
    tlsSubjectDn: valid.tlsSubjectDn,
    applicationType: valid.applicationType,
    idTokenSignedResponseAlg: valid.idTokenSignedResponseAlg,
    firstParty: kept.firstParty,
    allowPlainPkce: kept.allowPlainPkce,
    plainOAuth2: kept.plainOAuth2,
    allowedCorsOrigins: kept.allowedCorsOrigins,
    postLogoutRedirectUris: valid.postLogoutRedirectUris,
    metadata: op ? valid.metadata : { ...valid.metadata, ...operatorMetadataOf(existing) },
    disabled: op ? false : (existing?.disabled ?? false),
    createdAt: existing?.createdAt ?? deps.now,
    updatedAt: deps.now,
  };
  await deps.store.put(client);
  return clientSecret === undefined ? { client } : { client, clientSecret };
}

/** The operator-only metadata members of a stored client, kept when it replaces its own registration. */
function operatorMetadataOf(client: Client | null | undefined): Record<string, unknown> {
  if (!client) return {};
  return Object.fromEntries(OPERATOR_METADATA_MEMBERS.filter((m) => client.metadata[m] !== undefined).map((m) => [m, client.metadata[m]]));
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

function validJwks(value: unknown): JSONWebKeySet {
  ensure(isObject(value) && Array.isArray(value.keys) && value.keys.length > 0 && value.keys.length <= MAX_KEYS &&
    value.keys.every((k) => isObject(k) && typeof k.kty === "string"), "jwks_malformed");
  const keys = value.keys as Record<string, unknown>[];
  ensure(keys.every((k) => PRIVATE_JWK_MEMBERS.every((m) => !(m in k))), "jwks_private_key");
  const bad = keys.find((k) => !isSupportedPublicKey(k));
  ensure(bad === undefined, "jwks_unsupported_key",
    `jwks: a key of kty ${String(bad?.kty).slice(0, 16)} is not supported; use RSA, EC (P-256, P-384, P-521) or OKP (Ed25519) public keys.`);
  return value as unknown as JSONWebKeySet;
}

/** RSA, EC on the NIST curves, or Ed25519, with the public members present (RFC 7518 §6, RFC 8037 §2). */
function isSupportedPublicKey(k: Record<string, unknown>): boolean {
  const str = (m: string) => typeof k[m] === "string" && (k[m] as string).length > 0;
  if (k.x5c !== undefined && !(Array.isArray(k.x5c) && k.x5c.every((c) => typeof c === "string"))) return false;
  switch (k.kty) {
    case "RSA":
      return str("n") && str("e");
    case "EC":
      return ["P-256", "P-384", "P-521"].includes(k.crv as string) && str("x") && str("y");
    case "OKP":
      return k.crv === "Ed25519" && str("x");
    default:
      return false;
  }
}

/** Could this registered key verify a client assertion signed with `alg` (as src/client-auth/client-keys.ts selects keys)? */
function canVerify(k: JWK, alg: string): boolean {
  return keyFitsAlg(k, alg) && (k.alg === undefined || k.alg === alg) && (k.use === undefined || k.use === "sig") &&
    (k.key_ops === undefined || k.key_ops.includes("verify"));
}

type RedirectProblem =
  | "redirect_uri_not_absolute"
  | "redirect_uri_fragment"
  | "redirect_uri_wildcard"
  | "redirect_uri_web_not_https"
  | "redirect_uri_native_not_allowed";

const REDIRECT_PROBLEM_TEXT: Record<RedirectProblem, string> = {
  redirect_uri_not_absolute: "not an absolute URI of printable ASCII.",
  redirect_uri_fragment: "a redirect URI must not contain a fragment.",
  redirect_uri_wildcard: "redirect URIs are matched exactly; wildcards (*) are not allowed.",
  redirect_uri_web_not_https: "web clients must use https.",
  redirect_uri_native_not_allowed: "native clients must use loopback http, a private-use scheme with a dot (com.example.app:/cb), or https.",
};

/** scheme ":" … (RFC 3986 §3.1); http(s) also need "//" and a host. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/;
const HTTP_URI = /^https?:\/\/[^/?#]+/i;

/** The first rule a redirect URI breaks: https for web clients; RFC 8252 §7 for native apps. */
function redirectUriProblem(uri: string, type: "web" | "native", allowInsecure: boolean): RedirectProblem | undefined {
  if (!ABSOLUTE_URI.test(uri)) return "redirect_uri_not_absolute";
  if (uri.includes("#")) return "redirect_uri_fragment";
  if (uri.includes("*")) return "redirect_uri_wildcard";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "redirect_uri_not_absolute";
  }
  const scheme = url.protocol.slice(0, -1);
  if ((scheme === "http" || scheme === "https") && !HTTP_URI.test(uri)) return "redirect_uri_not_absolute";
  if (scheme === "https") return undefined;
  if (scheme === "http" && isLoopbackHost(url.hostname) && (type === "native" || allowInsecure)) return undefined;
  // Private-use URI scheme (RFC 8252 §7.1): native only, reverse-domain style (contains a dot).
  if (type === "native" && scheme !== "http" && scheme.includes(".")) return undefined;
  return type === "web" ? "redirect_uri_web_not_https" : "redirect_uri_native_not_allowed";
}

export function isHttpsUrl(value: string, allowHttp = false): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (allowHttp && url.protocol === "http:");
  } catch {
    return false;
  }
}

function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}
