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

export interface ClientAuthRequest {
  presented: Presented;
  tls: TlsClientCert | undefined;
}

/** One client-authentication method: every method module has this shape. */
export interface ClientAuthMethod {
  readonly name: AuthMethod;
  /** Which request shape this method's credential arrives in. */
  readonly carrier: Carrier;
  /** Resolves when `request` proves possession of `client`'s credential; throws an invalid_client OAuthError otherwise. */
  verify(request: ClientAuthRequest, client: Client, deps: ClientAuthDeps): Promise<void>;
}
