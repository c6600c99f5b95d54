import { log } from "../log";
import type { AppContext } from "../http/context";
import { NO_STORE } from "../http/context";
import { OAuthError, errorBody } from "./oauth-error";

/**
 * The one place errors become responses. OAuthErrors answer from the catalog; anything else is
 * logged with its stack and answered as a bare `server_error` (no internals leave the server).
 *
 * A 401 `invalid_client` carries `WWW-Authenticate: Basic` (RFC 6749 §5.2; RFC 9110 §15.5.2 requires
 * a challenge on every 401), and `invalid_token` a Bearer challenge (RFC 6750 §3).
 */
export function errorResponse(err: unknown, c: AppContext): Response {
  let error: OAuthError;
  if (err instanceof OAuthError) {
    error = err;
  } else {
    error = new OAuthError("server_error");
    const e = err instanceof Error ? err : new Error(String(err));
    log("error", "unhandled_error", { path: c.req.path, message: e.message, stack: e.stack });
  }
  const { status } = error.entry;
  const body = errorBody(error);
  const headers: Record<string, string> = { "content-type": "application/json", ...NO_STORE, ...error.headers };
  if (status === 401) {
    const realm = c.get("config")?.issuer ?? "latchkey";
    headers["www-authenticate"] =
      body.error === "invalid_token"
        ? `Bearer realm="${realm}", error="invalid_token", error_description="${body.error_description}"`
        : `Basic realm="${realm}", charset="UTF-8"`;
  }
  // authorization_pending is the polled grants' normal answer (RFC 8628 §3.5, CIBA §11), not a
  // fault: a waiting device polls every few seconds, and a log line for each would bury the real ones.
  if (body.error !== "authorization_pending") log(status >= 500 ? "error" : "warn", "oauth_error", {
    path: c.req.path,
    status,
    error: body.error,
    code: error.code,
    client_id: c.get("client")?.client.clientId,
  });
  return new Response(JSON.stringify(body), { status, headers });
}
