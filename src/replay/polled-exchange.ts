import { OAuthError } from "../errors/oauth-error";
import type { Held, ReplayCache, ReplayNamespace } from "./replay-cache";
import { LEASE_SECONDS } from "./replay-cache";

/** What a polled request's object answers to one poll (the device grant's and CIBA's objects). */
export type PollOutcome<A> =
  | { outcome: "pending" }
  | { outcome: "slow_down"; interval: number }
  | { outcome: "denied" }
  | { outcome: "expired" }
  | { outcome: "unknown" }
  | { outcome: "wrong_client" }
  | { outcome: "in_use" }
  | { outcome: "used" }
  | { outcome: "held"; approval: A; scope: string[] };

/** The object's methods the exchange calls (workers/device-authorization.ts, workers/ciba-request.ts). */
export interface PolledObject<A> {
  poll(clientId: string, holder: string, leaseUntil: number, now: number): Promise<PollOutcome<A>>;
  complete(holder: string): Promise<"done" | "lost">;
  release(holder: string): Promise<void>;
}

/** One poll's port for issueOnce, and what the poll found. */
export interface PolledExchange<A> {
  port: ReplayCache;
  key: string;
  /** What `begin` found, once it ran (the approval and scope when it holds the request). */
  polled(): PollOutcome<A> | undefined;
}

/**
 * A poll of a request held in its own Durable Object (RFC 8628 §3.4–3.5, CIBA §10.1, §11), as the
 * single-use port `issueOnce` (src/replay/issue-once.ts) takes: `begin` is the poll — anything but
 * an approval comes back as the grant's error (`refuse`: nothing held); an approval is held by
 * exactly one poll, which `complete`s it or `release`s it after a failed issue.
 */
export function polledExchange<A>(
  stub: PolledObject<A>, namespace: ReplayNamespace, key: string, clientId: string, now: number,
  refuse: (polled: Exclude<PollOutcome<A>, { outcome: "held" | "in_use" | "used" }>) => OAuthError,
): PolledExchange<A> {
  let polled: PollOutcome<A> | undefined;
  const port: ReplayCache = {
    reserve: () => Promise.reject(new Error("polled requests are exchanged in two phases")),
    async begin() {
      const holder = crypto.randomUUID();
      polled = await stub.poll(clientId, holder, now + LEASE_SECONDS, now);
      switch (polled.outcome) {
        case "held":
          return { outcome: "held", namespace, key, holder };
        case "in_use":
          return { outcome: "in_use" };
        case "used":
          return { outcome: "used", record: null };
        default:
          throw refuse(polled);
      }
    },
    async complete(held: Held) {
      return (await stub.complete(held.holder)) === "done" ? "done" : "lost";
    },
    async release(held: Held) {
      await stub.release(held.holder);
    },
  };
  return { port, key, polled: () => polled };
}
