import type { JSONWebKeySet } from "jose";
import { seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import { SERVER_SIGNING_ALGS, isAsymmetricAlg, isHmacAlg } from "../keys/algorithms";
import { isLoopbackHost } from "./redirect-uris";
import { isAuthMethod, type AuthMethod, type Client } from "./model";
import type { ClientStore } from "./store";

/** Registration input in RFC 7591 §2 member names (the admin API and, later, DCR speak this). */
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
  /** Extensions (documented in README): */
  first_party?: boolean;
  allow_plain_pkce?: boolean;
  plain_oauth2?: boolean;
  allowed_cors_origins?: string[];
  /** RFC 7591 §2 human-facing URLs, shown on the consent page (https only). */
  client_uri?: string;
  logo_uri?: string;
  policy_uri?: string;
  tos_uri?: string;
}

const HUMAN_URLS = ["client_uri", "logo_uri", "policy_uri", "tos_uri"] as const;

export interface Registered {
  client: Client;
  /** Present when a secret was issued; shown once, stored only as a hash (and sealed for client_secret_jwt). */
  clientSecret?: string;
}

const SECRET_METHODS: readonly AuthMethod[] = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];
/** 64 random bytes: long enough for HS512 (RFC 7518 §3.2) when used by client_secret_jwt. */
const SECRET_BYTES = 64;
const MIN_CHOSEN_SECRET = 43;

export async function registerClient(
  deps: { store: ClientStore; encryptionKey: string; now: number; allowInsecureUris: boolean },
  input: ClientInput,
): Promise<Registered> {
  const method = input.token_endpoint_auth_method ?? "client_secret_basic";
  ensure(isAuthMethod(method), "invalid_client_metadata", `token_endpoint_auth_method ${method} is not supported.`);
  const clientId = input.client_id ?? randomToken(16);
  ensure(/^[\x21-\x7e]{1,128}$/.test(clientId), "invalid_client_metadata", "client_id must be 1-128 visible ASCII characters.");
  const alg = input.token_endpoint_auth_signing_alg ?? null;
  if (alg !== null) {
    const fits = method === "client_secret_jwt" ? isHmacAlg(alg) : method === "private_key_jwt" ? isAsymmetricAlg(alg) : false;
    ensure(fits, "invalid_client_metadata", `token_endpoint_auth_signing_alg ${alg} does not fit ${method}.`);
  }
  ensure(!(input.jwks && input.jwks_uri), "invalid_client_metadata", "jwks and jwks_uri must not both be present.");
  if (method === "private_key_jwt" || method === "self_signed_tls_client_auth") {
    ensure(input.jwks || input.jwks_uri, "invalid_client_metadata", `${method} needs jwks or jwks_uri.`);
  }
  if (input.jwks) {
    ensure(Array.isArray(input.jwks.keys), "invalid_client_metadata", "jwks must be a JWK Set.");
    const privateMembers = ["d", "p", "q", "dp", "dq", "qi", "k"];
    ensure(
      input.jwks.keys.every((k) => privateMembers.every((m) => !(m in k))),
      "invalid_client_metadata",
      "jwks must hold public keys only.",
    );
  }
  if (input.jwks_uri !== undefined) ensure(isHttpsUrl(input.jwks_uri, deps.allowInsecureUris), "invalid_client_metadata", "jwks_uri must be an https URL.");
  if (method === "tls_client_auth") {
    ensure(input.tls_client_auth_subject_dn, "invalid_client_metadata", "tls_client_auth needs tls_client_auth_subject_dn.");
  }
  const applicationType = input.application_type ?? "web";
  ensure(applicationType === "web" || applicationType === "native", "invalid_client_metadata", "application_type must be web or native.");
  for (const uri of input.redirect_uris ?? []) {
    ensure(typeof uri === "string" && isAbsoluteWithoutFragment(uri), "invalid_redirect_uri", "redirect_uris must be absolute URIs without a fragment.");
    ensure(redirectUriAllowed(uri, applicationType, deps.allowInsecureUris), "invalid_redirect_uri",
      applicationType === "web"
        ? "Web clients must use https redirect URIs."
        : "Native clients must use loopback http, a private-use scheme, or https redirect URIs (RFC 8252 7).");
  }
  for (const uri of input.post_logout_redirect_uris ?? []) {
    ensure(typeof uri === "string" && isAbsoluteWithoutFragment(uri), "invalid_client_metadata", "post_logout_redirect_uris must be absolute URIs without a fragment.");
  }
  for (const origin of input.allowed_cors_origins ?? []) {
    ensure(typeof origin === "string" && isOrigin(origin), "invalid_client_metadata", "allowed_cors_origins must hold origins such as https://app.example.");
  }
  const metadata: Record<string, unknown> = {};
  for (const field of HUMAN_URLS) {
    const value = input[field];
    if (value === undefined) continue;
    ensure(typeof value === "string" && isHttpsUrl(value), "invalid_client_metadata", `${field} must be an https URL.`);
    metadata[field] = value;
  }
  const idTokenAlg = input.id_token_signed_response_alg ?? "RS256";
  ensure((SERVER_SIGNING_ALGS as readonly string[]).includes(idTokenAlg), "invalid_client_metadata",
    `id_token_signed_response_alg must be one of ${SERVER_SIGNING_ALGS.join(", ")}.`);
  const scope = (input.scope ?? "").split(" ").filter(Boolean);
  ensure(scope.every((s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)), "invalid_client_metadata", "scope holds an invalid scope token.");

  let clientSecret: string | undefined;
  let secretHash: string | null = null;
  let secretSealed: string | null = null;
  if (SECRET_METHODS.includes(method)) {
    if (input.client_secret !== undefined) {
      ensure(input.client_secret.length >= MIN_CHOSEN_SECRET, "invalid_client_metadata", `client_secret must be at least ${MIN_CHOSEN_SECRET} characters.`);
    }
    clientSecret = input.client_secret ?? randomToken(SECRET_BYTES);
    secretHash = await hashForStorage(clientSecret);
    if (method === "client_secret_jwt") secretSealed = await seal(deps.encryptionKey, "client-secret", clientId, clientSecret);
  } else if (input.client_secret !== undefined) {
    throw new OAuthError("invalid_client_metadata", `${method} clients do not use a client_secret.`);
  }

  const existing = await deps.store.get(clientId);
  const client: Client = {
    clientId,
    clientName: input.client_name ?? null,
    authMethod: method,
    authSigningAlg: alg,
    secretHash,
    secretSealed,
    secretExpiresAt: input.client_secret_expires_at ?? 0,
    grantTypes: input.grant_types ?? ["authorization_code"],
    responseTypes: input.response_types ?? ["code"],
    redirectUris: input.redirect_uris ?? [],
    scope,
    jwks: input.jwks ?? null,
    jwksUri: input.jwks_uri ?? null,
    tlsSubjectDn: input.tls_client_auth_subject_dn ?? null,
    applicationType,
    idTokenSignedResponseAlg: idTokenAlg,
    firstParty: input.first_party === true,
    allowPlainPkce: input.allow_plain_pkce === true,
    plainOAuth2: input.plain_oauth2 === true,
    allowedCorsOrigins: input.allowed_cors_origins ?? [],
    postLogoutRedirectUris: input.post_logout_redirect_uris ?? [],
    metadata,
    disabled: false,
    createdAt: existing?.createdAt ?? deps.now,
    updatedAt: deps.now,
  };
  await deps.store.put(client);
  return clientSecret === undefined ? { client } : { client, clientSecret };
}

export function isHttpsUrl(value: string, allowHttp = false): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (allowHttp && url.protocol === "http:");
  } catch {
    return false;
  }
}

function isAbsoluteWithoutFragment(value: string): boolean {
  try {
    return new URL(value).hash === "" && !value.includes("#");
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

/** Redirect URI rules: https for web clients; RFC 8252 §7 for native apps. */
function redirectUriAllowed(uri: string, type: "web" | "native", allowInsecure: boolean): boolean {
  const url = new URL(uri);
  if (url.protocol === "https:") return true;
  if (url.protocol === "http:") return isLoopbackHost(url.hostname) && (type === "native" || allowInsecure);
  // Private-use URI scheme (RFC 8252 §7.1): native only, reverse-domain style (contains a dot).
  return type === "native" && url.protocol.slice(0, -1).includes(".");
}
