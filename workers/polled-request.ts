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
