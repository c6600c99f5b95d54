import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { openCode, CODE_NAMESPACE } from "../src/authorize/codes";
import { locateKey } from "../src/replay/replay-cache";
import { clearClientCache } from "../src/clients/store";
import { storedHash } from "./rfc6749-6-helpers";

/**
 * Real storage faults for the storage-faults-*.test.ts files (docs/storage.md "When a store
 * fails"). Nothing is mocked: the Worker runs against the real D1, KV and Durable Object, and the
 * store itself is made to fail, then recovers.
 *
 * - D1, a table unavailable: renamed away and back (`no such table` on every read and write).
 * - D1, one kind of write refused: a trigger that aborts it, so the reads and other writes of the
 *   same request work and the fault lands exactly at that step (D1 answers as for any failed write).
 * - The ReplayGuard object: its `seen` table renamed away (every call fails), or a trigger on it that
 *   refuses a kind of write (a `complete`, a `release`), inside the object (runInDurableObject).
 * - KV cannot be made unavailable from here: Miniflare runs it as an internal service the test
 *   cannot reach (no object to run in, no table to rename). The one real KV failure a test can
 *   cause is a write KV refuses: a key over its 512-byte limit. `plantKvRefusedToken` puts in D1,
 *   where a revocation reads the jtis to list, an access-token jti (256 characters at most, as our
 *   check allows) whose key KV refuses, so that KV write fails for real.
 */

/** Runs `during` with `table` renamed away; always renames it back. */
export async function withTableAway<T>(table: string, during: () => Promise<T>): Promise<T> {
  await env.DB.prepare(`ALTER TABLE ${table} RENAME TO ${table}_away`).run();
  try {
    return await during();
  } finally {
    await env.DB.prepare(`ALTER TABLE ${table}_away RENAME TO ${table}`).run();
    clearClientCache();
  }
}

export type WriteKind = "INSERT" | "UPDATE" | "DELETE";

const refuse = (table: string, kind: WriteKind) => ({
  name: `fault_${table}_${kind.toLowerCase()}`,
  create: `CREATE TRIGGER fault_${table}_${kind.toLowerCase()} BEFORE ${kind} ON ${table} BEGIN SELECT RAISE(ABORT, 'injected storage fault'); END`,
});

/** Runs `during` while D1 refuses every `kind` write to `table`; always lifts the fault. */
export async function withD1Refusing<T>(table: string, kind: WriteKind, during: () => Promise<T>): Promise<T> {
  const trigger = refuse(table, kind);
  await env.DB.prepare(trigger.create).run();
  try {
    return await during();
  } finally {
    await env.DB.prepare(`DROP TRIGGER ${trigger.name}`).run();
  }
}

/** The ReplayGuard object that arbitrates this authorization code. */
export async function codeObject(code: string): Promise<DurableObjectStub<import("../workers/replay-guard").ReplayGuard>> {
  const { jti } = await openCode(code, env.ENCRYPTION_KEY);
  return (await locateKey(env.REPLAY_GUARD, CODE_NAMESPACE, jti)).stub;
}

/** Runs `during` with the object failing: `"all"` its every call, or only the listed kinds of write. */
export async function withObjectFailing<T>(
  stub: DurableObjectStub<import("../workers/replay-guard").ReplayGuard>,
  fault: "all" | WriteKind[],
  during: () => Promise<T>,
): Promise<T> {
  const sql = (statements: string[]) => runInDurableObject(stub, (_instance, state) => {
    for (const statement of statements) state.storage.sql.exec(statement);
  });
  const triggers = fault === "all" ? [] : fault.map((kind) => refuse("seen", kind));
  await sql(fault === "all" ? ["ALTER TABLE seen RENAME TO seen_away"] : triggers.map((t) => t.create));
  try {
    return await during();
  } finally {
    await sql(fault === "all" ? ["ALTER TABLE seen_away RENAME TO seen"] : triggers.map((t) => `DROP TRIGGER ${t.name}`));
  }
}

/** An access-token jti KV refuses to key: 170 three-byte characters, 521 bytes with the list's prefix (KV's limit: 512). */
const kvRefusedJti = "€".repeat(170);

/**
 * Adds to the family of `refreshToken` a token whose access token's listing KV refuses (above), so
 * revoking the family meets a real KV failure; `remove` is the recovery.
 */
export async function plantKvRefusedToken(refreshToken: string): Promise<{ remove(): Promise<void> }> {
  const hash = await storedHash(refreshToken);
  const planted = `planted-${hash}`;
  await env.DB.prepare(
    `INSERT INTO refresh_token_rotations (token_hash, family_id, access_jti, access_exp)
     SELECT ?, family_id, ?, ? FROM refresh_token_rotations WHERE token_hash = ?`,
  ).bind(planted, kvRefusedJti, Math.floor(Date.now() / 1000) + 600, hash).run();
  return {
    async remove() {
      await env.DB.prepare("DELETE FROM refresh_token_rotations WHERE token_hash = ?").bind(planted).run();
    },
  };
}

/** Counts of the rows a client has in the refresh-token tables. */
export async function refreshRows(clientId: string): Promise<{ families: number; tokens: number; rotations: number }> {
  const row = await env.DB.prepare(
    `SELECT (SELECT COUNT(*) FROM refresh_token_families WHERE client_id = ?1) AS families,
            (SELECT COUNT(*) FROM refresh_tokens WHERE client_id = ?1) AS tokens,
            (SELECT COUNT(*) FROM refresh_token_rotations WHERE family_id IN (SELECT family_id FROM refresh_token_families WHERE client_id = ?1)) AS rotations`,
  ).bind(clientId).first<{ families: number; tokens: number; rotations: number }>();
  return row!;
}
