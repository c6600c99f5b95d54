import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import { OAuthError } from "../errors/oauth-error";
import { polledExchange, type PolledExchange } from "../replay/polled-exchange";
import type { ReplayNamespace } from "../replay/replay-cache";
import type { CibaDecided, CibaPolled, CibaRequest } from "../../workers/ciba-request";
import type { CibaApproval, CibaRequestState } from "./model";

export type { CibaDecided, CibaPolled };

/**
 * CIBA authentication requests over the `CibaRequest` Durable Object: one object per request,
 * named by the SHA-256 of its auth_req_id (the id itself is never stored), and one per approval
 * page handle, naming the request. The handle is a separate random value mailed to the person;
 * the auth_req_id never appears on the person's side.
 */
export interface CibaRequests {
  /** A new request: an auth_req_id and a page handle of 256 random bits each, live until `expiresAt`. */
  create(request: Omit<CibaRequestState, "id" | "state" | "createdAt">): Promise<{ authReqId: string; handle: string; id: string }>;
  /** The page handles of the live requests naming person `sub` (their account page lists them). */
  pendingFor(sub: string): Promise<string[]>;
  /** The request a page handle names, if it is live. */
  findByHandle(handle: string): Promise<CibaRequestState | null>;
  approve(id: string, sub: string, approval: CibaApproval): Promise<CibaDecided>;
  deny(id: string, sub: string): Promise<CibaDecided>;
  /** A poll of the token endpoint, as the single-use port `issueOnce` takes (see src/device/requests.ts). */
  exchange(authReqId: string, clientId: string): Promise<CibaExchange>;
}

export type CibaExchange = PolledExchange<CibaApproval>;

const CIBA_NAMESPACE: ReplayNamespace = { name: "ciba", shardHexDigits: 0 };

export function durableCibaRequests(namespace: DurableObjectNamespace<CibaRequest>, now: number): CibaRequests {
  const request = (id: string) => namespace.get(namespace.idFromName(`ciba/${id}`));
  const personObject = (sub: string) => namespace.get(namespace.idFromName(`person/${sub}`));
  const handleObject = async (handle: string) => namespace.get(namespace.idFromName(`handle/${await hashForStorage(handle)}`));

  return {
    async create(input) {
      // CIBA §7.3: auth_req_id SHOULD have at least 128 bits of entropy (160 here is the floor; 256 used).
      const authReqId = randomToken(32);
      const handle = randomToken(32);
      const id = await hashForStorage(authReqId);
      if (!(await (await handleObject(handle)).claimHandle(id, input.expiresAt))) throw new Error("ciba handle collision");
      // Ping and push callbacks name the auth_req_id (src/ciba/delivery.ts); poll requests keep only its hash.
      const kept = input.deliveryMode === "poll" ? {} : { authReqId };
      const started = await request(id).start({ ...input, ...kept, id, state: "pending", createdAt: now });
      if (!started) throw new Error("auth_req_id collision");
      await personObject(input.sub).addPending(handle, input.expiresAt);
      return { authReqId, handle, id };
    },
    pendingFor: (sub) => personObject(sub).listPending(now),
    async findByHandle(handle) {
      if (handle.length > 64) return null;
      const id = await (await handleObject(handle)).resolveHandle(now);
      return id === null ? null : request(id).describe(now);
    },
    approve: (id, sub, approval) => request(id).approve(sub, approval, now),
    deny: (id, sub) => request(id).deny(sub, now),
    async exchange(authReqId, clientId) {
      const key = await hashForStorage(authReqId);
      return polledExchange<CibaApproval>(request(key), CIBA_NAMESPACE, key, clientId, now, pollError);
    },
  };
}

/** The token endpoint's answer to a poll that holds nothing (CIBA §11). */
function pollError(polled: Exclude<CibaPolled, { outcome: "held" | "in_use" | "used" }>): OAuthError {
  switch (polled.outcome) {
    case "pending":
      return new OAuthError("ciba_authorization_pending");
    case "slow_down":
      return new OAuthError("ciba_slow_down", `Polling too fast: wait at least ${polled.interval} seconds between requests from now on.`);
    case "denied":
      return new OAuthError("ciba_access_denied");
    case "expired":
      return new OAuthError("ciba_expired_token");
    case "wrong_client":
      return new OAuthError("auth_req_id_client_mismatch");
    case "unknown":
      return new OAuthError("auth_req_id_invalid");
  }
}
