import { unusableClientPage } from "../clients/metadata-document";
import { matchRedirectUri } from "../clients/redirect-uris";
import { clientAuthDeps, clientStore, requestKeyring } from "../services";
import { hintedSubject } from "../authorize/id-token-hint";
import type { Client } from "../clients/model";
import { pushedRequestIdOf, resolvedAuthorizationParams } from "../authorize/pushed-request";
import { fail } from "../authorize/completions";
import { proceed, transactionFrom } from "../authorize/flow";
import { newTransaction, responseModeOf, validateAuthorizationRequest, type Transaction } from "../authorize/request";
import { ensureWithinBound } from "../authorize/limits";
import { authorizationError } from "../authorize/response";
import { OAuthError, ensure, errorBody } from "../errors/oauth-error";
import type { Step } from "../http/context";
import { REPEATABLE_PARAMETERS, joinRepeated, parseFormEncodedMulti, readFormText, type Params } from "../http/form";
import { renderErrorPage } from "../pages";

/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1.1; OIDC Core §3.1.2), GET and POST, as a
 * pipeline. Until client_id and redirect_uri are validated every error is an HTML page and nothing
 * is redirected (RFC 6749 §3.1.2.4, §4.1.2.1); after that, errors go to the redirect URI.
 */

/** Browser-facing errors become HTML pages (400 for request errors); what the redirect step handled stays handled. */
export const pageErrors: Step = async function pageErrors(c, next) {
  await next();
  const err = c.error;
  if (!err) return;
  c.error = undefined;
  c.res = await renderErrorPage(c, err instanceof OAuthError ? err : new OAuthError("server_error"));
};

/**
 * After validation: redirectable errors are delivered to the client (with state and iss) — before
 * the transaction exists to the validated redirect URI, after it by the transaction's completion
 * (src/authorize/completions.ts). An unexpected failure becomes `server_error` there too, since a
 * 500 cannot reach the client through a redirect (RFC 6749 §4.1.2.1); app.onError has already logged it.
 */
export const redirectErrors: Step = async function redirectErrors(c, next) {
  await next();
  if (!c.error) return;
  const err = c.error instanceof OAuthError ? c.error : new OAuthError("server_error");
  if (!err.entry.redirect) return;
  const txn = c.get("transaction") as Transaction | undefined;
  c.error = undefined;
  // A kind without a registered completion throws server_error here, which pageErrors shows.
  if (txn !== undefined) {
    c.res = await fail(c, txn, err);
    return;
  }
  const body = errorBody(err);
  c.res = await authorizationError(c, c.get("redirectTarget"), body.error, body.error_description);
};

export const readAuthorizationParams: Step = async function readAuthorizationParams(c, next) {
  const source =
    c.req.method === "POST"
      ? await readFormText(c.req.raw, c.get("config").maxBodyBytes)
      : new URL(c.req.url).search.slice(1);
  const multi = parseFormEncodedMulti(source, "authorization request");
  const single = new Map<string, string>();
  const duplicates: string[] = [];
  for (const [name, values] of multi) {
    const repeatable = REPEATABLE_PARAMETERS.has(name);
    if (values.length > 1 && !repeatable) duplicates.push(name);
    single.set(name, repeatable ? joinRepeated(values) : values[0]!);
  }
  ensure(!duplicates.includes("client_id") && !duplicates.includes("redirect_uri"), "authorize_duplicate_parameter");
  c.set("params", single);
  // Other duplicates are reported once redirecting is safe (validateRequest).
  c.set("duplicateParams", duplicates);
  await next();
};

export const identifyClient: Step = async function identifyClient(c, next) {
  const clientId = c.get("params").get("client_id");
  ensure(clientId !== undefined, "authorize_missing_client_id");
  ensure(/^[\x21-\x7e]{1,128}$/.test(clientId), "authorize_unknown_client");
  const client = await clientStore(c).get(clientId).catch(unusableClientPage);
  ensure(client !== null && !client.disabled, "authorize_unknown_client");
  c.set("authzClient", client);
  await next();
};

/**
 * The redirect URI of a request: the one it names, if registered, or the client's only one
 * (RFC 6749 §3.1.2.3; OIDC Core §3.1.2.1 requires it). Also the PAR endpoint's check (RFC 9126 §2.3).
 */
export function requestedRedirectUri(client: Client, params: Params): string {
  const requested = params.get("redirect_uri");
  let redirectUri: string | undefined;
  if (requested === undefined) {
    // RFC 6749 §3.1.2.3 allows omitting it with exactly one registered; OIDC Core §3.1.2.1 requires it.
    const openid = (params.get("scope") ?? "").split(" ").includes("openid");
    ensure(client.redirectUris.length === 1 && !openid, "authorize_missing_redirect_uri",
      openid ? "OpenID Connect requests must include redirect_uri." : undefined);
    redirectUri = client.redirectUris[0];
  } else {
    redirectUri = matchRedirectUri(client, requested);
    ensure(redirectUri !== undefined, "authorize_redirect_uri_mismatch");
  }
  // A registered URI (or a loopback one with its port) that would not fit in the code: a page, like any redirect URI problem.
  ensureWithinBound("redirect_uri", redirectUri);
  return redirectUri!;
}

export const resolveRedirectUri: Step = async function resolveRedirectUri(c, next) {
  const redirectUri = requestedRedirectUri(c.get("authzClient"), c.get("params"));
  const state = c.get("params").get("state");
  c.set("redirectTarget", {
    redirectUri,
    responseMode: responseModeOf(c.get("params")).mode,
    ...(state !== undefined && { state }),
  });
  await next();
};

export const validateRequest: Step = async function validateRequest(c, next) {
  const duplicates = c.get("duplicateParams");
  if (duplicates.length) throw new OAuthError("duplicate_parameter", `The ${duplicates[0]} parameter was sent more than once.`);
  const target = { ...c.get("redirectTarget"), redirectUriSent: c.get("params").has("redirect_uri") };
  const { request, completion } = validateAuthorizationRequest(c.get("params"), c.get("authzClient"), target, c.get("config"));
  // RFC 9126 §7.3: a pushed request's transaction carries its id, spent when its code is issued.
  const pushedRequestId = pushedRequestIdOf(c.get("params"));
  if (pushedRequestId !== undefined) completion.pushedRequestId = pushedRequestId;
  c.set("transaction", newTransaction(request, completion, c.get("config"), c.get("now")));
  await next();
};

/** OIDC Core §3.1.2.1: an id_token_hint names the person the request is for (src/authorize/id-token-hint.ts). */
export const checkIdTokenHint: Step = async function checkIdTokenHint(c, next) {
  const { request } = c.get("transaction");
  const deps = { config: c.get("config"), keys: await requestKeyring(c), now: c.get("now") };
  const subject = await hintedSubject(c.get("params"), c.get("authzClient"), request.subject, deps);
  if (subject !== undefined) request.subject = subject;
  await next();
};

export const decide: Step = async function decide(c) {
  return proceed(c, c.get("authzClient"), c.get("transaction"));
};

/** GET /authorize/continue?txn=…: where the interaction pages send the browser back. */
export const resumeTransaction: Step = async function resumeTransaction(c, next) {
  const txn = await transactionFrom(c, c.req.query("txn"));
  const client = await clientStore(c).get(txn.request.clientId);
  ensure(client !== null && !client.disabled, "authorize_unknown_client");
  c.set("authzClient", client);
  c.set("transaction", txn);
  await next();
};

/**
 * A pushed request (`request_uri`, RFC 9126 §4) or a request object by value (`request`, RFC 9101)
 * becomes the request's parameters, before anything reads them (src/authorize/pushed-request.ts);
 * its errors are pages, the redirect URI not being known yet.
 */
export const resolveRequest: Step = async function resolveRequest(c, next) {
  const params = c.get("params");
  const resolved = await resolvedAuthorizationParams(params, c.get("authzClient"), clientAuthDeps(c));
  if (resolved !== params) {
    c.set("params", resolved);
    c.set("duplicateParams", []);
  }
  await next();
};

export const authorizeEndpoint = [pageErrors, readAuthorizationParams, identifyClient, resolveRequest, resolveRedirectUri, redirectErrors, validateRequest, checkIdTokenHint, decide] as const;
export const continueEndpoint = [pageErrors, resumeTransaction, redirectErrors, decide] as const;
