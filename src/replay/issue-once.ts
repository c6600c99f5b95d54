import { log } from "../log";
import type { ReplayCache, ReplayNamespace } from "./replay-cache";

/**
 * Reserve, issue, complete — or undo and release: the one way a single-use value is exchanged for
 * something issued (authorization codes now; device codes, CIBA auth_req_ids, PAR request_uris and
 * DPoP nonces next). The rule: **a reservation not followed by a successful issue is not a use.**
 *
 * 1. `begin` holds the value (of N concurrent callers exactly one holds it; the others learn it is
 *    in use, or used — with what the use recorded, so the caller can revoke it).
 * 2. `issue` makes what the value buys. Each write it makes that would outlive a failure (a
 *    refresh-token row) it registers with `onFailure`, with the step that undoes it.
 * 3. `complete` marks the value used and records what was issued (`record`, read by a later reuse).
 *
 * Should step 2 or 3 fail (a store, the object, the network), the registered undo steps run, then
 * the value is released, both best effort and logged, and the error goes on (the client sees
 * server_error and may retry with the same value). If the release itself fails, the holder's lease
 * (LEASE_SECONDS) runs out and the value counts as released. Nothing was answered, so nothing
 * issued in the failed attempt reached anyone. docs/storage.md has each step's failure.
 */
export type Redemption<T> =
  /** This caller issued `value`; `reusedMeanwhile`: revoke what `record` names, but still answer. */
  | { outcome: "issued"; value: T; record: string; reusedMeanwhile: boolean }
  /** Another caller holds the value (its issue runs, or failed moments ago and its lease runs). */
  | { outcome: "in_use" }
  /** The value was used; `record` is what that use issued (null for rows of the previous release that recorded nothing). */
  | { outcome: "used"; record: string | null };

export type UndoStep = () => Promise<unknown>;

export async function issueOnce<T>(
  replay: ReplayCache,
  target: { namespace: ReplayNamespace; key: string; expiresAt: number },
  issue: (onFailure: (undo: UndoStep) => void) => Promise<{ value: T; record: string }>,
): Promise<Redemption<T>> {
  const reservation = await replay.begin(target.namespace, target.key, target.expiresAt);
  if (reservation.outcome !== "held") return reservation;
  const undo: UndoStep[] = [];
  const fields = { namespace: target.namespace.name };
  try {
    const { value, record } = await issue((step) => undo.push(step));
    const completed = await replay.complete(reservation, record);
    if (completed !== "lost") return { outcome: "issued", value, record, reusedMeanwhile: completed === "reused" };
    // Too slow: the lease ran out and another caller holds the value now.
    await undoAll(undo, fields);
    return { outcome: "in_use" };
  } catch (error) {
    await undoAll(undo, fields);
    await replay.release(reservation).catch((cause: unknown) =>
      log("warn", "single_use_release_failed", { ...fields, message: String(cause).slice(0, 200) }));
    throw error;
  }
}

async function undoAll(steps: UndoStep[], fields: { namespace: string }): Promise<void> {
  for (const step of steps.reverse()) {
    await step().catch((cause: unknown) => log("warn", "single_use_undo_failed", { ...fields, message: String(cause).slice(0, 200) }));
  }
}
