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
  insert(row: SigningKeyRow): Promise<void>;
}

export function d1KeyStore(db: D1Database): KeyStore {
  return {
    async published(now) {
      const { results } = await db
        .prepare("SELECT * FROM signing_keys WHERE state != 'retired' OR expires_at IS NULL OR expires_at > ? ORDER BY created_at")
        .bind(now)
        .all<SigningKeyRow>();
      return results;
    },
    async insert(row) {
      await db
        .prepare(
          `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_sealed, created_at, activated_at, retired_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(row.kid, row.alg, row.state, row.public_jwk, row.private_jwk_sealed, row.created_at, row.activated_at, row.retired_at, row.expires_at)
        .run();
    },
  };
}
