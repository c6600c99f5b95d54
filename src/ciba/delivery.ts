import type { Client } from "../clients/model";
import { ensure } from "../errors/oauth-error";
import { mintForApproval, type ApprovalContext } from "../grants/approved-tokens";
import { OutboundError, outboundFetch } from "../http/outbound";
import { log } from "../log";
import type { TokenResponse } from "../tokens/minter";
import type { CibaApproval, CibaDelivery, CibaOutcome, CibaRequestState, DeliveryMode } from "./model";

/**
 * CIBA ping and push delivery (OpenID CIBA Core 1.0 §10.2, §10.3, §12): the `CibaDelivery` port the
 * request's object (workers/ciba-request.ts) calls once a request is approved, denied or expired.
 *
 * - ping (§10.2): POST `{"auth_req_id"}` to the client's notification endpoint; the client then
 *   polls the token endpoint as in poll mode. Sent for an approval and a denial.
 * - push (§10.3): POST the token response plus `auth_req_id` — the tokens are minted here, once, and
 *   the ID token names the request (`urn:openid:params:jwt:claim:auth_req_id`) with `at_hash` and,
 *   with a refresh token, `urn:openid:params:jwt:claim:rt_hash`. A denial or an expiry is pushed as
 *   an error (§12: access_denied, expired_token). Push clients may not poll (`mayPoll`).
 *
 * Every callback carries `Authorization: Bearer <client_notification_token>` (the token the client
 * sent with its request) and goes through the one outbound-fetch policy (src/http/outbound.ts):
 * https to a public host (checked again at every attempt), no redirects followed (a 3xx is a
 * failure), a deadline, the answer's body not read. The outcome of each attempt is one log line
 * (`ciba_callback`): delivered (2xx), given up (401/403 — the client refused our credential, §10.2
 * says not to retry; any other 4xx; a URL the policy refuses; the last attempt), or to be retried
 * (5xx, a timeout, an unreachable host) at the time `nextAttempt` gives — the object keeps the
 * pending callback and its alarm calls `attempt` again. A failed callback never breaks the poll:
 * nothing here throws, and for ping the request stays pollable.
 */

/** The delivery mode a client registered (CIBA §4 backchannel_token_delivery_mode); poll for a client without one. */
export function deliveryModeOf(client: Client): DeliveryMode {
  const mode = client.metadata.backchannel_token_delivery_mode;
  return mode === "ping" || mode === "push" ? mode : "poll";
}

/** CIBA §10.3: a push client receives its tokens at its endpoint and may not poll the token endpoint. */
export const mayPoll = (client: Client): boolean => deliveryModeOf(client) !== "push";

/** The client's notification endpoint (CIBA §4), registered for ping and push. */
export function notificationEndpointOf(client: Client): string | undefined {
  const uri = client.metadata.backchannel_client_notification_endpoint;
  return typeof uri === "string" ? uri : undefined;
}

/** RFC 6750 §2.1 b64token: the syntax CIBA §7.1 gives client_notification_token. */
const BEARER_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * CIBA §7.1 `client_notification_token` of a backchannel authentication request: REQUIRED for ping
 * and push clients (the callback carries it), a bearer token of at most 1024 characters; poll clients'
 * requests do not use it (undefined).
 */
export function clientNotificationToken(params: ReadonlyMap<string, string>, client: Client): string | undefined {
  if (deliveryModeOf(client) === "poll") return undefined;
  const token = params.get("client_notification_token");
  ensure(token !== undefined, "client_notification_token_missing");
  ensure(token.length <= 1024 && BEARER_SYNTAX.test(token), "client_notification_token_malformed");
  return token;
}

/** At most this many attempts per callback (the first one included). */
export const MAX_ATTEMPTS = 5;
/** Seconds before the retry after attempt n (n = 1 …): 10 s, 30 s, 90 s, 270 s. */
const RETRY_DELAYS = [10, 30, 90, 270] as const;
/** Deadline of one callback (connection and answer). */
export const CALLBACK_TIMEOUT_MS = 5000;

/** When to try again after failed attempt `attempt` (1-based) made at `now` (Unix seconds); null: no more attempts. */
export function nextAttempt(attempt: number, now: number): number | null {
  return attempt >= 1 && attempt < MAX_ATTEMPTS ? now + RETRY_DELAYS[attempt - 1]! : null;
}

/** A callback ready to send, kept by the object between attempts (it holds the pushed tokens until delivered). */
export interface PendingCallback {
  /** The request's key (its object), for the log lines; never the auth_req_id itself. */
  requestId: string;
  clientId: string;
  mode: "ping" | "push";
  /** What is said: ping, pushed tokens, or a pushed error. */
  kind: "ping" | "tokens" | "error";
  uri: string;
  bearer: string;
  /** The JSON body. */
  body: string;
  /** Attempts made so far. */
  attempts: number;
}

/** What an attempt came to, for the object: done (delivered or given up), or try again at `at` with `pending`. */
export type CallbackResult =
  | { result: "delivered"; status: number }
  | { result: "given_up"; reason: string; status?: number }
  | { result: "retry"; at: number; pending: PendingCallback };

export interface DeliveryDeps {
  /** The client as registered now (its mode and endpoint). */
  client(clientId: string): Promise<Client | null>;
  /** Mints a push's tokens for the approval (mintForApproval with the auth_req_id); push only. */
  mintPush(client: Client, request: CibaRequestState & { authReqId: string }, approval: CibaApproval): Promise<TokenResponse>;
  /** config.allowInsecureClientUris (local development: loopback http endpoints). */
  allowInsecure: boolean;
  now(): number;
  /** Keeps a callback to retry, and sets the object's alarm for `at` (Unix seconds). */
  retryLater(pending: PendingCallback, at: number): Promise<void>;
}

/**
 * The callback for a decided request, or null when nothing is to be sent (poll mode, a ping for an
 * expiry, a client no longer registered for ping/push). For push with an approval this mints the
 * tokens — once: the object keeps the result until it is delivered or given up.
 */
export async function callbackFor(request: CibaRequestState, outcome: CibaOutcome, deps: DeliveryDeps): Promise<PendingCallback | null> {
  const fields = { request: request.id, client_id: request.clientId };
  const client = await deps.client(request.clientId);
  const mode = client === null ? "poll" : deliveryModeOf(client);
  const uri = client === null ? undefined : notificationEndpointOf(client);
  if (mode === "poll" || client === null || uri === undefined) return null;
  const { authReqId, clientNotificationToken: bearer } = request;
  if (authReqId === undefined || bearer === undefined) {
    log("error", "ciba_callback", { ...fields, mode, delivered: false, reason: "the request kept no auth_req_id or client_notification_token" });
    return null;
  }
  const base = { requestId: request.id, clientId: client.clientId, mode, uri, bearer, attempts: 0 } as const;
  if (mode === "ping") {
    // §10.2: the body is the auth_req_id alone; an expiry is learnt by polling (expired_token).
    return outcome.outcome === "expired" ? null : { ...base, kind: "ping", body: JSON.stringify({ auth_req_id: authReqId }) };
  }
  if (outcome.outcome !== "approved") {
    const error = outcome.outcome === "denied"
      ? { error: "access_denied", error_description: "The person denied the request." }
      : { error: "expired_token", error_description: "The request expired before the person approved it." };
    return { ...base, kind: "error", body: JSON.stringify({ ...error, auth_req_id: authReqId }) };
  }
  const tokens = await deps.mintPush(client, { ...request, authReqId }, outcome.approval);
  return { ...base, kind: "tokens", body: JSON.stringify({ auth_req_id: authReqId, ...tokens }) };
}

/** One attempt at a callback; logs it, and says whether to try again. Never throws. */
export async function attempt(pending: PendingCallback, deps: Pick<DeliveryDeps, "allowInsecure" | "now">): Promise<CallbackResult> {
  const made = { ...pending, attempts: pending.attempts + 1 };
  const fields = { request: made.requestId, client_id: made.clientId, mode: made.mode, kind: made.kind, uri: made.uri, attempt: made.attempts };
  try {
    const { status } = await outboundFetch(made.uri, {
      purpose: "backchannel_client_notification_endpoint",
      accept: null,
      maxBytes: 0,
      timeoutMs: CALLBACK_TIMEOUT_MS,
      // §10.2, §10.3: the client answers 204 (or 200).
      okStatus: [200, 201, 202, 204],
    }, { allowInsecure: deps.allowInsecure, bearer: made.bearer, post: { contentType: "application/json", body: made.body } });
    log("info", "ciba_callback", { ...fields, delivered: true, status });
    return { result: "delivered", status };
  } catch (error) {
    const reason = error instanceof OutboundError ? error.reason : String(error instanceof Error ? error.message : error).slice(0, 200);
    const status = error instanceof OutboundError ? error.extra.status : undefined;
    const at = retryable(error) ? nextAttempt(made.attempts, deps.now()) : null;
    log("warn", "ciba_callback", { ...fields, delivered: false, status, reason, retry_at: at ?? undefined });
    return at === null ? { result: "given_up", reason, ...(status !== undefined && { status }) } : { result: "retry", at, pending: made };
  }
}

/** 5xx, a timeout or an unreachable host may pass; 401/403 (§10.2: no retry), other 4xx, redirects and refused URLs will not. */
function retryable(error: unknown): boolean {
  if (!(error instanceof OutboundError)) return false;
  if (error.failure === "timeout" || error.failure === "unreachable") return true;
  return error.failure === "status" && (error.extra.status ?? 0) >= 500;
}

/**
 * DeliveryDeps.mintPush over the one approval minter (src/grants/approved-tokens.ts): the tokens a
 * poll would get, the ID token naming the auth_req_id with its rt_hash (CIBA §10.3.1).
 */
export function pushMinter(ctx: Omit<ApprovalContext, "client" | "binding">): DeliveryDeps["mintPush"] {
  return async (client, request, approval) => {
    const minted = await mintForApproval({ ...ctx, client: { client } }, { ...approval, scope: request.scope, authReqId: request.authReqId }, () => {});
    return minted.response;
  };
}

/** The port for ping and push clients: build the callback, make the first attempt, leave retries to the object's alarm. */
export function cibaDelivery(deps: DeliveryDeps): CibaDelivery {
  return {
    async notify(request, outcome) {
      try {
        const pending = await callbackFor(request, outcome, deps);
        if (pending === null) return;
        const result = await attempt(pending, deps);
        if (result.result === "retry") await deps.retryLater(result.pending, result.at);
      } catch (error) {
        log("error", "ciba_callback", {
          request: request.id, client_id: request.clientId, delivered: false,
          reason: String(error instanceof Error ? `${error.name}: ${error.message}` : error).slice(0, 200),
        });
      }
    },
  };
}

// ── retries in the request's object ──────────────────────────────────────────────────────────

/** Where the object keeps its callback between attempts (the object's storage; deleted with it). */
const KEPT = "ciba_callback";
interface Kept {
  pending: PendingCallback;
  /** Unix seconds of the next attempt. */
  at: number;
}

/** DeliveryDeps.retryLater for a request's object: keeps the callback and brings its alarm forward to `at`. */
export async function keepForRetry(storage: DurableObjectStorage, pending: PendingCallback, at: number): Promise<void> {
  await storage.put<Kept>(KEPT, { pending, at });
  const alarm = await storage.getAlarm();
  if (alarm === null || alarm > at * 1000) await storage.setAlarm(at * 1000);
}

/**
 * From the object's alarm: makes the kept callback's next attempt when it is due. Returns when the
 * object must wake up again for it (Unix seconds), or null when nothing is left to send (delivered,
 * given up, or nothing kept) — the object may then delete its state.
 */
export async function retryDue(storage: DurableObjectStorage, deps: Pick<DeliveryDeps, "allowInsecure" | "now">): Promise<number | null> {
  const kept = await storage.get<Kept>(KEPT);
  if (kept === undefined) return null;
  if (kept.at > deps.now()) return kept.at;
  const result = await attempt(kept.pending, deps);
  if (result.result === "retry") {
    await storage.put<Kept>(KEPT, { pending: result.pending, at: result.at });
    return result.at;
  }
  await storage.delete(KEPT);
  return null;
}

/** When the kept callback's next attempt is due (Unix seconds), or null when none is kept. */
export async function keptCallbackAt(storage: DurableObjectStorage): Promise<number | null> {
  return (await storage.get<Kept>(KEPT))?.at ?? null;
}
