import type { Presented, AudienceRule } from "../client-auth/types";
import type { AuthMethod, Client } from "../clients/model";
import type { Config } from "../config";
import type { ValidationStep } from "../authorize/steps";
import { ensure } from "../errors/oauth-error";
import type { SenderConstraint } from "../tokens/minter";

/**
 * The FAPI 2.0 Security Profile (OpenID Final, February 2025), as a profile: the rules in one place,
 * asked by the places that enforce them. Section numbers are the Final's: §5.3.2.1 (authorization
 * server, general), §5.3.2.2 (authorization endpoint flows), §5.4.1 (cryptography); "item n" is
 * the n-th entry of the section's list. docs/security.md maps every requirement to its enforcement
 * and test.
 *
 * Who is under it: every client when the server-wide setting is on (FAPI_PROFILE=fapi2-security,
 * config.fapiProfile), else a client whose operator set `fapi_profile: "fapi2-security"` in its
 * metadata (operator-only: a self-registering client cannot set it, src/clients/register.ts).
 */

export const FAPI2_SECURITY = "fapi2-security";
export type ProfileName = typeof FAPI2_SECURITY;

/** FAPI_PROFILE: unset or empty for none, "fapi2-security" for the whole server. */
export function profileSetting(value: string | undefined): ProfileName | null {
  if (value === undefined || value === "") return null;
  if (value !== FAPI2_SECURITY) throw new Error(`FAPI_PROFILE must be "${FAPI2_SECURITY}" or unset`);
  return value;
}

/** §5.3.2.1 item 11 (codes ≤ 60 s) and §5.3.2.2 item 12 (request_uri expires_in < 600 s): a server-wide profile refuses a config that breaks them. */
export function checkProfileConfig(config: Pick<Config, "fapiProfile" | "codeTtl" | "parTtl">): void {
  if (config.fapiProfile !== FAPI2_SECURITY) return;
  if (config.codeTtl > 60) throw new Error("FAPI_PROFILE=fapi2-security needs authorization codes of at most 60 s (FAPI 2.0 5.3.2.1 item 11)");
  if (config.parTtl >= 600) throw new Error("FAPI_PROFILE=fapi2-security needs request_uri lifetimes under 600 s (FAPI 2.0 5.3.2.2 item 12)");
}

/** Whether `client` is under FAPI 2.0: the server-wide setting, or the operator's per-client switch. */
export const underFapi2 = (config: Pick<Config, "fapiProfile">, client: Client | undefined): boolean =>
  config.fapiProfile === FAPI2_SECURITY || client?.metadata.fapi_profile === FAPI2_SECURITY;

/**
 * §5.4.1 item 1: PS256, ES256 or EdDSA with Ed25519 — and `Ed25519`, the fully-specified name of
 * that algorithm, which the section's note admits once registered (RFC 9864). Applies to client
 * assertions, request objects, DPoP proofs and the JWTs this server signs for the client.
 */
export const FAPI2_ALGS: readonly string[] = ["PS256", "ES256", "EdDSA", "Ed25519"];
export const isFapi2Alg = (alg: unknown): boolean => typeof alg === "string" && FAPI2_ALGS.includes(alg);
/** The ID-token alg a FAPI client gets when it registers none (ours: ES256, §5.4.1; RS256 is not allowed). */
export const FAPI2_DEFAULT_ID_TOKEN_ALG = "ES256";

/** §5.3.2.1 items 3 and 6: confidential clients, authenticated by private_key_jwt or mutual TLS (RFC 8705 §2). */
export const FAPI2_AUTH_METHODS: readonly AuthMethod[] = ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"];

/**
 * Client authentication of a client under the profile (every endpoint that authenticates clients,
 * src/client-auth/index.ts): its registered method one of FAPI2_AUTH_METHODS (§5.3.2.1 item 6), an
 * assertion signed with a FAPI alg (§5.4.1), and the assertion `aud` the issuer as a single string
 * (§5.3.2.1 item 8) — the rule returned. Undefined for other clients (the endpoint's own rule).
 */
export function fapi2ClientAuthentication(config: Pick<Config, "fapiProfile">, client: Client, presented: Presented): AudienceRule | undefined {
  if (!underFapi2(config, client)) return undefined;
  ensure(FAPI2_AUTH_METHODS.includes(client.authMethod), "fapi2_client_auth_method",
    `This client is registered for ${client.authMethod}; under FAPI 2.0 it must use private_key_jwt, tls_client_auth or self_signed_tls_client_auth.`);
  if (presented.carrier === "assertion") ensure(isFapi2Alg(presented.header.alg), "fapi2_client_assertion_alg");
  return "issuer";
}

/**
 * §5.3.2.1 items 4 and 5 at the token endpoint, for a request without a DPoP proof: the tokens are
 * bound to the TLS client certificate presented (RFC 8705 §3, `x5tS256` its thumbprint), and
 * without one there is nothing to bind them to — refused, never a Bearer token.
 */
export function fapi2CertificateBinding(x5tS256: string | undefined): SenderConstraint {
  ensure(x5tS256 !== undefined, "fapi2_sender_constraint_required");
  return { method: "mtls", x5tS256 };
}

/** The DPoP proof algs accepted from `client` (§5.4.1): FAPI2_ALGS under the profile, undefined (all supported) otherwise. */
export const dpopAlgsFor = (config: Pick<Config, "fapiProfile">, client: Client | undefined): readonly string[] | undefined =>
  underFapi2(config, client) ? FAPI2_ALGS : undefined;

/** Whether a request object signed with `alg` is accepted from `client` (§5.4.1; `none` never, as PAR is required). */
export const requestObjectAlgAllowed = (config: Pick<Config, "fapiProfile">, client: Client, alg: unknown): boolean =>
  !underFapi2(config, client) || isFapi2Alg(alg);

/** §5.3.2.1 item 9: no refresh-token rotation — the same token is used again, its idle lifetime renewed. */
export const rotatesRefreshTokens = (config: Pick<Config, "fapiProfile">, client: Client): boolean => !underFapi2(config, client);

/**
 * §5.3.2.2 item 8: no http redirect URI, except on a loopback address for a native client (RFC 8252
 * §7.3). Other schemes (https, a native app's private-use scheme) are the general rules' business.
 */
export function isFapi2RedirectUri(uri: string, applicationType: Client["applicationType"]): boolean {
  if (!URL.canParse(uri)) return false;
  const url = new URL(uri);
  if (url.protocol !== "http:") return true;
  return applicationType === "native" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
}

/**
 * The authorization request under the profile (the authorization and PAR columns of
 * src/authorize/steps.ts, before the general PKCE step): PKCE with S256 (§5.3.2.2 item 5), the
 * redirect_uri sent in the (pushed) request (item 6) and not an http one (item 8), and an ID-token
 * alg of §5.4.1 registered by the client. PAR itself is required through pushRequired
 * (src/authorize/request-object.ts, item 3).
 */
export const fapi2AuthorizationRequest: ValidationStep = {
  name: "fapi2_authorization_request",
  codes: ["fapi2_pkce_required", "fapi2_pkce_s256_required", "fapi2_redirect_uri_required", "fapi2_redirect_uri_insecure", "fapi2_client_alg"],
  check({ params, client, config }) {
    if (!underFapi2(config, client)) return;
    ensure(params.has("code_challenge"), "fapi2_pkce_required");
    ensure(params.get("code_challenge_method") === "S256", "fapi2_pkce_s256_required");
    const redirectUri = params.get("redirect_uri");
    ensure(redirectUri !== undefined, "fapi2_redirect_uri_required");
    ensure(isFapi2RedirectUri(redirectUri, client.applicationType), "fapi2_redirect_uri_insecure");
    ensure(isFapi2Alg(client.idTokenSignedResponseAlg), "fapi2_client_alg",
      `This client's id_token_signed_response_alg ${client.idTokenSignedResponseAlg} is not allowed under FAPI 2.0; use ES256 or EdDSA.`);
  },
};

/**
 * The `fapi_profile` registration member: the operator's per-client switch ("fapi2-security",
 * kept in the client's metadata). A client registering itself may not send it — refused rather
 * than ignored, since ignoring it would leave the client believing it is under the profile.
 * Whether the registration is under the profile is returned.
 */
export function registeredProfile(value: unknown, byOperator: boolean, metadata: Record<string, unknown>): boolean {
  if (value === undefined) return false;
  ensure(byOperator, "fapi_profile_operator_only");
  ensure(value === FAPI2_SECURITY, "fapi_profile_malformed");
  metadata.fapi_profile = FAPI2_SECURITY;
  return true;
}

/** What registration validated, as far as the profile's rules read it. */
export interface RegisteredForProfile {
  authMethod: AuthMethod;
  authSigningAlg: string | null;
  idTokenSignedResponseAlg: string;
  redirectUris: readonly string[];
  applicationType: Client["applicationType"];
  metadata: Readonly<Record<string, unknown>>;
}

/**
 * Registration of a client under the profile (src/clients/register.ts; operator and dynamic alike):
 * a FAPI authentication method (§5.3.2.1 items 3, 6), FAPI algs for its assertions, request objects,
 * ID tokens, introspection and UserInfo responses, CIBA signed requests (§5.4.1), and redirect URIs
 * of §5.3.2.2 item 8.
 */
export function checkFapi2Registration(valid: RegisteredForProfile): void {
  ensure(FAPI2_AUTH_METHODS.includes(valid.authMethod), "fapi2_auth_method_metadata");
  for (const [member, alg] of [
    ["token_endpoint_auth_signing_alg", valid.authSigningAlg],
    ["id_token_signed_response_alg", valid.idTokenSignedResponseAlg],
    ["request_object_signing_alg", valid.metadata.request_object_signing_alg],
    ["introspection_signed_response_alg", valid.metadata.introspection_signed_response_alg],
    ["userinfo_signed_response_alg", valid.metadata.userinfo_signed_response_alg],
    ["backchannel_authentication_request_signing_alg", valid.metadata.backchannel_authentication_request_signing_alg],
  ] as const) {
    ensure(alg === null || alg === undefined || isFapi2Alg(alg), "fapi2_alg_metadata", `${member} must be one of ${FAPI2_ALGS.join(", ")} under FAPI 2.0.`);
  }
  const insecure = valid.redirectUris.find((uri) => !isFapi2RedirectUri(uri, valid.applicationType));
  ensure(insecure === undefined, "fapi2_redirect_uri_metadata");
}

/**
 * Discovery under the server-wide profile (§5.3.2.1 item 1: the metadata tells what holds): PAR
 * required, only the FAPI authentication methods, only FAPI algs (no `none` request objects).
 */
export function fapi2Metadata(config: Pick<Config, "fapiProfile">, metadata: Record<string, unknown>): Record<string, unknown> {
  if (config.fapiProfile !== FAPI2_SECURITY) return metadata;
  const out: Record<string, unknown> = { ...metadata, require_pushed_authorization_requests: true };
  for (const [member, value] of Object.entries(metadata)) {
    if (!Array.isArray(value)) continue;
    if (member.endsWith("_auth_methods_supported")) out[member] = value.filter((m) => FAPI2_AUTH_METHODS.includes(m));
    else if (member.endsWith("_alg_values_supported")) out[member] = value.filter(isFapi2Alg);
  }
  return out;
}
