import type { JSONWebKeySet } from "jose";

/** Client authentication methods (RFC 7591 §2, OIDC Core §9, RFC 8705 §2). */
export const AUTH_METHODS = [
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
  "private_key_jwt",
  "tls_client_auth",
  "self_signed_tls_client_auth",
  "none",
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export const isAuthMethod = (value: unknown): value is AuthMethod =>
  typeof value === "string" && (AUTH_METHODS as readonly string[]).includes(value);
/** The methods that authenticate with a client secret the server issues (RFC 6749 §2.3.1, OIDC Core §9). */
export const SECRET_METHODS: readonly AuthMethod[] = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];

export interface Client {
  clientId: string;
  clientName: string | null;
  authMethod: AuthMethod;
  /** Required `alg` of client assertions (RFC 7591 token_endpoint_auth_signing_alg), if registered. */
  authSigningAlg: string | null;
  secretHash: string | null;
  secretSealed: string | null;
  /** Unix seconds, 0 = never. */
  secretExpiresAt: number;
  grantTypes: string[];
  responseTypes: string[];
  redirectUris: string[];
  /** Scopes this client may be granted. */
  scope: string[];
  jwks: JSONWebKeySet | null;
  jwksUri: string | null;
  tlsSubjectDn: string | null;
  /** RFC 7591 / OIDC Registration application_type: native apps get RFC 8252 redirect rules. */
  applicationType: "web" | "native";
  /** OIDC Registration id_token_signed_response_alg (default RS256). */
  idTokenSignedResponseAlg: string;
  /** Extension: a first-party client skips the consent page. */
  firstParty: boolean;
  /** Extension: the client may use PKCE `plain` (off by default, RFC 9700 §2.1.1). */
  allowPlainPkce: boolean;
  /** Extension: plain OAuth 2.0 client; `openid` is not required in its requests. */
  plainOAuth2: boolean;
  /** Extension: browser origins allowed to call the token endpoint beyond those of redirect_uris. */
  allowedCorsOrigins: string[];
  /** OIDC RP-Initiated Logout post_logout_redirect_uris. */
  postLogoutRedirectUris: string[];
  /** Other registered metadata (RFC 7591 §2) kept as given. */
  metadata: Record<string, unknown>;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Public clients hold no credential (RFC 6749 §2.1). */
export const isPublic = (client: Client): boolean => client.authMethod === "none";

/** The client's registered `backchannel_logout_uri` (OIDC Back-Channel Logout §2.2), kept in its metadata; undefined when it has none. */
export function backChannelLogoutUri(client: Client): string | undefined {
  const uri = client.metadata.backchannel_logout_uri;
  return typeof uri === "string" ? uri : undefined;
}

/** The alg of the client's JWT introspection responses (RFC 9701 §6 introspection_signed_response_alg, kept in its metadata; default RS256). */
export function introspectionSignedResponseAlg(client: Client): string {
  const alg = client.metadata.introspection_signed_response_alg;
  return typeof alg === "string" ? alg : "RS256";
}

/** The alg of the client's signed UserInfo responses (OIDC Registration §2 userinfo_signed_response_alg, kept in its metadata); undefined: JSON. */
export function userinfoSignedResponseAlg(client: Client): string | undefined {
  const alg = client.metadata.userinfo_signed_response_alg;
  return typeof alg === "string" ? alg : undefined;
}
