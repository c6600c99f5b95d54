import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/**
 * Failed-sign-in counters (see src/users/throttle.ts). SQLite-backed; one row per key: how many
 * failures since the window opened (at the first failure) and when the window closes. Each method
 * runs one synchronous SQL statement, so concurrent failures are counted exactly. An alarm,
 * scheduled at the earliest window end, purges closed windows.
 */
export class LoginThrottle extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL)");
  }

  /** Seconds until `key` may try again (0: it may now). Refused once `limit` failures fall in an open window. */
  async retryAfter(key: string, limit: number, now: number): Promise<number> {
    const row = this.ctx.storage.sql
      .exec<{ count: number; expires_at: number }>("SELECT count, expires_at FROM failures WHERE key = ?", key)
      .toArray()[0];
    return row && row.expires_at > now && row.count >= limit ? row.expires_at - now : 0;
  }

  /** Counts one failure; a closed window is restarted at `now`. Returns the count and window end. */
  async fail(key: string, windowSeconds: number, now: number): Promise<{ count: number; expiresAt: number }> {
    const row = this.ctx.storage.sql
      .exec<{ count: number; expires_at: number }>(
        `INSERT INTO failures (key, count, expires_at) VALUES (?1, 1, ?2 + ?3)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN failures.expires_at <= ?2 THEN 1 ELSE failures.count + 1 END,
           expires_at = CASE WHEN failures.expires_at <= ?2 THEN ?2 + ?3 ELSE failures.expires_at END
         RETURNING count, expires_at`,
        key,
        now,
        windowSeconds,
      )
      .one();
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > (row.expires_at + 1) * 1000) await this.ctx.storage.setAlarm((row.expires_at + 1) * 1000);
    return { count: row.count, expiresAt: row.expires_at };
  }

  /** Forgets `key`'s failures (after a successful sign-in to that account). */
  async reset(key: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM failures WHERE key = ?", key);
  }

  override async alarm(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    this.ctx.storage.sql.exec("DELETE FROM failures WHERE expires_at <= ?", now);
    const next = this.ctx.storage.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM failures").one().next;
    if (next !== null) await this.ctx.storage.setAlarm((next + 1) * 1000);
  }
}
