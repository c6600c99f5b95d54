import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/**
 * Atomic arbiter of single-use values (see src/replay/replay-cache.ts). SQLite-backed; a key is
 * refused while its expiry is in the future; an alarm purges expired rows.
 */
export class ReplayGuard extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
  }

  /** True if `key` was not in use: it is now reserved until `expiresAt`. Synchronous SQL, so atomic. */
  async reserve(key: string, expiresAt: number, now: number): Promise<boolean> {
    const cursor = this.ctx.storage.sql.exec(
      `INSERT INTO seen (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen.expires_at <= ?`,
      key,
      expiresAt,
      now,
    );
    const reserved = cursor.rowsWritten > 0;
    if (reserved && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm((expiresAt + 1) * 1000);
    }
    return reserved;
  }

  override async alarm(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    this.ctx.storage.sql.exec("DELETE FROM seen WHERE expires_at <= ?", now);
    const next = this.ctx.storage.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM seen").one().next;
    if (next !== null) await this.ctx.storage.setAlarm((next + 1) * 1000);
  }
}
