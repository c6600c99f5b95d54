/**
 * CIBA (OpenID Connect Client-Initiated Backchannel Authentication Core 1.0): the shapes the
 * request's Durable Object (workers/ciba-request.ts), the backchannel authentication endpoint, the
 * poll grant and the delivery modes share. This file is the contract between the core (poll mode,
 * the person's side) and delivery (ping and push, src/ciba/delivery.ts).
 */

/** CIBA §10.1: the grant type a client polls with, and registers in `grant_types`. */
export const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

/** CIBA §5: how the client learns of the outcome. Until the delivery metadata lands, every client is `poll`. */
export type DeliveryMode = "poll" | "ping" | "push";

/** Who approved a request, as the tokens bind it (the same shape as the device grant's approval). */
export interface CibaApproval {
  sub: string;
  authTime: number;
  sid: string;
  amr: string[];
  grantId: string;
}

/**
 * One authentication request (CIBA §7.1), as its object holds it while it lives. The auth_req_id
 * itself is never stored: the object is named by its hash (`id`), and the person's page reaches it
 * through a separate random handle (`handleHash` is that handle's hash), never through the id.
 */
export interface CibaRequestState {
  /** The request's key: base64url SHA-256 of the auth_req_id. */
  id: string;
  clientId: string;
  /** The person the request names (resolved from the hint at the endpoint). */
  sub: string;
  scope: string[];
  /** CIBA §7.1 binding_message, shown to the person (printable, bounded). */
  bindingMessage?: string;
  /** CIBA §7.1 acr_values, as sent. */
  acrValues?: string[];
  /** CIBA §7.1 client_notification_token: the bearer the ping/push callback carries (ping and push only). */
  clientNotificationToken?: string;
  /**
   * The auth_req_id itself, kept for ping and push requests only: their callbacks name it (CIBA
   * §10.2, §10.3; src/ciba/delivery.ts). Poll requests keep only its hash (`id`).
   */
  authReqId?: string;
  /** The client's delivery mode when the request was made (CIBA §5). */
  deliveryMode: DeliveryMode;
  state: "pending" | "approved" | "denied" | "consumed";
  createdAt: number;
  expiresAt: number;
  /** The poll interval in seconds now (CIBA §7.3; grows by 5 s at each slow_down). */
  interval: number;
}

/** How a request was decided (or ended without a decision), as delivery tells the client. */
export type CibaOutcome =
  | { outcome: "approved"; approval: CibaApproval }
  | { outcome: "denied" }
  | { outcome: "expired" };

/**
 * The port the request's object calls once the request is decided or expires (CIBA §10.2 ping,
 * §10.3 push). Poll mode needs nothing: `pollOnly` does nothing. The delivery module implements
 * it for ping and push (src/ciba/delivery.ts); a failed callback never breaks the poll, so
 * `notify` should not throw (the object logs and ignores a throw).
 */
export interface CibaDelivery {
  notify(request: CibaRequestState, outcome: CibaOutcome): Promise<void>;
}

/** Poll mode's delivery: the client asks the token endpoint; nothing is sent. */
export const pollOnly: CibaDelivery = {
  async notify() {},
};
