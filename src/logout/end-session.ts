import type { AppContext } from "../http/context";
import { clientStore, database, requestKeyring, revocationKv, sessionStore } from "../services";
import { revokeRefreshTokensOf } from "../users/sign-out-everywhere";
import type { Session } from "../sessions/model";
import { notifyBackChannel, type BackChannelDeps, type EndedSession } from "./back-channel";

/**
 * Ending browser sessions, everywhere it happens: the session records end at once; the clients
 * that signed in through them are told afterwards, over the back channel (src/logout/back-channel.ts),
 * in `waitUntil`, so neither a slow nor a failing client delays or fails the request that ended them.
 */

function backChannelDeps(c: AppContext): BackChannelDeps {
  return { db: database(c), clients: clientStore(c), config: c.get("config"), keys: () => requestKeyring(c), now: c.get("now") };
}

function notifyLater(c: AppContext, ended: EndedSession[]): void {
  if (ended.length > 0) c.executionCtx.waitUntil(notifyBackChannel(backChannelDeps(c), ended));
}

/** Ends one session (RP-initiated logout, a person signing out). Ending an already-ended session is harmless. */
export async function endSession(c: AppContext, session: Pick<Session, "sid" | "userId">): Promise<void> {
  await sessionStore(c).end(session.sid, c.get("now"));
  notifyLater(c, [{ sid: session.sid, userId: session.userId }]);
}

/** Ends every live session of a person (the operator disabled them or changed their password). */
export async function endAllSessions(c: AppContext, userId: string): Promise<void> {
  const sids = await sessionStore(c).endAllForUser(userId, c.get("now"));
  notifyLater(c, sids.map((sid) => ({ sid, userId })));
}

/**
 * "Sign out everywhere": every session of the person ends (back-channel logout to their clients)
 * and every refresh-token family is revoked with its listed access tokens
 * (src/users/sign-out-everywhere.ts). After a password reset or change, the person's own request
 * on /account, and an operator's password change.
 */
export async function signOutEverywhere(c: AppContext, userId: string): Promise<void> {
  await endAllSessions(c, userId);
  await revokeRefreshTokensOf({ db: database(c), kv: revocationKv(c), now: c.get("now") }, userId);
}
