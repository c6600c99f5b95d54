import type { Client } from "../clients/model";
import { covers, d1ConsentStore } from "../consent/store";
import { OAuthError } from "../errors/oauth-error";
import type { AppContext } from "../http/context";
import { readSessionCookie } from "../sessions/cookie";
import type { Session } from "../sessions/model";
import { d1SessionStore } from "../sessions/store";
import { d1UserStore } from "../users/store";
import type { User } from "../users/model";
import { issueCode } from "./codes";
import { sealTransaction, type Transaction } from "./request";
import { authorizationResponse } from "./response";

/** The live session of this browser, if any. */
export async function currentSession(c: AppContext): Promise<Session | null> {
  const cookie = readSessionCookie(c.req.raw);
  if (!cookie) return null;
  return d1SessionStore(c.env.DB, { ttl: c.get("config").sessionTtl }).get(cookie, c.get("now"));
}

/** A redirect to one of our interaction pages, carrying the sealed transaction. */
export async function toInteraction(c: AppContext, path: string, txn: Transaction): Promise<Response> {
  const url = new URL(path, c.get("config").issuer);
  url.searchParams.set("txn", await sealTransaction(txn, c.env.ENCRYPTION_KEY));
  return new Response(null, { status: c.req.method === "POST" ? 303 : 302, headers: { location: url.pathname + url.search, "cache-control": "no-store" } });
}

/**
 * The decision at the heart of the authorization endpoint, re-entered after each interaction
 * page (OIDC Core §3.1.2.3–3.1.2.5): authenticate (session, prompt=login, max_age), check the
 * person (disabled, email verified), obtain consent (prompt=consent), then issue the code.
 * With prompt=none every needed interaction is an error instead (OIDC Core §3.1.2.6).
 */
export async function proceed(c: AppContext, client: Client, txn: Transaction): Promise<Response> {
  const now = c.get("now");
  const request = txn.request;
  const silent = request.prompt === "none";

  const session = await currentSession(c);
  const authenticatedHere = session !== null && txn.authenticatedSid === session.sid;
  // max_age=0 is prompt=login (OIDC Core §3.1.2.1): stale even within the second of the last sign-in.
  const stale =
    session !== null &&
    !authenticatedHere &&
    (request.prompt === "login" ||
      (request.maxAge !== undefined && (request.maxAge === 0 || now - session.authTime > request.maxAge)));
  if (session === null || stale) {
    if (silent) throw new OAuthError("login_required");
    return toInteraction(c, "/login", txn);
  }

  const user = await d1UserStore(c.env.DB).get(session.userId);
  if (user === null || user.disabled) throw new OAuthError("user_disabled");
  if (!user.emailVerified) {
    if (silent) throw new OAuthError("email_verification_required");
    return toInteraction(c, "/verify-email/needed", txn);
  }

  const consents = d1ConsentStore(c.env.DB);
  let consent = await consents.get(user.id, client.clientId);
  if (client.firstParty) {
    // First-party clients skip the page, but the grant is still recorded so it can be listed and withdrawn.
    if (!covers(consent, request.scope)) consent = await consents.grant(user.id, client.clientId, request.scope, now);
  } else if (!covers(consent, request.scope) || (request.prompt === "consent" && !txn.consented)) {
    if (silent) throw new OAuthError("consent_required");
    return toInteraction(c, "/consent", txn);
  }

  return issueAndRespond(c, txn, session, user, consent!.grantId);
}

async function issueAndRespond(c: AppContext, txn: Transaction, session: Session, user: User, grantId: string): Promise<Response> {
  const code = await issueCode(
    txn.request,
    { sub: user.id, authTime: session.authTime, sid: session.sid, amr: session.amr, grantId },
    { encryptionKey: c.env.ENCRYPTION_KEY, now: c.get("now"), ttl: c.get("config").codeTtl },
  );
  return authorizationResponse(c, txn.request, { code });
}
