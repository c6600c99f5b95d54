import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/**
 * What `begin` found (src/replay/replay-cache.ts): the key is now held by the caller, it is held by
 * another caller whose lease runs, or it was used (with what its use recorded, if anything).
 */
export type Begun = { outcome: "held" } | { outcome: "in_use" } | { outcome: "used"; record: string | null };

/** What `complete` found: the holder's use is recorded; recorded, but a reuse was tried meanwhile; or the caller no longer holds the key. */
export type Completed = "done" | "reused" | "lost";

/**
 * Atomic arbiter of single-use values (see src/replay/replay-cache.ts). SQLite-backed; a key is
 * refused while its expiry is in the future; an alarm purges expired rows.
 *
 * A row is `done` (used) or `pending` (held by `holder` until `lease_until`, while the value's
 * exchange runs: `begin` → `complete` or `release`). One-step reservations (`reserve`) are done at
 * once. Rows written before the two-phase columns existed read as done, as they were meant.
 */
export class ReplayGuard extends DurableObject<Env> {
  /** Whether an alarm is scheduled: read once when the object starts, then kept up to date. */
  private alarmArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
    const columns = new Set(sql.exec<{ name: string }>("PRAGMA table_info(seen)").toArray().map((c) => c.name));
    // Migrations in place: each column added once, with a default that keeps older rows meaning what they meant.
    const added: [string, string][] = [
      ["attached", "TEXT"],
      ["reused", "INTEGER NOT NULL DEFAULT 0"],
      ["state", "TEXT NOT NULL DEFAULT 'done'"],
      ["holder", "TEXT"],
      ["lease_until", "INTEGER"],
    ];
    for (const [name, type] of added) if (!columns.has(name)) sql.exec(`ALTER TABLE seen ADD COLUMN ${name} ${type}`);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmArmed = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /**
   * One-step single use: true if `key` was not in use, and it is now used until `expiresAt`.
   * Synchronous SQL, so atomic; a plain (not async) method, so the call costs no promise of its own
   * on this side. Writes are not awaited: the object's output gate holds the answer until they are
   * durable.
   */
  reserve(key: string, expiresAt: number, now: number): boolean {
    const cursor = this.ctx.storage.sql.exec(
      `INSERT INTO seen (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, attached = NULL, reused = 0,
         state = 'done', holder = NULL, lease_until = NULL
       WHERE seen.expires_at <= ?`,
      key,
      expiresAt,
      now,
    );
    const reserved = cursor.rowsWritten > 0;
    if (!reserved) this.ctx.storage.sql.exec("UPDATE seen SET reused = 1 WHERE key = ?", key);
    if (reserved) this.armAlarm(expiresAt);
    return reserved;
  }

  /**
   * Two-phase single use, first step: `holder` holds `key` until `leaseUntil` if nobody does — the
   * key is new, expired, or pending with its lease run out (its holder failed and could not
   * release it). Otherwise the attempt is remembered (`reused`), so a holder that completes later
   * learns of it, and the caller is told whether the key is held or used (with the use's record).
   * Synchronous, so of N concurrent callers exactly one holds the key.
   */
  begin(key: string, holder: string, expiresAt: number, leaseUntil: number, now: number): Begun {
    const sql = this.ctx.storage.sql;
    const taken = sql.exec(
      `INSERT INTO seen (key, expires_at, state, holder, lease_until) VALUES (?, ?, 'pending', ?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, attached = NULL, reused = 0,
         state = 'pending', holder = excluded.holder, lease_until = excluded.lease_until
       WHERE seen.expires_at <= ? OR (seen.state = 'pending' AND seen.lease_until <= ?)`,
      key, expiresAt, holder, leaseUntil, now, now,
    ).rowsWritten > 0;
    if (taken) {
      this.armAlarm(expiresAt);
      return { outcome: "held" };
    }
    const row = sql
      .exec<{ state: string; attached: string | null }>("UPDATE seen SET reused = 1 WHERE key = ? RETURNING state, attached", key)
      .one();
    return row.state === "pending" ? { outcome: "in_use" } : { outcome: "used", record: row.attached };
  }

  /**
   * Second step, on success: the key is used, and `issued` records what its use produced, for
   * whoever comes later (a reuse revokes it, RFC 6749 §4.1.2). "reused" if another caller tried
   * the key meanwhile (the holder revokes what it issued); "lost" if `holder` no longer holds it
   * (its lease ran out and another caller took the key: the holder must undo what it issued).
   */
  complete(key: string, holder: string, issued: string): Completed {
    const row = this.ctx.storage.sql
      .exec<{ reused: number }>(
        `UPDATE seen SET state = 'done', attached = ?, lease_until = NULL
         WHERE key = ? AND holder = ? AND state = 'pending' RETURNING reused`,
        issued, key, holder,
      )
      .toArray()[0];
    if (row === undefined) return "lost";
    return row.reused === 1 ? "reused" : "done";
  }

  /**
   * Second step, on failure: the holder gives the key back (after undoing what it wrote), so the
   * value can be used again within its lifetime. Only the holder's own row goes: never another's.
   */
  release(key: string, holder: string): void {
    this.ctx.storage.sql.exec("DELETE FROM seen WHERE key = ? AND holder = ?", key, holder);
  }

  /**
   * The previous release's calls (`reserve`, then `attach`/`attached` for codes), kept so that its
   * workers still running during a deployment are answered; remove once every worker runs this one.
   */
  async attach(key: string, data: string): Promise<boolean> {
    const row = this.ctx.storage.sql
      .exec<{ reused: number }>("UPDATE seen SET attached = ? WHERE key = ? RETURNING reused", data, key)
      .toArray()[0];
    return row !== undefined && row.reused === 1;
  }

  async attached(key: string): Promise<string | null> {
    const rows = this.ctx.storage.sql.exec<{ attached: string | null }>("SELECT attached FROM seen WHERE key = ?", key).toArray();
    return rows[0]?.attached ?? null;
  }

  /** One storage call fewer per reservation: once an alarm is known to be set, the purge re-arms it. */
  private armAlarm(expiresAt: number): void {
    if (this.alarmArmed) return;
    void this.ctx.storage.setAlarm((expiresAt + 1) * 1000);
    this.alarmArmed = true;
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
