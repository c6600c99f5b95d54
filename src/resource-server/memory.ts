/**
 * Small per-isolate memories of the kit: DPoP proof `jti`s seen (RFC 9449 §11.1) and introspection
 * answers (RFC 7662). A resource server outside Latchkey has none of Latchkey's Durable Objects, so
 * by default these live in the isolate: a proof replayed to ANOTHER isolate of the Worker is not
 * caught (the proof's short `iat` window and the `ath` binding to one token still bound it). A
 * Worker that needs more passes its own `replay` store (e.g. a Durable Object) to the kit.
 */

/** Single use of a key until a time, as the kit needs it for DPoP proofs. */
export interface ReplayStore {
  /** True the first time `key` is seen before `expiresAt` (Unix s); false on any reuse. */
  reserve(namespace: { name: string }, key: string, expiresAt: number): Promise<boolean>;
}

/**
 * A map with expiries and a size bound: when full, expired entries go first, then the oldest
 * (insertion order), so an attacker's flood of fresh entries costs memory up to the bound only.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
      for (const k of this.entries.keys()) {
        if (this.entries.size < this.maxEntries) break;
        this.entries.delete(k);
      }
    }
    this.entries.set(key, { value, expiresAt });
  }
}

/** The default ReplayStore: this isolate's memory (see above), at most `maxEntries` proofs. */
export function memoryReplayStore(now: () => number, maxEntries = 10_000): ReplayStore {
  const seen = new ExpiringMap<true>(maxEntries);
  return {
    async reserve(namespace, key, expiresAt) {
      const at = now();
      const id = `${namespace.name} ${key}`;
      if (seen.get(id, at) !== undefined) return false;
      seen.set(id, true, expiresAt, at);
      return true;
    },
  };
}
