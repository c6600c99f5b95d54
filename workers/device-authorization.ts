import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";
import type { PollOutcome } from "../src/replay/polled-exchange";
import { LazyTables, completeHeld, pollRequest, releaseHeld } from "./polled-request";

/** Who approved a device request (RFC 8628 §3.3), as the tokens bind it. */
export interface DeviceApproval {
  sub: string;
  authTime: number;
  sid: string;
  amr: string[];
  grantId: string;
}

/** What the object holds for its device request while it lives (docs/storage.md). */
export interface DeviceRequestState {
  clientId: string;
  scope: string[];
  userCodeHash: string;
  state: "pending" | "approved" | "denied" | "consumed";
  expiresAt: number;
  /** OIDC Core §3.1.2.1 max_age, as the device authorization request sent it. */
  maxAge?: number;
}

/**
 * What one poll found (RFC 8628 §3.5), decided under the object's serialization: the request is
 * still pending (`slow_down` when polled faster than the current interval, which then grows by 5 s
 * for this and every later poll), denied, expired, used up, or approved — then the poll that finds
 * it unheld holds it (`held`, with the approval) until it completes or releases it; a poll that
 * comes while another holds it is `in_use`.
 */
export type Polled = PollOutcome<DeviceApproval>;

/** What a decision on the person's side found: made, or the request is gone/expired or decided already. */
export type Decided = "done" | "expired" | "decided";

interface Row {
  client_id: string;
  scope: string;
  user_code_hash: string;
  state: DeviceRequestState["state"];
  expires_at: number;
  interval: number;
  last_poll: number | null;
  approval: string | null;
  max_age: number | null;
  holder: string | null;
  lease_until: number | null;
}

/**
 * One device authorization request (RFC 8628), one object: `idFromName("device/" + SHA-256 of the
 * device_code)`. Every poll of the request runs here, one at a time, so the interval rule and the
 * single exchange of an approval are decided without races. The exchange is two-phase, the rule of
 * src/replay/issue-once.ts: the poll that finds the approval unheld holds it (a lease), issues the
 * tokens outside, and `complete`s — or `release`s after a failed issue, so a storage failure does
 * not burn the approval; of N concurrent polls exactly one holds it.
 *
 * The same class also answers for user codes: the object `idFromName("user_code/" + SHA-256 of
 * the normalized user_code)` holds only the device request's key, so the person's `/device` page
 * finds the request from the code they typed; `claimUserCode` is atomic, so two requests never
 * share a code. Both kinds delete their state with an alarm once the request has expired.
 */
export class DeviceAuthorization extends DurableObject<Env> {
  /** The object's tables, created on its first write (workers/polled-request.ts LazyTables). */
  private readonly tables = new LazyTables(this.ctx.storage, [
    `CREATE TABLE IF NOT EXISTS request (
       id INTEGER PRIMARY KEY CHECK (id = 1), client_id TEXT NOT NULL, scope TEXT NOT NULL, user_code_hash TEXT NOT NULL,
       state TEXT NOT NULL, expires_at INTEGER NOT NULL, interval INTEGER NOT NULL, last_poll INTEGER,
       approval TEXT, max_age INTEGER, holder TEXT, lease_until INTEGER)`,
    "CREATE TABLE IF NOT EXISTS user_code (id INTEGER PRIMARY KEY CHECK (id = 1), device_key TEXT NOT NULL, expires_at INTEGER NOT NULL)",
  ], "request");

  private get sql(): SqlStorage {
    return this.tables.sql;
  }

  private get stored(): boolean {
    return this.tables.stored;
  }

  private row(now: number): Row | undefined {
    if (!this.stored) return undefined;
    const row = this.sql.exec<Row & Record<string, SqlStorageValue>>("SELECT * FROM request").toArray()[0];
    return row === undefined || row.expires_at <= now ? undefined : row;
  }

  /** Records a new request; false if this object already holds a live one (a device_code is never reused). */
  start(request: { clientId: string; scope: string[]; userCodeHash: string; expiresAt: number; interval: number; maxAge?: number }, now: number): boolean {
    if (this.row(now) !== undefined) return false;
    this.sql.exec("DELETE FROM request");
    this.sql.exec(
      "INSERT INTO request (id, client_id, scope, user_code_hash, state, expires_at, interval, max_age) VALUES (1, ?, ?, ?, 'pending', ?, ?, ?)",
      request.clientId, request.scope.join(" "), request.userCodeHash, request.expiresAt, request.interval, request.maxAge ?? null,
    );
    void this.ctx.storage.setAlarm((request.expiresAt + 1) * 1000);
    return true;
  }

  /** The request as the person's page shows it (null once expired or gone). */
  describe(now: number): DeviceRequestState | null {
    const row = this.row(now);
    if (row === undefined) return null;
    return {
      clientId: row.client_id, scope: row.scope ? row.scope.split(" ") : [], userCodeHash: row.user_code_hash, state: row.state,
      expiresAt: row.expires_at, ...(row.max_age !== null && { maxAge: row.max_age }),
    };
  }

  /** The person approved (with who they are and the grant); only a pending request can be. */
  approve(approval: DeviceApproval, now: number): Decided {
    return this.decide("approved", JSON.stringify(approval), now);
  }

  /** The person denied; only a pending request can be. */
  deny(now: number): Decided {
    return this.decide("denied", null, now);
  }

  private decide(state: "approved" | "denied", approval: string | null, now: number): Decided {
    const row = this.row(now);
    if (row === undefined) return "expired";
    if (row.state !== "pending") return "decided";
    this.sql.exec("UPDATE request SET state = ?, approval = ?", state, approval);
    return "done";
  }

  /** One poll by `clientId` (RFC 8628 §3.4–3.5): workers/polled-request.ts, shared with CIBA. */
  poll(clientId: string, holder: string, leaseUntil: number, now: number): Polled {
    if (!this.stored) return { outcome: "unknown" };
    const row = this.sql.exec<Row & Record<string, SqlStorageValue>>("SELECT * FROM request").toArray()[0];
    if (row === undefined) return { outcome: "unknown" };
    return pollRequest<DeviceApproval>(this.sql, row, row.scope ? row.scope.split(" ") : [], clientId, holder, leaseUntil, now);
  }

  /** The holder issued the tokens: the request is used up (later polls: `used`). "lost": the holder's lease ran out and another holds it. */
  complete(holder: string): "done" | "lost" {
    return completeHeld(this.sql, holder);
  }

  /** The holder's issue failed: the approval is given back, for the client's next poll. */
  release(holder: string): void {
    releaseHeld(this.sql, holder);
  }

  /** User-code objects: points this code at a device request; false while the code points at another live one. */
  claimUserCode(deviceKey: string, expiresAt: number, now: number): boolean {
    const taken = this.sql.exec(
      `INSERT INTO user_code (id, device_key, expires_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET device_key = excluded.device_key, expires_at = excluded.expires_at WHERE user_code.expires_at <= ?`,
      deviceKey, expiresAt, now,
    ).rowsWritten > 0;
    if (taken) void this.ctx.storage.setAlarm((expiresAt + 1) * 1000);
    return taken;
  }

  /** User-code objects: the device request's key, or null when there is none (or it expired). */
  resolveUserCode(now: number): string | null {
    if (!this.stored) return null;
    const row = this.sql.exec<{ device_key: string; expires_at: number }>("SELECT device_key, expires_at FROM user_code").toArray()[0];
    return row === undefined || row.expires_at <= now ? null : row.device_key;
  }

  /** After expiry: nothing of the request (or the code) is kept. (Early — a clock's skew — it is set again.) */
  override async alarm(): Promise<void> {
    if (!this.stored) return;
    const sql = this.sql;
    const now = Math.floor(Date.now() / 1000);
    const latest = sql.exec<{ at: number | null }>(
      "SELECT MAX(expires_at) AS at FROM (SELECT expires_at FROM request UNION ALL SELECT expires_at FROM user_code)",
    ).one().at;
    if (latest !== null && latest > now) {
      await this.ctx.storage.setAlarm((latest + 1) * 1000);
      return;
    }
    this.tables.forget();
    await this.ctx.storage.deleteAll();
  }
}
