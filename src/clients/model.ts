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
  metadata: Record<string, unknown>;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Public clients hold no credential (RFC 6749 §2.1). */
export const isPublic = (client: Client): boolean => client.authMethod === "none";
