import { hex } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";
import type { ReplayGuard } from "../../workers/replay-guard";

/**
 * Single-use reservations (client-assertion `jti`s, authorization codes; DPoP proofs later).
 *
 * KV cannot arbitrate "first use wins": it is eventually consistent and has no compare-and-set.
 * So the atomic step is a Durable Object (`ReplayGuard`): one object per (namespace, shard) owns
 * its keys, and its single-threaded SQLite write decides, for N concurrent callers, exactly one
 * winner. A namespace says how many objects share its keys (see ReplayNamespace). (An earlier KV
 * mirror of each reservation was removed: it never decided anything, and a KV write per token
 * request cost more CPU and money than the whole reservation — docs/storage.md.)
 */
export interface ReplayCache {
  /** Records `key` in `namespace` until `expiresAt` (Unix s). True on first use, false on any reuse. */
  reserve(namespace: ReplayNamespace, key: string, expiresAt: number): Promise<boolean>;
  /**
   * Records what the winning reservation produced, for whoever comes second (code reuse, RFC 6749
   * §4.1.2). Resolves true if a second reservation was already attempted: the winner must then
   * revoke what it produced.
   */
  attach(namespace: ReplayNamespace, key: string, data: string): Promise<boolean>;
  attached(namespace: ReplayNamespace, key: string): Promise<string | null>;
}

/**
 * A family of single-use keys, and over how many objects its keys are spread: 16^shardHexDigits,
 * chosen by the first hex digits of the key's SHA-256 (under which a sharded namespace also stores
 * the key; a one-object namespace stores the key as given). One object serves on the order of a
 * thousand requests a second; writes that arrive together are committed together.
 */
export interface ReplayNamespace {
  readonly name: string;
  readonly shardHexDigits: 0 | 1 | 2;
}

/**
 * Object ids by name, kept for the isolate's life: `idFromName` hashes the name on every call, and
 * an id (unlike a stub) is a plain value that may outlive the request. Bounded: cleared when full.
 */
const idsByNamespace = new WeakMap<DurableObjectNamespace<ReplayGuard>, Map<string, DurableObjectId>>();
const MAX_IDS = 4096;

function idFor(guard: DurableObjectNamespace<ReplayGuard>, name: string): DurableObjectId {
  let ids = idsByNamespace.get(guard);
  if (ids === undefined) idsByNamespace.set(guard, (ids = new Map()));
  let id = ids.get(name);
  if (id === undefined) {
    if (ids.size >= MAX_IDS) ids.clear();
    id = guard.idFromName(name);
    ids.set(name, id);
  }
  return id;
}

export function durableReplayCache(guard: DurableObjectNamespace<ReplayGuard>, now: number): ReplayCache {
  const locate = async (namespace: ReplayNamespace, key: string) => {
    // One object for the namespace: the key itself (callers bound its length), no hash needed.
    if (namespace.shardHexDigits === 0) return { stored: key, stub: guard.get(idFor(guard, `${namespace.name}/`)) };
    const digest = hex(await sha256(`${namespace.name}\u0000${key}`));
    return { stored: digest, stub: guard.get(idFor(guard, `${namespace.name}/${digest.slice(0, namespace.shardHexDigits)}`)) };
  };
  return {
    async attach(namespace, key, data) {
      const { stored, stub } = await locate(namespace, key);
      return stub.attach(stored, data);
    },
    async attached(namespace, key) {
      const { stored, stub } = await locate(namespace, key);
      return stub.attached(stored);
    },
    async reserve(namespace, key, expiresAt) {
      const { stored, stub } = await locate(namespace, key);
      return stub.reserve(stored, expiresAt, now);
    },
  };
}
