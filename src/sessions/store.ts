import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import type { Session, SessionStore } from "./model";

interface SessionRow {
  sid: string;
  user_id: string;
  auth_time: number;
  amr: string;
  expires_at: number;
}

const fromRow = (r: SessionRow): Session => ({
  sid: r.sid,
  userId: r.user_id,
  authTime: r.auth_time,
  amr: JSON.parse(r.amr) as string[],
  expiresAt: r.expires_at,
});

/** The D1 session store, plus what the operator path needs beyond the port. */
export interface D1SessionStore extends SessionStore {
  /** Ends every live session of a user (password changed, account disabled); returns the `sid`s it ended. */
  endAllForUser(userId: string, now: number): Promise<string[]>;
}

/**
 * D1 adapter of the SessionStore port. The cookie value is 32 random bytes (256 bits); only its
 * SHA-256 is stored (`id_hash`), so a read of the table does not yield usable cookies. The public
 * `sid` (the ID token's claim) is a separate random value that cannot be turned back into a cookie.
 *
 * `ttl` is the session lifetime in seconds (config.sessionTtl), counted from creation.
 */
export function d1SessionStore(db: D1Database, options: { ttl: number }): D1SessionStore {
  return {
    async create(input, now) {
      const cookieValue = randomToken(32);
      const session: Session = { sid: randomToken(16), userId: input.userId, authTime: input.authTime, amr: [...input.amr], expiresAt: now + options.ttl };
      await db
        .prepare("INSERT INTO sessions (id_hash, sid, user_id, auth_time, amr, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(await hashForStorage(cookieValue), session.sid, session.userId, session.authTime, JSON.stringify(session.amr), now, session.expiresAt)
        .run();
      return { cookieValue, session };
    },
    async get(cookieValue, now) {
      if (!cookieValue) return null;
      const row = await db
        .prepare("SELECT sid, user_id, auth_time, amr, expires_at FROM sessions WHERE id_hash = ? AND ended_at IS NULL AND expires_at > ?")
        .bind(await hashForStorage(cookieValue), now)
        .first<SessionRow>();
      return row ? fromRow(row) : null;
    },
    async end(sid, now) {
      await db.prepare("UPDATE sessions SET ended_at = ? WHERE sid = ? AND ended_at IS NULL").bind(now, sid).run();
    },
    async endAllForUser(userId, now) {
      const { results } = await db
        .prepare("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL AND expires_at > ? RETURNING sid")
        .bind(now, userId, now)
        .all<{ sid: string }>();
      return results.map((r) => r.sid);
    },
  };
}
