import type { JWTPayload, ProtectedHeaderParameters } from "jose";
import { decodeJsonObject } from "../crypto/encoding";
import { decodeJws } from "../tokens/jws";
import type { Client } from "../clients/model";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { Params } from "../http/form";
import { parseBasic } from "./basic";
import { clientSecretJwt, privateKeyJwt } from "./methods/jwt";
import { none } from "./methods/none";
import { clientSecretBasic, clientSecretPost } from "./methods/secret";
import { selfSignedTlsClientAuth, tlsClientAuth } from "./methods/tls";
import type { AudienceRule, ClientAuthDeps, ClientAuthMethod, Presented, TlsClientCert } from "./types";
import type { AuthMethod } from "../clients/model";
import { fapi2ClientAuthentication } from "../profiles/fapi2";

/**
 * Client authentication: one dispatcher for every endpoint that authenticates clients (token,
 * revocation, introspection; PAR, device and CIBA later). Each passes its own URL, which an
 * assertion may name as its `aud` (RFC 7523 §3).
 *
 * 1. Infer the mechanism from the request's shape; more than one is `invalid_request` (RFC 6749 §2.3).
 * 2. Identify the client from that mechanism; a body `client_id` must agree with it.
 * 3. Require the client's registered method (RFC 7591 `token_endpoint_auth_method`).
 * 4. Let that method's module verify the credential.
 */
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  clientSecretBasic,
  clientSecretPost,
  clientSecretJwt,
  privateKeyJwt,
  tlsClientAuth,
  selfSignedTlsClientAuth,
  none,
];
const byName = new Map<AuthMethod, ClientAuthMethod>(CLIENT_AUTH_METHODS.map((m) => [m.name, m]));

export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface ClientAuthInput {
  /** The Authorization header, if any. */
  authorization: string | null;
  params: Params;
  tls: TlsClientCert | undefined;
  /** The URL of the endpoint being called, as discovery advertises it: an accepted assertion `aud`. */
  endpoint: string;
  /** Which assertion `aud` values are accepted; default "issuer-or-endpoint" (types.ts AudienceRule). */
  audienceRule?: AudienceRule;
}

export interface AuthenticatedClient {
  client: Client;
  method: AuthMethod;
}

export function presentedCredentials({ authorization, params }: ClientAuthInput): Presented {
  const found: Presented[] = [];
  if (authorization !== null) {
    const [scheme = "", credentials = ""] = authorization.trim().split(/\s+/, 2);
    if (scheme.toLowerCase() !== "basic") throw new OAuthError("unsupported_auth_scheme");
    found.push({ carrier: "basic", ...parseBasic(credentials) });
  }
  const bodyClientId = params.get("client_id");
  const secret = params.get("client_secret");
  if (secret !== undefined) {
    ensure(bodyClientId !== undefined, "missing_parameter", "client_secret_post needs the client_id parameter.");
    found.push({ carrier: "post", clientId: bodyClientId, secret });
  }
  const assertionType = params.get("client_assertion_type");
  const assertion = params.get("client_assertion");
  if (assertionType !== undefined || assertion !== undefined) found.push(parseAssertion(assertionType, assertion, bodyClientId));

  if (found.length > 1) throw new OAuthError("multiple_client_auth_methods");
  const [presented] = found;
  if (!presented) {
    if (bodyClientId === undefined) throw new OAuthError("missing_client_credentials");
    return { carrier: "bare", clientId: bodyClientId };
  }
  if (bodyClientId !== undefined && bodyClientId !== presented.clientId) throw new OAuthError("client_id_mismatch");
  return presented;
}

function parseAssertion(type: string | undefined, jwt: string | undefined, bodyClientId: string | undefined): Presented {
  ensure(type === JWT_BEARER_ASSERTION, "unsupported_client_assertion_type",
    type === undefined ? "client_assertion needs client_assertion_type." : undefined);
  ensure(jwt !== undefined, "client_assertion_missing");
  const jws = decodeJws(jwt);
  ensure(jws !== undefined, "client_assertion_invalid_jwt", "The client_assertion must be a JWS in compact form.");
  const header = jws.header as ProtectedHeaderParameters;
  const claims = decodeJsonObject(jws.payload) as JWTPayload | undefined;
  ensure(claims !== undefined, "client_assertion_invalid_jwt");
  ensure(typeof header.alg === "string" && header.alg !== "none", "client_assertion_invalid_signature_algorithm",
    "Unsigned client assertions are not accepted.");
  // The client is named by `sub` (RFC 7523 §3); fall back to the body client_id so the
  // error names the real failure (a missing or wrong sub) instead of "unknown client".
  const clientId = typeof claims.sub === "string" ? claims.sub : bodyClientId;
  ensure(clientId !== undefined, "client_assertion_invalid_subject");
  return { carrier: "assertion", clientId, jws, header, claims };
}

export async function authenticateClient(input: ClientAuthInput, deps: ClientAuthDeps): Promise<AuthenticatedClient> {
  const presented = presentedCredentials(input);
  ensure(/^[\x21-\x7e]{1,128}$/.test(presented.clientId), "invalid_client_id");
  const client = await deps.clients.get(presented.clientId);
  ensure(client !== null, "invalid_client_id");
  ensure(!client.disabled, "client_disabled");
  // FAPI 2.0 (src/profiles/fapi2.ts): its methods and algs only, and the issuer-only assertion aud.
  const profileRule = fapi2ClientAuthentication(deps.config, client, presented);
  const method = byName.get(client.authMethod);
  ensure(method !== undefined, "invalid_token_endpoint_auth_method");
  if (method.carrier !== presented.carrier) {
    throw new OAuthError(
      presented.carrier === "bare" ? "missing_client_credentials" : "invalid_token_endpoint_auth_method",
      `This client is registered for ${client.authMethod}.`,
    );
  }
  // `tls` stays a getter: only the mTLS methods read it (request.cf is built on access).
  const audience = { endpoint: input.endpoint, rule: profileRule ?? input.audienceRule ?? "issuer-or-endpoint" };
  await method.verify({ presented, get tls() { return input.tls; }, audience }, client, deps);
  return { client, method: method.name };
}
