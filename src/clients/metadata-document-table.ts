import type { Client } from "./model";

/**
 * The D1 table of client ID metadata documents (migrations/0007_client_metadata_documents.sql):
 * the cache every isolate shares, the first and last time each client was seen, and the operator's
 * per-URL block. Only src/clients/metadata-document.ts (resolution) and the operator API
 * (src/endpoints/admin-client-documents.ts) use it.
 */

export interface DocumentRow {
  client_id: string;
  host: string;
  client_name: string | null;
  /** JSON of the Client the last valid document described; null when none was ever valid. */
  client: string | null;
  fetched_at: number | null;
  expires_at: number;
  forced_at: number;
  first_seen: number;
  last_seen: number;
  blocked: number;
}

/** last_seen is written at most this often per client (a use within it leaves the row alone). */
const SEEN_RESOLUTION = 300;

export function documentTable(db: D1Database) {
  return {
    get: (clientId: string) => db.prepare("SELECT * FROM client_metadata_documents WHERE client_id = ?").bind(clientId).first<DocumentRow>(),

    /** Stores a freshly fetched, valid document's client, fresh until `expiresAt`; a block stays as it is. */
    async store(client: Client, host: string, now: number, expiresAt: number): Promise<void> {
      await db
        .prepare(
          `INSERT INTO client_metadata_documents (client_id, host, client_name, client, fetched_at, expires_at, first_seen, last_seen)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (client_id) DO UPDATE SET host = excluded.host, client_name = excluded.client_name, client = excluded.client,
             fetched_at = excluded.fetched_at, expires_at = excluded.expires_at, last_seen = excluded.last_seen`,
        )
        .bind(client.clientId, host, client.clientName, JSON.stringify(client), now, expiresAt, now, now)
        .run();
    },

    /** Records a use of a cached document (at most every few minutes). */
    async seen(row: DocumentRow, now: number): Promise<void> {
      if (now - row.last_seen < SEEN_RESOLUTION) return;
      await db.prepare("UPDATE client_metadata_documents SET last_seen = ? WHERE client_id = ?").bind(now, row.client_id).run();
    },

    /**
     * Claims the one forced refetch allowed per `interval` (an unknown `kid`): true for exactly one
     * caller, whichever isolate it runs in, until `interval` seconds have passed.
     */
    async claimRefetch(clientId: string, now: number, interval: number): Promise<boolean> {
      const result = await db
        .prepare("UPDATE client_metadata_documents SET forced_at = ? WHERE client_id = ? AND forced_at <= ?")
        .bind(now, clientId, now - interval)
        .run();
      return result.meta.changes === 1;
    },

    /**
     * Whether a document client not blocked has a redirect URI at `origin` (a token-endpoint CORS
     * preflight, as the `client_origins` rows serve registered clients; src/clients/store.ts corsOrigins).
     */
    async allowsOrigin(origin: string): Promise<boolean> {
      const row = await db
        .prepare(
          `SELECT 1 FROM client_metadata_documents AS d, json_each(d.client, '$.redirectUris') AS r
            WHERE d.blocked = 0 AND d.client IS NOT NULL AND (r.value = ?1 OR substr(r.value, 1, ?2) IN (?1 || '/', ?1 || '?')) LIMIT 1`,
        )
        .bind(origin, origin.length + 1)
        .first();
      return row !== null;
    },

    /** Blocks or unblocks a client URL (one never seen gets a row of its own); the row after the change. */
    async setBlocked(clientId: string, host: string, blocked: boolean, now: number): Promise<DocumentRow> {
      await db
        .prepare(
          `INSERT INTO client_metadata_documents (client_id, host, first_seen, last_seen, blocked) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (client_id) DO UPDATE SET blocked = excluded.blocked`,
        )
        .bind(clientId, host, now, now, blocked ? 1 : 0)
        .run();
      return (await this.get(clientId))!;
    },

    /** One page in client_id order (keyset pagination: `after` is the previous page's last client_id). */
    async list(page: { limit: number; after?: string }): Promise<{ rows: DocumentRow[]; next: string | null }> {
      const { results } = await db
        .prepare("SELECT * FROM client_metadata_documents WHERE client_id > ? ORDER BY client_id LIMIT ?")
        .bind(page.after ?? "", page.limit + 1)
        .all<DocumentRow>();
      const rows = results.slice(0, page.limit);
      return { rows, next: results.length > page.limit ? rows.at(-1)!.client_id : null };
    },
  };
}

export type DocumentTable = ReturnType<typeof documentTable>;
