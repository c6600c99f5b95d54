import { errorBody, OAuthError } from "../errors/oauth-error";
import type { AppContext } from "../http/context";
import { encryptionKey, replayCache } from "../services";
import { issueCode } from "./codes";
import { issueOncePerPushedRequest } from "./pushed-request";
import type { Authorized, CompletionKind, Transaction } from "./request";
import { authorizationError, authorizationResponse } from "./response";

/**
 * How an authorization ends, by its completion kind. Sign-in, email verification and consent are
 * the same pages for every kind; only this last step differs: `redirect` sends a code to the
 * client's redirect URI, `device` approves a device authorization request (RFC 8628 §3.3), and
 * CIBA's `backchannel` comes next.
 *
 * A kind's module registers its handler when it is loaded (`registerCompletion("device", …)` in
 * the device module, which src/app.ts imports). A transaction whose kind has no handler ends in
 * `server_error`.
 */
export interface CompletionHandler<K extends CompletionKind = CompletionKind> {
  /** The person is signed in, verified and has consented (grant `who.grantId`): complete, and answer the browser. */
  complete(c: AppContext, txn: Transaction<K>, who: Authorized): Promise<Response>;
  /**
   * The authorization ends in an error the client may be told of (a catalog entry with `redirect`):
   * the person denied consent (access_denied), prompt=none could not be honoured, the account is
   * disabled. Other errors (an expired transaction, a bad CSRF token) stay error pages.
   */
  fail(c: AppContext, txn: Transaction<K>, error: OAuthError): Promise<Response>;
}

type Registry = { [K in CompletionKind]?: CompletionHandler<K> };
const handlers: Registry = {};

/** Registers the handler of a kind; returns what puts the previous one (or none) back. */
export function registerCompletion<K extends CompletionKind>(kind: K, handler: CompletionHandler<K>): () => void {
  const table = handlers as Record<K, CompletionHandler<K> | undefined>;
  const previous = table[kind];
  table[kind] = handler;
  return () => {
    table[kind] = previous;
  };
}

/** The handler for this transaction's kind; none registered → `server_error`. */
function handlerFor<K extends CompletionKind>(txn: Transaction<K>): CompletionHandler<K> {
  const handler = handlers[txn.completion.kind] as CompletionHandler<K> | undefined;
  if (handler === undefined) throw new OAuthError("server_error", `No completion is registered for ${txn.completion.kind} authorizations.`);
  return handler;
}

export const complete = (c: AppContext, txn: Transaction, who: Authorized): Promise<Response> => handlerFor(txn).complete(c, txn, who);

export const fail = (c: AppContext, txn: Transaction, error: OAuthError): Promise<Response> => handlerFor(txn).fail(c, txn, error);

/** The code flow (RFC 6749 §4.1.2): a code bound to the request, delivered in the request's response mode. */
registerCompletion("redirect", {
  async complete(c, txn, who) {
    // RFC 9126 §7.3: a pushed request's code is issued once (src/authorize/pushed-request.ts).
    const code = await issueOncePerPushedRequest(replayCache(c), txn, c.get("config"), () => issueCode(
      {
        ...txn.completion, clientId: txn.request.clientId, scope: txn.request.scope,
        ...(txn.request.resources !== undefined && { resources: txn.request.resources }),
        ...(txn.request.authorizationDetails !== undefined && { authorizationDetails: txn.request.authorizationDetails }),
        ...(txn.request.claims !== undefined && { claims: txn.request.claims }),
        ...(txn.request.acrValues !== undefined && { acrValues: txn.request.acrValues }),
      },
      who,
      { encryptionKey: encryptionKey(c), now: c.get("now"), ttl: c.get("config").codeTtl },
    ));
    return authorizationResponse(c, txn.completion, { code });
  },
  fail(c, txn, error) {
    const body = errorBody(error);
    return authorizationError(c, txn.completion, body.error, body.error_description);
  },
});
