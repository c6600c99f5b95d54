import type { JWTPayload, ProtectedHeaderParameters } from "jose";
import type { Client, AuthMethod } from "../clients/model";
import type { ClientStore } from "../clients/store";
import type { Config } from "../config";
import type { ReplayCache } from "../replay/replay-cache";
import type { CompactJws } from "../tokens/jws";

/**
 * How the request carried the client's credential. Inferred from the request's shape alone
 * (node-oidc-provider's approach): the registered method must then agree with it.
 */
export type Presented =
  | { carrier: "basic"; clientId: string; secret: string }
  | { carrier: "post"; clientId: string; secret: string }
  | { carrier: "assertion"; clientId: string; jws: CompactJws; header: ProtectedHeaderParameters; claims: JWTPayload }
  /** Only a client_id: public clients, and mTLS clients whose credential is the TLS certificate. */
  | { carrier: "bare"; clientId: string };

export type Carrier = Presented["carrier"];

/** The TLS client certificate as Cloudflare's edge reports it (request.cf.tlsClientAuth). */
export type TlsClientCert = IncomingRequestCfPropertiesTLSClientAuth | IncomingRequestCfPropertiesTLSClientAuthPlaceholder;

export interface ClientAuthDeps {
  config: Config;
  clients: ClientStore;
  replay: ReplayCache;
  encryptionKey: string;
  now: number;
}

/**
 * Which `aud` values a client assertion may carry (RFC 7523 §3 item 3, OIDC Core §9):
 * - "issuer-or-endpoint" (the default): the issuer, or the URL of the endpoint this request calls,
 *   exactly as discovery advertises it (token, revocation, introspection …) — never another
 *   endpoint's URL, so an assertion made for one endpoint cannot be spent at another;
 * - "issuer": the issuer only, as a single string (FAPI 2.0 Security Profile §5.3.2.1,
 *   draft-ietf-oauth-rfc7523bis), for the FAPI 2.0 profile.
 */
export type AudienceRule = "issuer-or-endpoint" | "issuer";

export interface AssertionAudience {
  /** The URL of the endpoint this request calls, as advertised in discovery (RFC 8414 §2). */
  endpoint: string;
  rule: AudienceRule;
}

export interface ClientAuthRequest {
  presented: Presented;
  tls: TlsClientCert | undefined;
  audience: AssertionAudience;
}

/** One client-authentication method: every method module has this shape. */
export interface ClientAuthMethod {
  readonly name: AuthMethod;
  /** Which request shape this method's credential arrives in. */
  readonly carrier: Carrier;
  /** Resolves when `request` proves possession of `client`'s credential; throws an invalid_client OAuthError otherwise. */
  verify(request: ClientAuthRequest, client: Client, deps: ClientAuthDeps): Promise<void>;
}
