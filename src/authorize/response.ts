import type { AppContext } from "../http/context";
import { renderFormPost } from "../pages";
import type { RedirectTarget } from "./request";

/**
 * Delivers an authorization response (a code, or an error) to the validated redirect URI, with
 * `state` when the request had one and `iss` always (RFC 9207), in the request's response mode:
 * query (RFC 6749 §4.1.2), fragment, or form_post (an auto-submitting page). After a POST the
 * redirect is 303, after a GET 302 (RFC 9700 §4.12).
 */
export async function authorizationResponse(
  c: AppContext,
  target: RedirectTarget,
  members: Record<string, string>,
): Promise<Response> {
  const params: Record<string, string> = { ...members, iss: c.get("config").issuer };
  if (target.state !== undefined) params.state = target.state;
  if (target.responseMode === "form_post") return renderFormPost(c, target.redirectUri, params);
  const url = new URL(target.redirectUri);
  if (target.responseMode === "fragment") {
    url.hash = new URLSearchParams(params).toString();
  } else {
    for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
  }
  return new Response(null, {
    status: c.req.method === "POST" ? 303 : 302,
    headers: { location: url.toString(), "cache-control": "no-store", "referrer-policy": "no-referrer" },
  });
}

/** An error as an authorization response (RFC 6749 §4.1.2.1). */
export function authorizationError(c: AppContext, target: RedirectTarget, error: string, description: string): Promise<Response> {
  return authorizationResponse(c, target, { error, error_description: description });
}
