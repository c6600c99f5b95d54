import type { Config } from "../config";
import { SERVER_SIGNING_ALGS, type SigningAlg } from "./algorithms";
import { invalidateKeyring } from "./keyring";
import { newSigningKey } from "./provision";
import type { KeyStore, SigningKeyRow } from "./store";

/**
 * Signing-key rotation (issue 4): one function for the operator command (`POST /admin/keys/rotate`)
 * and the scheduled handler. Each algorithm's keys move through
 *
 *   next ──(published ≥ publishDelay)──▶ current ──(next promoted)──▶ retired ──(expires_at)──▶ deleted
 *
 * so that no verifier ever needs a key the JWKS lacks:
 *
 * - A `next` key is in the JWKS from the moment it is stored but signs nothing. Verifiers may cache
 *   the JWKS for its max-age (300 s, src/endpoints/jwks.ts) and isolates reload keys every 60 s
 *   (src/keys/keyring.ts), so a verifier may see a JWKS without a new key for up to 360 s after it
 *   was stored. It is promoted to `current` only after `publishDelay` (default 600 s: 360 s plus a
 *   margin for clock differences and slow refetches).
 * - The old `current` key becomes `retired`: it stays in the JWKS until `expires_at`, the moment
 *   the last token it can have signed has expired. Other isolates keep signing with it until their
 *   next reload (≤ 60 s), and our verifier accepts `exp` up to `clockSkew` late, so
 *   `maxTokenLifetime` = the longest access/ID-token lifetime + 60 s + clock skew.
 * - Retired keys past `expires_at` are deleted (they already left the JWKS at that moment).
 * - An algorithm without a `next` key gets one, so the following run can promote it.
 *
 * How often keys change is the caller's schedule: every run that finds a next key old enough
 * promotes it. Runs may overlap (cron and operator at once): the store's conditional writes
 * (`insertNext`, `promote`) make a losing run change nothing.
 *
 * `force` promotes at once, creating the next key first if there is none. Use it only when a key
 * must stop signing now (suspected compromise): tokens signed by the new key are refused by
 * verifiers whose cached JWKS predates it (up to 360 s) unless they refetch on an unknown `kid`.
 * Without a current key at all (a new deployment), a next key is promoted at once too: nothing
 * can be signed until it is, and no verifier can hold a token.
 */
export interface RotationPolicy {
  /** Seconds a `next` key must have been published before it may sign. */
  readonly publishDelay: number;
  /** Seconds a retired key stays published after it stopped signing (see above). */
  readonly maxTokenLifetime: number;
  /** Promote now, regardless of publishDelay. */
  readonly force?: boolean;
  /** Algorithms to rotate; default every server algorithm. */
  readonly algs?: readonly SigningAlg[];
}

/** JWKS max-age (src/endpoints/jwks.ts) + keyring reload (src/keys/keyring.ts) + 240 s margin. */
export const DEFAULT_PUBLISH_DELAY = 600;
/** How long an isolate may keep signing with a key after another one was promoted (keyring reload). */
export const KEYRING_RELOAD_SECONDS = 60;

/** The policy that follows from the configuration: token lifetimes and clock skew. */
export function rotationPolicy(
  config: Pick<Config, "accessTokenTtl" | "idTokenTtl" | "clockSkew">,
  options: { force?: boolean; publishDelay?: number } = {},
): RotationPolicy {
  return {
    publishDelay: options.publishDelay ?? DEFAULT_PUBLISH_DELAY,
    maxTokenLifetime: Math.max(config.accessTokenTtl, config.idTokenTtl) + KEYRING_RELOAD_SECONDS + config.clockSkew,
    force: options.force ?? false,
  };
}

/** What one run did for one algorithm. */
export interface AlgRotation {
  alg: SigningAlg;
  /** The key that became current in this run, if any. */
  promoted: string | null;
  /** Keys that stopped signing in this run (the previous current key). */
  retired: string[];
  /** Next keys created in this run (two when `force` had to create the key it promoted). */
  created: string[];
  /** The key waiting to sign after this run, and from when it may (created_at + publishDelay). */
  next: { kid: string; promotable_at: number } | null;
}

export interface RotationReport {
  /** Retired keys deleted in this run (past their expires_at). */
  deleted: string[];
  algs: AlgRotation[];
}

export async function rotateSigningKeys(
  store: KeyStore,
  now: number,
  policy: RotationPolicy,
  encryptionKey: string,
): Promise<RotationReport> {
  const deleted = await store.deleteExpired(now);
  const rows = await store.all();
  const algs: AlgRotation[] = [];
  for (const alg of policy.algs ?? SERVER_SIGNING_ALGS) {
    algs.push(await rotateAlg(store, now, policy, encryptionKey, alg, rows.filter((row) => row.alg === alg)));
  }
  invalidateKeyring();
  return { deleted, algs };
}

async function rotateAlg(
  store: KeyStore,
  now: number,
  policy: RotationPolicy,
  encryptionKey: string,
  alg: SigningAlg,
  rows: SigningKeyRow[],
): Promise<AlgRotation> {
  const result: AlgRotation = { alg, promoted: null, retired: [], created: [], next: null };
  const current = rows.filter((row) => row.state === "current");
  const urgent = policy.force === true || current.length === 0;
  let next = rows.find((row) => row.state === "next");
  if (!next && urgent) next = await addNext(store, encryptionKey, now, alg, result);

  if (next && (urgent || now - next.created_at >= policy.publishDelay)) {
    if (await store.promote(next.kid, now, now + policy.maxTokenLifetime)) {
      result.promoted = next.kid;
      result.retired = current.map((row) => row.kid);
    }
    next = undefined;
  }
  next ??= await addNext(store, encryptionKey, now, alg, result);
  if (next) result.next = { kid: next.kid, promotable_at: next.created_at + policy.publishDelay };
  return result;
}

/** Stores a new next key unless a concurrent run already did; the next key either way. */
async function addNext(
  store: KeyStore,
  encryptionKey: string,
  now: number,
  alg: SigningAlg,
  result: AlgRotation,
): Promise<SigningKeyRow | undefined> {
  const row = await newSigningKey(encryptionKey, now, alg, "next");
  if (await store.insertNext(row)) {
    result.created.push(row.kid);
    return row;
  }
  return (await store.all()).find((r) => r.alg === alg && r.state === "next");
}
