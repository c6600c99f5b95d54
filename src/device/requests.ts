import { randomToken } from "../crypto/encoding";
import { OAuthError } from "../errors/oauth-error";
import { hashForStorage } from "../crypto/hash";
import { polledExchange, type PolledExchange } from "../replay/polled-exchange";
import type { ReplayNamespace } from "../replay/replay-cache";
import type { Decided, DeviceApproval, DeviceAuthorization, DeviceRequestState, Polled } from "../../workers/device-authorization";
import { newUserCode } from "./user-code";

export type { Decided, DeviceApproval, DeviceRequestState, Polled };

/**
 * Device authorization requests (RFC 8628) over the `DeviceAuthorization` Durable Object: one
 * object per request, named by the SHA-256 of its device_code (the code itself is never stored),
 * and one per live user code, naming the request. The request's key (`id`) — the device_code's
 * hash — is what the person's side carries (sealed in its transaction).
 */
export interface DeviceRequests {
  /** A new request: a device_code of 256 random bits and a fresh user code, both live `ttl` seconds. */
  create(request: { clientId: string; scope: string[]; maxAge?: number }, policy: { ttl: number; interval: number }): Promise<{ deviceCode: string; userCode: string }>;
  /** The request a user code (normalized) names, if it is live. */
  findByUserCode(userCode: string): Promise<{ id: string; request: DeviceRequestState } | null>;
  describe(id: string): Promise<DeviceRequestState | null>;
  approve(id: string, approval: DeviceApproval): Promise<Decided>;
  deny(id: string): Promise<Decided>;
  /**
   * A poll of the token endpoint, as the single-use port `issueOnce` (src/replay/issue-once.ts)
   * takes: `begin` is the poll — pending, slow_down, denied, expired, unknown and another client's
   * code come back as `refused` (nothing held); an approval is held by exactly one poll, which
   * `complete`s it or `release`s it after a failed issue.
   */
  exchange(deviceCode: string, clientId: string): Promise<DeviceExchange>;
}

/** One poll's port for issueOnce, and what the poll found (src/replay/polled-exchange.ts). */
export type DeviceExchange = PolledExchange<DeviceApproval>;

/** The request's key: its device_code's hash (base64url SHA-256, 43 characters). */
export const deviceRequestId = (deviceCode: string): Promise<string> => hashForStorage(deviceCode);

const DEVICE_NAMESPACE: ReplayNamespace = { name: "device", shardHexDigits: 0 };

/** Tries for a user code nobody holds: 20^8 codes, so a second try is already rare. */
const USER_CODE_ATTEMPTS = 5;

export function durableDeviceRequests(namespace: DurableObjectNamespace<DeviceAuthorization>, now: number): DeviceRequests {
  const request = (id: string) => namespace.get(namespace.idFromName(`device/${id}`));
  const userCodeObject = async (userCode: string) => namespace.get(namespace.idFromName(`user_code/${await hashForStorage(userCode)}`));

  return {
    async create({ clientId, scope, maxAge }, { ttl, interval }) {
      const deviceCode = randomToken(32);
      const id = await deviceRequestId(deviceCode);
      const expiresAt = now + ttl;
      for (let attempt = 0; attempt < USER_CODE_ATTEMPTS; attempt++) {
        const userCode = newUserCode();
        if (!(await (await userCodeObject(userCode)).claimUserCode(id, expiresAt, now))) continue;
        const started = await request(id).start({ clientId, scope, userCodeHash: await hashForStorage(userCode), expiresAt, interval, ...(maxAge !== undefined && { maxAge }) }, now);
        if (!started) throw new Error("device_code collision");
        return { deviceCode, userCode };
      }
      throw new Error("no free user code after several attempts");
    },
    async findByUserCode(userCode) {
      const id = await (await userCodeObject(userCode)).resolveUserCode(now);
      if (id === null) return null;
      const found = await request(id).describe(now);
      return found === null ? null : { id, request: found };
    },
    describe: (id) => request(id).describe(now),
    approve: (id, approval) => request(id).approve(approval, now),
    deny: (id) => request(id).deny(now),
    async exchange(deviceCode, clientId) {
      const key = await deviceRequestId(deviceCode);
      return polledExchange<DeviceApproval>(request(key), DEVICE_NAMESPACE, key, clientId, now, pollError);
    },
  };
}

/** The token endpoint's answer to a poll that holds nothing (RFC 8628 §3.5; §3.4 for another client's code). */
function pollError(polled: Exclude<Polled, { outcome: "held" | "in_use" | "used" }>): OAuthError {
  switch (polled.outcome) {
    case "pending":
      return new OAuthError("authorization_pending");
    case "slow_down":
      return new OAuthError("slow_down", `Polling too fast: wait at least ${polled.interval} seconds between requests from now on.`);
    case "denied":
      return new OAuthError("device_access_denied");
    case "expired":
      return new OAuthError("expired_token");
    case "wrong_client":
      return new OAuthError("device_code_client_mismatch");
    case "unknown":
      return new OAuthError("device_code_invalid");
  }
}
