import type { PollOutcome } from "../src/replay/polled-exchange";

/**
 * What the device grant's and CIBA's request objects share (workers/device-authorization.ts,
 * workers/ciba-request.ts): each keeps its request in a one-row `request` table with the columns
 * below, and runs one poll, the completion and the release of an exchange the same way.
 */
export interface PolledRow {
  client_id: string;
  state: "pending" | "approved" | "denied" | "consumed";
  expires_at: number;
  interval: number;
  last_poll: number | null;
  approval: string | null;
  holder: string | null;
  lease_until: number | null;
}

/**
 * One poll by `clientId` (RFC 8628 §3.4–3.5, CIBA §10.1, §11), under the object's serialization:
 * another client's request changes nothing; pending polled faster than the interval is slow_down
 * and the interval grows by 5 s for this and every later poll; an approval is held by the poll
 * that finds it unheld (a lease), the others are `in_use`.
 */
export function pollRequest<A>(sql: SqlStorage, row: PolledRow, scope: string[], clientId: string, holder: string, leaseUntil: number, now: number): PollOutcome<A> {
  if (row.client_id !== clientId) return { outcome: "wrong_client" };
  if (row.expires_at <= now) return { outcome: "expired" };
  switch (row.state) {
    case "denied":
      return { outcome: "denied" };
    case "consumed":
      return { outcome: "used" };
    case "pending": {
      if (row.last_poll !== null && now - row.last_poll < row.interval) {
        const interval = row.interval + 5;
        sql.exec("UPDATE request SET interval = ?, last_poll = ?", interval, now);
        return { outcome: "slow_down", interval };
      }
      sql.exec("UPDATE request SET last_poll = ?", now);
      return { outcome: "pending" };
    }
    case "approved": {
      if (row.holder !== null && row.lease_until !== null && row.lease_until > now) return { outcome: "in_use" };
      sql.exec("UPDATE request SET holder = ?, lease_until = ?, last_poll = ?", holder, leaseUntil, now);
      return { outcome: "held", approval: JSON.parse(row.approval!) as A, scope };
    }
  }
}

/** The holder issued the tokens: the request is used up. "lost": its lease ran out and another holds it. */
export function completeHeld(sql: SqlStorage, holder: string): "done" | "lost" {
  const done = sql.exec(
    "UPDATE request SET state = 'consumed', approval = NULL, holder = NULL, lease_until = NULL WHERE holder = ? AND state = 'approved'",
    holder,
  ).rowsWritten;
  return done > 0 ? "done" : "lost";
}

/** The holder's issue failed: the approval is given back, for the client's next poll. */
export function releaseHeld(sql: SqlStorage, holder: string): void {
  sql.exec("UPDATE request SET holder = NULL, lease_until = NULL WHERE holder = ? AND state = 'approved'", holder);
}

/**
 * Tables an object creates on its first write only: reads of an object that never stored anything
 * (a poll with a made-up device_code or auth_req_id, a mistyped user code, a guessed page handle)
 * answer from `stored` without creating them, so guesses leave no storage behind. After the
 * alarm's deleteAll, `forget()` makes the next write create them again.
 */
export class LazyTables {
  private ready = false;

  /** `ddl`: the CREATE TABLE statements; `marker`: the table whose presence means "stored". */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly ddl: readonly string[],
    private readonly marker: string,
  ) {}

  /** The object's SQL, its tables created first if need be. */
  get sql(): SqlStorage {
    if (!this.ready) {
      for (const statement of this.ddl) this.storage.sql.exec(statement);
      this.ready = true;
    }
    return this.storage.sql;
  }

  /** Whether the tables exist, without creating them. */
  get stored(): boolean {
    if (!this.ready) {
      this.ready = this.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", this.marker).toArray().length > 0;
    }
    return this.ready;
  }

  /** The tables are gone (deleteAll): the next write creates them again. */
  forget(): void {
    this.ready = false;
  }
}
