import type { ClientAuthDeps } from "../client-auth/types";
import type { Client } from "../clients/model";
import { open, seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { Params } from "../http/form";
import type { Config } from "../config";
import { issueOnce } from "../replay/issue-once";
import type { ReplayCache, ReplayNamespace } from "../replay/replay-cache";
import type { Transaction } from "./request";
import { pushRequired, requestObjectParams, requestUriParams } from "./request-object";

/**
 * Pushed authorization requests (RFC 9126): where a pushed request lives, and how the
 * authorization endpoint takes it back.
 *
 * **Where it lives: in the request_uri itself**, sealed (AES-GCM, src/crypto/aead.ts, the
 * interaction key with its own additional data): `urn:ietf:params:oauth:request_uri:<sealed>`
 * holding the client, the validated parameters, a random id and the expiry. No row is written at
 * PAR time, nothing to clean up, and nothing a replica could miss (docs/storage.md); the client
 * learns nothing from it (it is encrypted) and cannot change it (it is authenticated). The cost is
 * length: the sealed request is bounded (MAX_REQUEST_URI, so the authorization URL stays within the
 * common 8 KiB request line), and a larger pushed request is refused with 413 (RFC 9126 §2.3).
 *
 * **One code per request_uri** (RFC 9126 §7.3; FAPI 2.0's "reopened until authentication
 * completes"): opening the request_uri at the authorization endpoint spends nothing — the person may
 * reload it, or open it in a second tab, while it lives (parTtl) — and each opening carries the
 * pushed request's random id in its sealed transaction (`pushedRequestId` of the redirect
 * completion). The id is spent when the authorization completes, as the code is issued, through
 * `issueOnce` in the ReplayGuard (namespace `par_request_uri`, 16 objects): of any number of
 * transactions opened from one request_uri, finishing at once, exactly one gets a code; the others,
 * and every later use of the request_uri that reaches a code, end on the invalid_request_uri page
 * (pushed_request_uri_used). An authorization that ends in an error (access_denied, login_required)
 * issues nothing and spends nothing.
 */

export const REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:";
/** The longest request_uri handed out or accepted: with client_id, /authorize?… stays within 8 KiB. */
export const MAX_REQUEST_URI = 6144;
/** Parameters of the PAR body that authenticate the client: not part of the authorization request. */
const CLIENT_AUTH_PARAMETERS = new Set(["client_secret", "client_assertion", "client_assertion_type", "request"]);
/** Pushed requests whose code was issued (RFC 9126 §7.3), by id, spread over 16 objects. */
const PUSHED_REQUESTS: ReplayNamespace = { name: "par_request_uri", shardHexDigits: 1 };
const AAD = "pushed_request";

interface PushedRequest {
  id: string;
  clientId: string;
  params: [string, string][];
  expiresAt: number;
}

/**
 * The parameters a pushed request stands for: those of the body (without client authentication),
 * or those of its request object (RFC 9126 §3: the object's alone).
 */
export async function pushedParameters(body: Params, client: Client, deps: ClientAuthDeps): Promise<Map<string, string>> {
  ensure(!body.has("request_uri"), "par_request_uri_in_body");
  const jwt = body.get("request");
  const params = jwt === undefined ? body : await requestObjectParams(jwt, body, client, deps, { pushed: true });
  const kept = new Map<string, string>();
  for (const [name, value] of params) if (!CLIENT_AUTH_PARAMETERS.has(name)) kept.set(name, value);
  kept.set("client_id", client.clientId);
  return kept;
}

/** Seals a validated pushed request into its request_uri (RFC 9126 §2.2). */
export async function pushRequest(params: Params, client: Client, deps: ClientAuthDeps): Promise<string> {
  const pushed: PushedRequest = { id: randomToken(16), clientId: client.clientId, params: [...params], expiresAt: deps.now + deps.config.parTtl };
  const requestUri = REQUEST_URI_PREFIX + (await seal(deps.encryptionKey, "interaction", AAD, JSON.stringify(pushed)));
  ensure(requestUri.length <= MAX_REQUEST_URI, "par_request_too_large",
    `The pushed request does not fit in a request_uri of ${MAX_REQUEST_URI} characters; send shorter values.`);
  return requestUri;
}

/**
 * The authorization request a `request_uri` stands for (RFC 9126 §4): opened, bound to `client`,
 * and not expired (it is spent once its code is issued: issueOncePerPushedRequest). Any other
 * parameter sent with it is ignored (§4: the pushed ones are the request). Errors are
 * invalid_request_uri; the authorization endpoint shows them as pages.
 */
export async function takePushedRequest(requestUri: string, client: Client, deps: ClientAuthDeps): Promise<Map<string, string>> {
  ensure(requestUri.startsWith(REQUEST_URI_PREFIX) && requestUri.length <= MAX_REQUEST_URI, "pushed_request_uri_invalid");
  let pushed: PushedRequest;
  try {
    pushed = JSON.parse(await open(deps.encryptionKey, "interaction", AAD, requestUri.slice(REQUEST_URI_PREFIX.length))) as PushedRequest;
  } catch {
    throw new OAuthError("pushed_request_uri_invalid");
  }
  ensure(pushed.clientId === client.clientId, "pushed_request_uri_other_client");
  ensure(pushed.expiresAt > deps.now, "pushed_request_uri_invalid", "The request_uri has expired. Start again from the application.");
  const params = new Map(pushed.params);
  pushedRequestIds.set(params, pushed.id);
  return params;
}

/** Which pushed request resolved parameters came from (takePushedRequest): none for other requests. */
const pushedRequestIds = new WeakMap<Params, string>();
export const pushedRequestIdOf = (params: Params): string | undefined => pushedRequestIds.get(params);

/**
 * Issues what a transaction of a pushed request completes with (its code), at most once per
 * pushed request (RFC 9126 §7.3): the pushed request's id is held, the code issued, the id marked
 * used (src/replay/issue-once.ts). Another transaction of the same request_uri, now or later, gets
 * pushed_request_uri_used. The id is remembered while any transaction opened from the request_uri
 * can complete: one opened just before the request_uri expired lives interactionTtl more.
 */
export async function issueOncePerPushedRequest<T>(
  replay: ReplayCache,
  txn: Pick<Transaction<"redirect">, "completion" | "createdAt">,
  config: Pick<Config, "parTtl" | "interactionTtl" | "clockSkew">,
  issue: () => Promise<T>,
): Promise<T> {
  const id = txn.completion.pushedRequestId;
  if (id === undefined) return issue();
  const expiresAt = txn.createdAt + config.parTtl + config.interactionTtl + config.clockSkew;
  const redeemed = await issueOnce(replay, { namespace: PUSHED_REQUESTS, key: id, expiresAt }, async () => ({ value: await issue(), record: "code" }));
  ensure(redeemed.outcome === "issued", "pushed_request_uri_used");
  return redeemed.value;
}

/**
 * The authorization endpoint's parameters once `request_uri` (a pushed request) or `request` (a
 * request object by value) is resolved; the request as sent otherwise. A client or server that
 * requires PAR gets pushed_request_required for anything else (RFC 9126 §5, §6). Any other
 * `request_uri` is a request object by reference (src/authorize/request-object.ts).
 */
export async function resolvedAuthorizationParams(params: Params, client: Client, deps: ClientAuthDeps): Promise<Params> {
  const requestUri = params.get("request_uri");
  ensure(!(requestUri !== undefined && params.has("request")), "request_and_request_uri");
  if (requestUri !== undefined && requestUri.startsWith(REQUEST_URI_PREFIX)) return takePushedRequest(requestUri, client, deps);
  ensure(!pushRequired(client, deps.config), "pushed_request_required");
  if (requestUri !== undefined) return requestUriParams(requestUri, params, client, deps);
  const jwt = params.get("request");
  return jwt === undefined ? params : requestObjectParams(jwt, params, client, deps, { pushed: false });
}
