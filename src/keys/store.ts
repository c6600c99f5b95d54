import type { SigningAlg } from "./algorithms";

/** Storage port for signing keys (D1 adapter below). */
export type KeyState = "next" | "current" | "retired";

export interface SigningKeyRow {
  kid: string;
  alg: SigningAlg;
  state: KeyState;
  public_jwk: string;
  private_jwk_sealed: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  expires_at: number | null;
}

export interface KeyStore {
  /** Keys that belong in the JWKS: next, current, and retired ones not yet expired. */
  published(now: number): Promise<SigningKeyRow[]>;
  /** Every stored key, expired retired ones included, oldest first (operator listing, rotation). */
  all(): Promise<SigningKeyRow[]>;
  insert(row: SigningKeyRow): Promise<void>;
  /**
   * Inserts a `next` key unless `row.alg` already has one, in one statement, so two rotations
   * racing (cron and operator) never leave two next keys. Resolves whether the row was written.
   */
  insertNext(row: SigningKeyRow): Promise<boolean>;
  /**
   * In one transaction: the `next` key `kid` becomes `current` (activated_at = now), and every
   * other `current` key of its alg becomes `retired` with `retired_at = now` and the given
   * `expires_at`. The second step runs only if `kid` is current after the first, so a stale caller
   * (whose key was promoted and then retired by another rotation since) changes nothing. Resolves
   * whether `kid` was promoted by this call.
   */
  promote(kid: string, now: number, retiredExpiresAt: number): Promise<boolean>;
  /** Deletes retired keys whose expires_at has passed; resolves their kids. */
  deleteExpired(now: number): Promise<string[]>;
}

export function d1KeyStore(db: D1Database): KeyStore {
  const insertSql = `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_sealed, created_at, activated_at, retired_at, expires_at)`;
  const values = (row: SigningKeyRow) => [
    row.kid, row.alg, row.state, row.public_jwk, row.private_jwk_sealed, row.created_at, row.activated_at, row.retired_at, row.expires_at,
  ];
  return {
    async published(now) {
      const { results } = await db
        .prepare("SELECT * FROM signing_keys WHERE state != 'retired' OR expires_at IS NULL OR expires_at > ? ORDER BY created_at")
        .bind(now)
        .all<SigningKeyRow>();
      return results;
    },
    async all() {
      const { results } = await db.prepare("SELECT * FROM signing_keys ORDER BY created_at, kid").all<SigningKeyRow>();
      return results;
    },
    async insert(row) {
      await db.prepare(`${insertSql} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).bind(...values(row)).run();
    },
    async insertNext(row) {
      if (row.state !== "next") throw new Error("insertNext takes a next key");
      const result = await db
        .prepare(
          `${insertSql} SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
           WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = ? AND state = 'next')`,
        )
        .bind(...values(row), row.alg)
        .run();
      return result.meta.changes === 1;
    },
    async promote(kid, now, retiredExpiresAt) {
      const [promoted] = await db.batch([
        db.prepare("UPDATE signing_keys SET state = 'current', activated_at = ? WHERE kid = ? AND state = 'next'").bind(now, kid),
        db
          .prepare(
            `UPDATE signing_keys SET state = 'retired', retired_at = ?1, expires_at = ?2
             WHERE state = 'current' AND kid != ?3
               AND alg = (SELECT alg FROM signing_keys WHERE kid = ?3 AND state = 'current')`,
          )
          .bind(now, retiredExpiresAt, kid),
      ]);
      return (promoted?.meta.changes ?? 0) === 1;
    },
    async deleteExpired(now) {
      const { results } = await db
        .prepare("DELETE FROM signing_keys WHERE state = 'retired' AND expires_at IS NOT NULL AND expires_at <= ? RETURNING kid")
        .bind(now)
        .all<{ kid: string }>();
      return results.map((r) => r.kid);
    },
  };
}
