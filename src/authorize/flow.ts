import type { Client } from "../clients/model";
import { OAuthError } from "../errors/oauth-error";
import type { AppContext } from "../http/context";
import { seeOther } from "../http/page-form";
import { consentStore, encryptionKey, grantStateStore, sessionStore } from "../services";
import { readSessionCookie } from "../sessions/cookie";
import type { Session } from "../sessions/model";
import { SIGN_IN_RETURNS, isSignInReturn, type SignInReturn } from "../sessions/sign-in-return";
import { complete } from "./completions";
import { decide, type Decision } from "./decision";
import { openTransaction, sealTransaction, type Transaction } from "./request";

/**
 * The authorization flow around the pure decision (src/authorize/decision.ts): read what it needs
 * (the browser's session, the person and their consent), decide, and turn the decision into a
 * response — an interaction page carrying the sealed transaction, an error, or the completion of
 * the transaction's kind (src/authorize/completions.ts). The authorization endpoint runs it first,
 * `/authorize/continue` after each interaction page.
 */

/** The live session of this browser, if any. */
export async function currentSession(c: AppContext): Promise<Session | null> {
  const cookie = readSessionCookie(c.req.raw);
  if (!cookie) return null;
  return sessionStore(c).get(cookie, c.get("now"));
}

/** The interaction page of each prompt. */
const PAGES: Record<Extract<Decision, { kind: "interaction" }>["prompt"], string> = {
  login: "/login",
  verify_email: "/verify-email/needed",
  consent: "/consent",
};

/** A redirect to one of our interaction pages, carrying the sealed transaction. */
export async function toInteraction(c: AppContext, path: string, txn: Transaction): Promise<Response> {
  const url = new URL(path, c.get("config").issuer);
  url.searchParams.set("txn", await sealTransaction(txn, encryptionKey(c)));
  return new Response(null, { status: c.req.method === "POST" ? 303 : 302, headers: { location: url.pathname + url.search, "cache-control": "no-store" } });
}

/** The transaction an interaction page was given (tampered with, expired or missing → interaction_expired). */
export const transactionFrom = (c: AppContext, value: string | undefined): Promise<Transaction> =>
  openTransaction(value, encryptionKey(c), c.get("now"));

/** Where an interaction page sends the browser once it has done its part. */
export const continueUrl = async (c: AppContext, txn: Transaction): Promise<string> =>
  `/authorize/continue?txn=${encodeURIComponent(await sealTransaction(txn, encryptionKey(c)))}`;

/**
 * The step at the heart of the authorization endpoint, re-entered after each interaction page
 * (OIDC Core §3.1.2.3–3.1.2.6): sign-in, the person's account and address, consent, then the
 * completion.
 */
export async function proceed(c: AppContext, client: Client, txn: Transaction): Promise<Response> {
  const now = c.get("now");
  const session = await currentSession(c);
  // The person and their consent to this client in one read.
  const { user, consent } = session === null ? { user: null, consent: null } : await grantStateStore(c).get(session.userId, client.clientId);
  const decision = decide({ txn, session, user, consent, client, now, acrTable: c.get("config").acrTable });
  switch (decision.kind) {
    case "interaction":
      return toInteraction(c, PAGES[decision.prompt], txn);
    case "error":
      throw new OAuthError(decision.code);
    case "granted": {
      const { session, user } = decision;
      const grant = decision.recordConsent
        ? await consentStore(c).grant(user.id, client.clientId, txn.request.scope, now, txn.request.resources)
        : decision.consent!;
      return complete(c, txn, { sub: user.id, authTime: session.authTime, sid: session.sid, amr: session.amr, grantId: grant.grantId });
    }
  }
}

/** What a sign-in continues: a pending authorization (its sealed `txn` as sent, and opened), or a page of ours, by name. */
export type SignInFor = { txnValue: string; txn: Transaction } | { returnTo: SignInReturn };

/** The sign-in's purpose from its `txn` (checked: interaction_expired) or, when there is none, its `return`. */
export async function signInFor(c: AppContext, txnValue: string | undefined, returnTo: string | undefined): Promise<SignInFor> {
  if (txnValue === undefined && isSignInReturn(returnTo)) return { returnTo };
  return { txnValue: txnValue!, txn: await transactionFrom(c, txnValue) };
}

/**
 * Finishes a sign-in, however the person authenticated (password; a passkey): sets the new
 * session's cookie and sends the browser on — back into the authorization, which the new session
 * now satisfies (prompt=login, max_age), or to the page of ours the sign-in was for.
 */
export async function completeSignIn(c: AppContext, signedIn: { sid: string; cookie: string }, target: SignInFor): Promise<Response> {
  const next = "txn" in target ? await continueUrl(c, { ...target.txn, authenticatedSid: signedIn.sid }) : SIGN_IN_RETURNS[target.returnTo];
  return seeOther(next, { "set-cookie": signedIn.cookie });
}
