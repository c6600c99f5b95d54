import type { Client } from "../clients/model";
import type { ClientStore } from "../clients/store";
import type { Config } from "../config";
import { ensure } from "../errors/oauth-error";
import type { Params } from "../http/form";
import type { Keyring } from "../keys/keyring";
import { verifyOwnIdToken, type OwnIdTokenClaims } from "../tokens/verify-id-token";

/**
 * A logout request at the end_session_endpoint (OIDC RP-Initiated Logout 1.0 §2), validated. Every
 * failure is an error page (the catalog's `logout_*` codes), never a redirect: until the client and
 * its post_logout_redirect_uri are established nothing may be sent anywhere (§3, RFC 9700 §4.11).
 * `ui_locales` and `logout_hint` are accepted and not used (one language; the session is this
 * browser's, or the id_token_hint names it).
 */
export interface LogoutRequest {
  /** The id_token_hint, verified: an ID token we issued (expired ones too, §2). */
  hint?: OwnIdTokenClaims;
  /** The client named by client_id, or else by the hint's audience; undefined when neither names a live client. */
  client?: Client;
  /** post_logout_redirect_uri, exactly as the client registered it (§3). */
  redirectUri?: string;
  /** `state`, echoed to the redirect URI; kept only when there is one. */
  state?: string;
}

export interface LogoutRequestDeps {
  clients: ClientStore;
  config: Config;
  /** Loaded only when an id_token_hint is sent. */
  keys: () => Promise<Keyring>;
  now: number;
}

const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;

export async function readLogoutRequest(params: Params, deps: LogoutRequestDeps): Promise<LogoutRequest> {
  const hintValue = params.get("id_token_hint");
  let hint: OwnIdTokenClaims | undefined;
  if (hintValue !== undefined) {
    // Our signature, our issuer, a key we still publish (retired ones included); not its expiry.
    const verified = await verifyOwnIdToken(hintValue, { config: deps.config, keys: await deps.keys(), now: deps.now });
    ensure(verified !== null, "logout_id_token_hint_invalid");
    hint = verified;
  }

  // §2: "When both client_id and id_token_hint are present, the OP MUST verify that the Client
  // Identifier matches the one used when issuing the ID Token."
  const clientIdParam = params.get("client_id");
  if (clientIdParam !== undefined && hint !== undefined) ensure(hint.aud.includes(clientIdParam), "logout_client_mismatch");
  const clientId = clientIdParam ?? hint?.azp ?? hint?.aud[0];
  let client: Client | undefined;
  if (clientId !== undefined && CLIENT_ID.test(clientId)) {
    const found = await deps.clients.get(clientId);
    if (found !== null && !found.disabled) client = found;
  }
  // A client_id the request names itself must be a live client; one only read from a hint may be gone.
  ensure(clientIdParam === undefined || client !== undefined, "logout_unknown_client");

  const redirectUri = params.get("post_logout_redirect_uri");
  if (redirectUri === undefined) return { ...(hint && { hint }), ...(client && { client }) };
  // §3: only to a URI the client registered, compared exactly; never for an unknown client.
  ensure(clientId !== undefined, "logout_redirect_uri_without_client");
  ensure(client !== undefined, "logout_unknown_client");
  ensure(client.postLogoutRedirectUris.includes(redirectUri), "logout_redirect_uri_not_registered");
  const state = params.get("state");
  return { ...(hint && { hint }), client, redirectUri, ...(state !== undefined && { state }) };
}

/**
 * Where the browser goes after the logout: the registered URI with `state` appended to its query
 * (the registered query is kept as written, §3 / RFC 6749 §3.1.2).
 */
export function postLogoutLocation(request: LogoutRequest & { redirectUri: string }): string {
  const { redirectUri, state } = request;
  if (state === undefined) return redirectUri;
  return `${redirectUri}${redirectUri.includes("?") ? "&" : "?"}state=${encodeURIComponent(state)}`;
}
