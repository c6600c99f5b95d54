import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";
import type { PollOutcome } from "../src/replay/polled-exchange";
import { LazyTables, completeHeld, pollRequest, releaseHeld, type PolledRow } from "./polled-request";
import { cibaDelivery, keepForRetry, keptCallbackAt, pushMinter, retryDue, type DeliveryDeps } from "../src/ciba/delivery";
import { pollOnly, type CibaApproval, type CibaDelivery, type CibaOutcome, type CibaRequestState, type DeliveryMode } from "../src/ciba/model";
import { d1ClientStore } from "../src/clients/store";
import { configFrom } from "../src/config";
import { keyring } from "../src/keys/keyring";
import { d1KeyStore } from "../src/keys/store";

/** What one poll found (CIBA §11), decided under the object's serialization: the device grant's outcomes (src/replay/polled-exchange.ts). */
export type CibaPolled = PollOutcome<CibaApproval>;

/** What the person's decision found: made, or the request is gone/expired, decided already, or names someone else. */
export type CibaDecided = "done" | "expired" | "decided" | "not_found";

/** The object's row: the poll columns both request objects share, and the request as JSON. */
interface Row extends Omit<PolledRow, "client_id"> {
  state_json: string;
}

/**
 * One CIBA authentication request, one object: `idFromName("ciba/" + SHA-256 of the auth_req_id)`.
 * Everything that touches the request runs here, one at a time: the person's decision, every
 * poll (the interval rule), and the single exchange of an approval — two-phase as in
 * src/replay/issue-once.ts (hold with a lease, issue outside, complete or release), so of N
 * concurrent polls exactly one gets the tokens.
 *
 * The same class answers for the person's page handle: the object `idFromName("handle/" +
 * SHA-256 of the handle)` holds only the request's key, so the approval link never carries the
 * auth_req_id. Both kinds delete their state with an alarm once the request has expired; the
 * alarm of a request that expired undecided tells the client through its delivery mode.
 */
export class CibaRequest extends DurableObject<Env> {
  /** How the client is told of the outcome (ping/push: src/ciba/delivery.ts); poll needs nothing. */
  protected delivery(mode: DeliveryMode): CibaDelivery {
    return mode === "poll" ? pollOnly : cibaDelivery(this.callbackDeps());
  }

  /** What ping and push callbacks use (src/ciba/delivery.ts); retries are kept here and run by the alarm. */
  protected callbackDeps(): DeliveryDeps {
    const now = () => Math.floor(Date.now() / 1000);
    const config = configFrom(this.env);
    return {
      client: (clientId) => d1ClientStore(this.env.DB).get(clientId),
      mintPush: async (client, request, approval) => {
        const keys = await keyring(d1KeyStore(this.env.DB), this.env.ENCRYPTION_KEY, now());
        return pushMinter({ config, keys, now: now(), services: { db: this.env.DB } })(client, request, approval);
      },
      allowInsecure: config.allowInsecureClientUris,
      now,
      retryLater: (pending, at) => keepForRetry(this.ctx.storage, pending, at),
    };
  }

  /** The object's tables, created on its first write (workers/polled-request.ts LazyTables). */
  private readonly tables = new LazyTables(this.ctx.storage, [
    `CREATE TABLE IF NOT EXISTS request (
       id INTEGER PRIMARY KEY CHECK (id = 1), state_json TEXT NOT NULL, state TEXT NOT NULL, expires_at INTEGER NOT NULL,
       interval INTEGER NOT NULL, last_poll INTEGER, approval TEXT, holder TEXT, lease_until INTEGER)`,
    "CREATE TABLE IF NOT EXISTS handle (id INTEGER PRIMARY KEY CHECK (id = 1), request_key TEXT NOT NULL, expires_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pending (handle TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
  ], "request");

  private get sql(): SqlStorage {
    return this.tables.sql;
  }

  private get stored(): boolean {
    return this.tables.stored;
  }

  private current(): Row | undefined {
    if (!this.stored) return undefined;
    return this.sql.exec<Row & Record<string, SqlStorageValue>>("SELECT * FROM request").toArray()[0];
  }

  private stateOf(row: Row): CibaRequestState {
    return { ...(JSON.parse(row.state_json) as CibaRequestState), state: row.state, interval: row.interval };
  }

  /** Records a new request; false if this object already holds one (an auth_req_id is never reused). */
  start(request: CibaRequestState): boolean {
    if (this.current() !== undefined) return false;
    this.sql.exec(
      "INSERT INTO request (id, state_json, state, expires_at, interval) VALUES (1, ?, 'pending', ?, ?)",
      JSON.stringify(request), request.expiresAt, request.interval,
    );
    void this.ctx.storage.setAlarm((request.expiresAt + 1) * 1000);
    return true;
  }

  /** The request while it lives (null once expired or gone). */
  describe(now: number): CibaRequestState | null {
    const row = this.current();
    return row === undefined || row.expires_at <= now ? null : this.stateOf(row);
  }

  /** The person `sub` approved; only a pending request naming them can be. */
  approve(sub: string, approval: CibaApproval, now: number): CibaDecided {
    return this.decide(sub, "approved", approval, now);
  }

  /** The person `sub` denied; only a pending request naming them can be. */
  deny(sub: string, now: number): CibaDecided {
    return this.decide(sub, "denied", null, now);
  }

  private decide(sub: string, state: "approved" | "denied", approval: CibaApproval | null, now: number): CibaDecided {
    const row = this.current();
    if (row === undefined) return "not_found";
    const request = this.stateOf(row);
    // Another person learns nothing: the same answer as a request that does not exist.
    if (request.sub !== sub) return "not_found";
    if (row.expires_at <= now) return "expired";
    if (row.state !== "pending") return "decided";
    this.sql.exec("UPDATE request SET state = ?, approval = ?", state, approval === null ? null : JSON.stringify(approval));
    const outcome: CibaOutcome = approval === null ? { outcome: "denied" } : { outcome: "approved", approval };
    this.tell({ ...request, state }, outcome);
    return "done";
  }

  /** Delivery runs after the decision is stored, outside the caller's wait; a failed callback never breaks the poll. */
  private tell(request: CibaRequestState, outcome: CibaOutcome): void {
    if (request.deliveryMode === "poll") return;
    this.ctx.waitUntil(this.delivery(request.deliveryMode).notify(request, outcome).catch(() => undefined));
  }

  /** One poll by `clientId` (CIBA §10.1, §11): workers/polled-request.ts, the device grant's rule. */
  poll(clientId: string, holder: string, leaseUntil: number, now: number): CibaPolled {
    const row = this.current();
    if (row === undefined) return { outcome: "unknown" };
    const request = this.stateOf(row);
    return pollRequest<CibaApproval>(this.sql, { ...row, client_id: request.clientId }, request.scope, clientId, holder, leaseUntil, now);
  }

  complete(holder: string): "done" | "lost" {
    return completeHeld(this.sql, holder);
  }

  release(holder: string): void {
    releaseHeld(this.sql, holder);
  }

  /** Handle objects: point this handle at a request (a fresh random handle: false only on a collision). */
  claimHandle(requestKey: string, expiresAt: number): boolean {
    const taken = this.sql.exec(
      "INSERT INTO handle (id, request_key, expires_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
      requestKey, expiresAt,
    ).rowsWritten > 0;
    if (taken) void this.ctx.storage.setAlarm((expiresAt + 1) * 1000);
    return taken;
  }

  /** Handle objects: the request's key, or null (none, or expired). */
  resolveHandle(now: number): string | null {
    if (!this.stored) return null;
    const row = this.sql.exec<{ request_key: string; expires_at: number }>("SELECT request_key, expires_at FROM handle").toArray()[0];
    return row === undefined || row.expires_at <= now ? null : row.request_key;
  }

  /** Person objects (`person/<sub>`): remembers a request's page handle for the person's account page. */
  async addPending(handle: string, expiresAt: number): Promise<void> {
    this.sql.exec("INSERT INTO pending (handle, expires_at) VALUES (?, ?)", handle, expiresAt);
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm < (expiresAt + 1) * 1000) await this.ctx.storage.setAlarm((expiresAt + 1) * 1000);
  }

  /** Person objects: the page handles of the person's live requests, newest first (at most 20). */
  listPending(now: number): string[] {
    if (!this.stored) return [];
    return this.sql.exec<{ handle: string }>("SELECT handle FROM pending WHERE expires_at > ? ORDER BY expires_at DESC LIMIT 20", now)
      .toArray().map((r) => r.handle);
  }

  /** After expiry nothing is kept; a request that expired undecided is reported to ping/push clients first. */
  override async alarm(): Promise<void> {
    if (!this.stored) return;
    const sql = this.sql;
    const now = Math.floor(Date.now() / 1000);
    // A ping/push callback kept for a retry (src/ciba/delivery.ts): its next attempt, when due.
    let callback = await retryDue(this.ctx.storage, this.callbackDeps());
    const latest = sql.exec<{ at: number | null }>(
      "SELECT MAX(expires_at) AS at FROM (SELECT expires_at FROM request UNION ALL SELECT expires_at FROM handle UNION ALL SELECT expires_at FROM pending)",
    ).one().at;
    if (latest !== null && latest > now) {
      await this.ctx.storage.setAlarm(Math.min(latest + 1, callback ?? Infinity) * 1000);
      return;
    }
    const row = this.current();
    if (row !== undefined && row.state === "pending") {
      const request = this.stateOf(row);
      if (request.deliveryMode !== "poll") {
        await this.delivery(request.deliveryMode).notify(request, { outcome: "expired" }).catch(() => undefined);
        callback = await keptCallbackAt(this.ctx.storage);
      }
    }
    if (callback !== null) {
      // The request is over; only the callback's retries remain, until delivered or given up.
      sql.exec("DELETE FROM request");
      sql.exec("DELETE FROM handle");
      await this.ctx.storage.setAlarm(callback * 1000);
      return;
    }
    this.tables.forget();
    await this.ctx.storage.deleteAll();
  }
}
