import { hex } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";
import type { Begun, Completed, ReplayGuard } from "../../workers/replay-guard";

/**
 * Single-use reservations (client-assertion `jti`s, authorization codes; device codes, CIBA
 * requests, PAR request_uris and DPoP proofs later).
 *
 * KV cannot arbitrate "first use wins": it is eventually consistent and has no compare-and-set.
 * So the atomic step is a Durable Object (`ReplayGuard`): one object per (namespace, shard) owns
 * its keys, and its single-threaded SQLite write decides, for N concurrent callers, exactly one
 * winner. A namespace says how many objects share its keys (see ReplayNamespace). (An earlier KV
 * mirror of each reservation was removed: it never decided anything, and a KV write per token
 * request cost more CPU and money than the whole reservation — docs/storage.md.)
 *
 * Two kinds of use:
 * - **One step** (`reserve`): the value is spent when reserved. For values that buy nothing stored
 *   (a client assertion's `jti`: a client whose request then fails makes a new assertion).
 * - **Two phases** (`begin` → `complete` | `release`): for values exchanged for something issued
 *   (a code for tokens). A reservation not followed by a successful issue is not a use: the holder
 *   releases it, and should the release fail too, its lease runs out (LEASE_SECONDS). Use it
 *   through `issueOnce` (src/replay/issue-once.ts), which does the steps in order.
 */
export interface ReplayCache {
  /** Records `key` in `namespace` until `expiresAt` (Unix s). True on first use, false on any reuse. */
  reserve(namespace: ReplayNamespace, key: string, expiresAt: number): Promise<boolean>;
  /** Holds `key` until `expiresAt` while its exchange runs, unless it is held or used already (see Reservation). */
  begin(namespace: ReplayNamespace, key: string, expiresAt: number): Promise<Reservation>;
  /**
   * Marks a held key used, recording what its use issued (for a later reuse to revoke, RFC 6749
   * §4.1.2). "reused": another caller tried the key meanwhile, so the holder revokes what it
   * issued; "lost": the lease ran out and another caller holds the key now, so the holder undoes
   * what it issued and answers as for a key in use.
   */
  complete(held: Held, issued: string): Promise<Completed>;
  /** Gives a held key back after a failed issue (the holder undid what it wrote first). */
  release(held: Held): Promise<void>;
}

/** A key this caller holds: pass it to `complete` or `release`. */
export interface Held {
  readonly outcome: "held";
  readonly namespace: ReplayNamespace;
  readonly key: string;
  /** Random, per `begin`: only the holder completes or releases. */
  readonly holder: string;
}

/** What `begin` found: held by this caller; held by another (its lease runs); or used, with what the use issued. */
export type Reservation = Held | Exclude<Begun, { outcome: "held" }>;

/**
 * How long a holder keeps a key it neither completed nor released: after that the key counts as
 * released, so a retry of an exchange whose release failed (the object or the network failed)
 * works within the value's lifetime. Issuing takes milliseconds; a holder slower than this loses
 * the key at `complete` ("lost"), so exactly one caller still issues.
 */
export const LEASE_SECONDS = 10;

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

/** The object that owns `key` of `namespace`, and the form the key is stored under there. */
export async function locateKey(guard: DurableObjectNamespace<ReplayGuard>, namespace: ReplayNamespace, key: string) {
  // One object for the namespace: the key itself (callers bound its length), no hash needed.
  if (namespace.shardHexDigits === 0) return { stored: key, stub: guard.get(idFor(guard, `${namespace.name}/`)) };
  const digest = hex(await sha256(`${namespace.name}\u0000${key}`));
  return { stored: digest, stub: guard.get(idFor(guard, `${namespace.name}/${digest.slice(0, namespace.shardHexDigits)}`)) };
}

export function durableReplayCache(guard: DurableObjectNamespace<ReplayGuard>, now: number): ReplayCache {
  return {
    async reserve(namespace, key, expiresAt) {
      const { stored, stub } = await locateKey(guard, namespace, key);
      return stub.reserve(stored, expiresAt, now);
    },
    async begin(namespace, key, expiresAt) {
      const { stored, stub } = await locateKey(guard, namespace, key);
      const holder = crypto.randomUUID();
      const begun = await stub.begin(stored, holder, expiresAt, now + LEASE_SECONDS, now);
      return begun.outcome === "held" ? { outcome: "held", namespace, key, holder } : begun;
    },
    async complete(held, issued) {
      const { stored, stub } = await locateKey(guard, held.namespace, held.key);
      return stub.complete(stored, held.holder, issued);
    },
    async release(held) {
      const { stored, stub } = await locateKey(guard, held.namespace, held.key);
      await stub.release(stored, held.holder);
    },
  };
}
