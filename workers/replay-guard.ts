import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/**
 * Atomic arbiter of single-use values (see src/replay/replay-cache.ts). SQLite-backed; a key is
 * refused while its expiry is in the future; an alarm purges expired rows.
 */
export class ReplayGuard extends DurableObject<Env> {
  /** Whether an alarm is scheduled: read once when the object starts, then kept up to date. */
  private alarmArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
    const columns = ctx.storage.sql.exec<{ name: string }>("PRAGMA table_info(seen)").toArray();
    if (!columns.some((c) => c.name === "attached")) ctx.storage.sql.exec("ALTER TABLE seen ADD COLUMN attached TEXT");
    if (!columns.some((c) => c.name === "reused")) ctx.storage.sql.exec("ALTER TABLE seen ADD COLUMN reused INTEGER NOT NULL DEFAULT 0");
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmArmed = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /**
   * Remembers what the winner of a reservation produced (e.g. the tokens a code issued). Returns
   * true if someone tried to reserve the key in the meantime, so the winner can revoke what it
   * just issued: a reuse racing the first redemption is caught either way (RFC 6749 §4.1.2).
   */
  async attach(key: string, data: string): Promise<boolean> {
    const row = this.ctx.storage.sql
      .exec<{ reused: number }>("UPDATE seen SET attached = ? WHERE key = ? RETURNING reused", data, key)
      .toArray()[0];
    return row !== undefined && row.reused === 1;
  }

  /** What was attached to a reservation, if it is still held. */
  async attached(key: string): Promise<string | null> {
    const rows = this.ctx.storage.sql.exec<{ attached: string | null }>("SELECT attached FROM seen WHERE key = ?", key).toArray();
    return rows[0]?.attached ?? null;
  }

  /**
   * True if `key` was not in use: it is now reserved until `expiresAt`. Synchronous SQL, so atomic;
   * a plain (not async) method, so the call costs no promise of its own on this side. Writes are
   * not awaited: the object's output gate holds the answer until they are durable.
   */
  reserve(key: string, expiresAt: number, now: number): boolean {
    const cursor = this.ctx.storage.sql.exec(
      `INSERT INTO seen (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, attached = NULL, reused = 0 WHERE seen.expires_at <= ?`,
      key,
      expiresAt,
      now,
    );
    const reserved = cursor.rowsWritten > 0;
    if (!reserved) this.ctx.storage.sql.exec("UPDATE seen SET reused = 1 WHERE key = ?", key);
    // One storage call fewer per reservation: once an alarm is known to be set, the purge re-arms it.
    if (reserved && !this.alarmArmed) {
      void this.ctx.storage.setAlarm((expiresAt + 1) * 1000);
      this.alarmArmed = true;
    }
    return reserved;
  }

  override async alarm(): Promise<void> {
    // Until the purge has re-armed the alarm, the next reservation arms one itself (a purge that
    // fails for good leaves no alarm behind).
    this.alarmArmed = false;
    const now = Math.floor(Date.now() / 1000);
    this.ctx.storage.sql.exec("DELETE FROM seen WHERE expires_at <= ?", now);
    const next = this.ctx.storage.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM seen").one().next;
    if (next !== null) await this.ctx.storage.setAlarm((next + 1) * 1000);
    this.alarmArmed = next !== null;
  }
}
