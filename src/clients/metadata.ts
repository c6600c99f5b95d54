import type { Client } from "./model";
import { OPERATOR_METADATA_MEMBERS } from "./register";

/** A client's registration as RFC 7591 §3.2.1 metadata (no secret material). */
export function clientMetadata(client: Client): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...client.metadata,
    client_id: client.clientId,
    client_id_issued_at: client.createdAt,
    token_endpoint_auth_method: client.authMethod,
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    redirect_uris: client.redirectUris,
    scope: client.scope.join(" "),
  };
  if (client.clientName !== null) out.client_name = client.clientName;
  if (client.authSigningAlg !== null) out.token_endpoint_auth_signing_alg = client.authSigningAlg;
  if (client.secretHash !== null) out.client_secret_expires_at = client.secretExpiresAt;
  if (client.jwks !== null) out.jwks = client.jwks;
  if (client.jwksUri !== null) out.jwks_uri = client.jwksUri;
  if (client.tlsSubjectDn !== null) out.tls_client_auth_subject_dn = client.tlsSubjectDn;
  out.application_type = client.applicationType;
  out.id_token_signed_response_alg = client.idTokenSignedResponseAlg;
  if (client.postLogoutRedirectUris.length) out.post_logout_redirect_uris = client.postLogoutRedirectUris;
  if (client.firstParty) out.first_party = true;
  if (client.allowPlainPkce) out.allow_plain_pkce = true;
  if (client.plainOAuth2) out.plain_oauth2 = true;
  if (client.allowedCorsOrigins.length) out.allowed_cors_origins = client.allowedCorsOrigins;
  return out;
}

/** Members only the operator sets (README: operator extensions). */
const OPERATOR_ONLY = ["first_party", "allow_plain_pkce", "plain_oauth2", "allowed_cors_origins", ...OPERATOR_METADATA_MEMBERS];

/**
 * The registration as the client itself sees it at the registration endpoint (RFC 7591 §3.2.1,
 * RFC 7592 §3): every registered value including defaults, without the operator-only extensions
 * (which a client cannot set or change) and without an empty `scope` (no scope beyond the OpenID
 * Connect ones every client may request).
 */
export function selfRegisteredMetadata(client: Client): Record<string, unknown> {
  const out = clientMetadata(client);
  for (const member of OPERATOR_ONLY) delete out[member];
  if (out.scope === "") delete out.scope;
  return out;
}
