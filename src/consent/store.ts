import { randomToken } from "../crypto/encoding";

/** What a person granted a client. */
export interface Consent {
  userId: string;
  clientId: string;
  /** Changes when consent is withdrawn and given again; tokens carry it. */
  grantId: string;
  scope: string[];
  /** The RFC 8707 resources the person consented to the client using (empty: none). */
  resources: string[];
  createdAt: number;
  updatedAt: number;
}

/** Storage port for consent. */
export interface ConsentStore {
  get(userId: string, clientId: string): Promise<Consent | null>;
  /** Adds `scope` and `resources` to the stored consent (creating it, with a new grant id, if there is none). */
  grant(userId: string, clientId: string, scope: string[], now: number, resources?: readonly string[]): Promise<Consent>;
  revoke(userId: string, clientId: string): Promise<void>;
  /** Everything a person granted, one consent per client, oldest first. */
  listForUser(userId: string): Promise<Consent[]>;
  /**
   * Withdraws the person's grant to a client in one transaction: the consent row is deleted and the
   * grant's refresh tokens (and their families, src/tokens/refresh-token.ts) are revoked. Its access
   * tokens then fail at UserInfo and introspection, whose checks find no consent with their `gid`.
   * Resolves the withdrawn consent, or null when there was none.
   */
  withdraw(userId: string, clientId: string, now: number): Promise<Consent | null>;
}

export interface ConsentRow {
  user_id: string;
  client_id: string;
  grant_id: string;
  scope: string;
  /** JSON array of resource URIs; NULL = none (migrations/0008_consent_resources.sql). */
  resources: string | null;
  created_at: number;
  updated_at: number;
}

export const consentFromRow = (r: ConsentRow): Consent => ({
  userId: r.user_id,
  clientId: r.client_id,
  grantId: r.grant_id,
  scope: r.scope ? r.scope.split(" ") : [],
  resources: r.resources ? (JSON.parse(r.resources) as string[]) : [],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * Consent covers a request only when every requested scope was granted (source document) and every
 * requested resource too (RFC 8707 §2: the page names where the access will be used).
 */
export const covers = (consent: Consent | null, scope: readonly string[], resources: readonly string[] = []): boolean =>
  consent !== null && scope.every((s) => consent.scope.includes(s)) && resources.every((r) => consent.resources.includes(r));

export function d1ConsentStore(db: D1Database): ConsentStore {
  const get = async (userId: string, clientId: string) => {
    const row = await db.prepare("SELECT * FROM consents WHERE user_id = ? AND client_id = ?").bind(userId, clientId).first<ConsentRow>();
    return row ? consentFromRow(row) : null;
  };
  return {
    get,
    async grant(userId, clientId, scope, now, resources = []) {
      const existing = await get(userId, clientId);
      const merged = [...new Set([...(existing?.scope ?? []), ...scope])];
      const mergedResources = [...new Set([...(existing?.resources ?? []), ...resources])];
      // One statement: insert, or merge into the existing row keeping its grant id.
      await db
        .prepare(
          `INSERT INTO consents (user_id, client_id, grant_id, scope, resources, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, resources = excluded.resources, updated_at = excluded.updated_at`,
        )
        .bind(userId, clientId, randomToken(16), merged.join(" "), mergedResources.length > 0 ? JSON.stringify(mergedResources) : null, now, now)
        .run();
      return (await get(userId, clientId))!;
    },
    async revoke(userId, clientId) {
      await db.prepare("DELETE FROM consents WHERE user_id = ? AND client_id = ?").bind(userId, clientId).run();
    },
    async listForUser(userId) {
      const { results } = await db.prepare("SELECT * FROM consents WHERE user_id = ? ORDER BY created_at, client_id").bind(userId).all<ConsentRow>();
      return results.map(consentFromRow);
    },
    async withdraw(userId, clientId, now) {
      const grant = "(SELECT grant_id FROM consents WHERE user_id = ? AND client_id = ?)";
      const results = await db.batch<ConsentRow>([
        db.prepare(`UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND grant_id = ${grant}`).bind(now, userId, clientId),
        db
          .prepare(`UPDATE refresh_token_families SET revoked_at = ?, revoked_reason = 'revocation' WHERE revoked_at IS NULL AND grant_id = ${grant}`)
          .bind(now, userId, clientId),
        db.prepare("DELETE FROM consents WHERE user_id = ? AND client_id = ? RETURNING *").bind(userId, clientId),
      ]);
      const row = results[2]?.results[0];
      return row ? consentFromRow(row) : null;
    },
  };
}
