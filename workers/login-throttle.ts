import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/** One key's window: attempts counted since it opened, and when it closes (epoch seconds). */
export interface ThrottleWindow {
  count: number;
  expiresAt: number;
}

/**
 * Sign-in attempt budgets (see src/users/throttle.ts). SQLite-backed; one row per key: how many
 * attempts are counted in the window (reservations still in flight and failures alike) and when the
 * window, opened by the first of them, closes.
 *
 * An attempt is a reservation taken before its password is checked: `reserve` counts it only while
 * the budget has room, in one SQL statement, so of N concurrent reservations at most `limit` are
 * granted (the object runs one call at a time and nothing awaits between the check and the count).
 * The outcome then keeps it (a failure: nothing to do), gives it back (`release`), or clears the
 * key (`reset`). An alarm, scheduled at the earliest window end, purges closed windows.
 */
export class LoginThrottle extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL)");
  }

  /**
   * Takes one attempt from `key`'s budget: granted (the window after counting it) while fewer than
   * `limit` are counted in an open window, a closed window being restarted at `now`; refused (the
   * seconds until the window closes) otherwise, counting nothing.
   */
  async reserve(
    key: string,
    limit: number,
    windowSeconds: number,
    now: number,
  ): Promise<({ granted: true } & ThrottleWindow) | { granted: false; retryAfter: number }> {
    // The upsert's WHERE refuses a full open window: then no row is written and none returned.
    const granted = this.ctx.storage.sql
      .exec<{ count: number; expires_at: number }>(
        `INSERT INTO failures (key, count, expires_at) VALUES (?1, 1, ?2 + ?3)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN failures.expires_at <= ?2 THEN 1 ELSE failures.count + 1 END,
           expires_at = CASE WHEN failures.expires_at <= ?2 THEN ?2 + ?3 ELSE failures.expires_at END
         WHERE failures.expires_at <= ?2 OR failures.count < ?4
         RETURNING count, expires_at`,
        key,
        now,
        windowSeconds,
        limit,
      )
      .toArray()[0];
    if (!granted) {
      const expiresAt = this.ctx.storage.sql.exec<{ expires_at: number }>("SELECT expires_at FROM failures WHERE key = ?", key).one().expires_at;
      return { granted: false, retryAfter: expiresAt - now };
    }
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > (granted.expires_at + 1) * 1000) await this.ctx.storage.setAlarm((granted.expires_at + 1) * 1000);
    return { granted: true, count: granted.count, expiresAt: granted.expires_at };
  }

  /**
   * Gives back one reservation taken in the window that closes at `expiresAt` (a window since
   * restarted has already forgotten it, and is left alone).
   */
  async release(key: string, expiresAt: number): Promise<void> {
    this.ctx.storage.sql.exec("UPDATE failures SET count = count - 1 WHERE key = ? AND expires_at = ? AND count > 0", key, expiresAt);
  }

  /** Forgets everything counted for `key` (the account's key, after a successful sign-in to it). */
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
