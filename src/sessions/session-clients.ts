/**
 * OIDC Back-Channel Logout §2.3, "Remembering Logged-In RPs": which clients received an ID token
 * in which browser session (D1 `session_clients`, schema.sql), so that ending the session can send
 * each of them a logout token (src/logout/back-channel.ts).
 *
 * Only clients that registered a `backchannel_logout_uri` are remembered — nothing else would read
 * the row, so the code exchange of every other client does no extra write. A client that registers
 * one later is notified for sessions in which it receives an ID token from then on.
 */

/**
 * Remembers that `clientId` received an ID token in session `sid`: one INSERT OR IGNORE that copies
 * the session's expiry, and writes nothing when the session has already ended or expired (a code
 * redeemed after its session was logged out: that logout could not notify the client, and no
 * later one will).
 */
export async function rememberSessionClient(db: D1Database, sid: string, clientId: string, now: number): Promise<void> {
  await db
    .prepare(
      `INSERT OR IGNORE INTO session_clients (sid, client_id, expires_at)
       SELECT sid, ?, expires_at FROM sessions WHERE sid = ? AND ended_at IS NULL AND expires_at > ?`,
    )
    .bind(clientId, sid, now)
    .run();
}

/** D1 binds at most 100 parameters per statement. */
const SIDS_PER_STATEMENT = 90;

/**
 * Takes the clients remembered for these (now ended) sessions: deletes their rows and returns
 * them, so each client is notified once even if two logouts of one session race.
 */
export async function takeSessionClients(db: D1Database, sids: readonly string[]): Promise<{ sid: string; clientId: string }[]> {
  if (sids.length === 0) return [];
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < sids.length; i += SIDS_PER_STATEMENT) {
    const chunk = sids.slice(i, i + SIDS_PER_STATEMENT);
    statements.push(
      db.prepare(`DELETE FROM session_clients WHERE sid IN (${chunk.map(() => "?").join(", ")}) RETURNING sid, client_id`).bind(...chunk),
    );
  }
  const results = await db.batch<{ sid: string; client_id: string }>(statements);
  return results.flatMap((r) => r.results.map((row) => ({ sid: row.sid, clientId: row.client_id })));
}
