import { hex } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";
import type { ReplayGuard } from "../../workers/replay-guard";

/**
 * Single-use reservations (client-assertion `jti`s, authorization codes; DPoP proofs later).
 *
 * KV cannot arbitrate "first use wins": it is eventually consistent and has no compare-and-set.
 * So the atomic step is a Durable Object (`ReplayGuard`): one object per (namespace, shard) owns
 * its keys, and its single-threaded SQLite write decides, for N concurrent callers, exactly one
 * winner. (An earlier KV mirror of each reservation was removed: it never decided anything, and a
 * KV write per token request cost more CPU and money than the whole reservation — docs/storage.md.)
 */
export interface ReplayCache {
  /** Records `key` in `namespace` until `expiresAt` (Unix s). True on first use, false on any reuse. */
  reserve(namespace: string, key: string, expiresAt: number): Promise<boolean>;
  /**
   * Records what the winning reservation produced, for whoever comes second (code reuse, RFC 6749
   * §4.1.2). Resolves true if a second reservation was already attempted: the winner must then
   * revoke what it produced.
   */
  attach(namespace: string, key: string, data: string): Promise<boolean>;
  attached(namespace: string, key: string): Promise<string | null>;
}

/** Shards per namespace: spreads one busy client's reservations over 16 objects. */
const SHARD_HEX_DIGITS = 1;

export function durableReplayCache(guard: DurableObjectNamespace<ReplayGuard>, now: number): ReplayCache {
  const locate = async (namespace: string, key: string) => {
    const digest = hex(await sha256(`${namespace}\u0000${key}`));
    return { digest, stub: guard.get(guard.idFromName(`${namespace}/${digest.slice(0, SHARD_HEX_DIGITS)}`)) };
  };
  return {
    async attach(namespace, key, data) {
      const { digest, stub } = await locate(namespace, key);
      return stub.attach(digest, data);
    },
    async attached(namespace, key) {
      const { digest, stub } = await locate(namespace, key);
      return stub.attached(digest);
    },
    async reserve(namespace, key, expiresAt) {
      const { digest, stub } = await locate(namespace, key);
      return stub.reserve(digest, expiresAt, now);
    },
  };
}
