import { OAuthError, ensure } from "../errors/oauth-error";
import { outboundUrlProblem, type OutboundUrlProblem } from "../http/outbound";
import { isLoopbackHost } from "./redirect-uris";

/**
 * The URI rules of client registration (part of the one metadata validator, src/clients/register.ts):
 * redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7, OIDC Registration §2), post-logout redirect URIs
 * (OIDC RP-Initiated Logout §3.1), the back-channel logout URI (OIDC Back-Channel Logout §2.2),
 * the URLs the server fetches (validFetchedUri), and the https URLs and origins other members hold.
 */

export const MAX_URIS = 32;
export const MAX_URI_LENGTH = 2048;
const MAX_TEXT = 256;

/** Printable text without control characters (C0, DEL, C1). */
export const isText = (value: unknown, max = MAX_TEXT): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= max && !/[\u0000-\u001f\u007f-\u009f]/.test(value);
export const isTextArray = (value: unknown, maxItems: number, maxLength = MAX_TEXT): value is string[] =>
  Array.isArray(value) && value.length <= maxItems && value.every((v) => isText(v, maxLength));

type RedirectProblem =
  | "redirect_uri_not_absolute"
  | "redirect_uri_fragment"
  | "redirect_uri_wildcard"
  | "redirect_uri_web_not_https"
  | "redirect_uri_native_not_allowed";

const REDIRECT_PROBLEM_TEXT: Record<RedirectProblem, string> = {
  redirect_uri_not_absolute: "not an absolute URI of printable ASCII.",
  redirect_uri_fragment: "a redirect URI must not contain a fragment.",
  redirect_uri_wildcard: "redirect URIs are matched exactly; wildcards (*) are not allowed.",
  redirect_uri_web_not_https: "web clients must use https.",
  redirect_uri_native_not_allowed: "native clients must use loopback http, a private-use scheme with a dot (com.example.app:/cb), or https.",
};

/** scheme ":" … (RFC 3986 §3.1); http(s) also need "//" and a host. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/;
const HTTP_URI = /^https?:\/\/[^/?#]+/i;

/** The first rule a redirect URI breaks: https for web clients; RFC 8252 §7 for native apps. */
function redirectUriProblem(uri: string, type: "web" | "native", allowInsecure: boolean): RedirectProblem | undefined {
  if (!ABSOLUTE_URI.test(uri)) return "redirect_uri_not_absolute";
  if (uri.includes("#")) return "redirect_uri_fragment";
  if (uri.includes("*")) return "redirect_uri_wildcard";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "redirect_uri_not_absolute";
  }
  const scheme = url.protocol.slice(0, -1);
  if ((scheme === "http" || scheme === "https") && !HTTP_URI.test(uri)) return "redirect_uri_not_absolute";
  if (scheme === "https") return undefined;
  if (scheme === "http" && isLoopbackHost(url.hostname) && (type === "native" || allowInsecure)) return undefined;
  // Private-use URI scheme (RFC 8252 §7.1): native only, reverse-domain style (contains a dot).
  if (type === "native" && scheme !== "http" && scheme.includes(".")) return undefined;
  return type === "web" ? "redirect_uri_web_not_https" : "redirect_uri_native_not_allowed";
}

/** `redirect_uris`: each one absolute, no fragment or wildcard, https for web clients, RFC 8252 §7 for native ones. */
export function validRedirectUris(value: unknown, type: "web" | "native", allowInsecure: boolean): string[] {
  const uris = value ?? [];
  ensure(isTextArray(uris, MAX_URIS, MAX_URI_LENGTH), "redirect_uris_malformed");
  for (const uri of uris) {
    const problem = redirectUriProblem(uri, type, allowInsecure);
    if (problem !== undefined) throw new OAuthError(problem, `redirect_uris: ${uri} - ${REDIRECT_PROBLEM_TEXT[problem]}`);
  }
  return uris;
}

/** `post_logout_redirect_uris` (OIDC RP-Initiated Logout §3.1): the redirect URI rules of the client's type. */
export function validPostLogoutRedirectUris(value: unknown, type: "web" | "native", allowInsecure: boolean): string[] {
  const uris = value ?? [];
  ensure(isTextArray(uris, MAX_URIS, MAX_URI_LENGTH), "post_logout_redirect_uris_malformed");
  for (const uri of uris) {
    const problem = redirectUriProblem(uri, type, allowInsecure);
    if (problem !== undefined) {
      throw new OAuthError("post_logout_redirect_uris_malformed", `post_logout_redirect_uris: ${uri} - ${REDIRECT_PROBLEM_TEXT[problem]}`);
    }
  }
  return uris;
}

/**
 * OIDC Back-Channel Logout §2.2: `backchannel_logout_uri` is an absolute URI without a fragment
 * (a query is allowed and kept), which the server POSTs logout tokens to. So it is a URL the server
 * fetches (validFetchedUri: a public host, no credentials), and it follows the web redirect URI
 * rules as well: https, whatever the client's application_type (it is the client's server that
 * receives them); http only on a loopback host and only where insecure client URIs are allowed
 * (ALLOW_INSECURE_CLIENT_URIS, local development). `backchannel_logout_session_required` is a boolean
 * (default false); logout tokens always carry `sid`, so either value is honoured. Valid members
 * are written into `metadata`.
 */
export function backChannelLogoutMetadata(
  input: { backchannel_logout_uri?: unknown; backchannel_logout_session_required?: unknown },
  allowInsecure: boolean,
  metadata: Record<string, unknown>,
): void {
  if (input.backchannel_logout_uri !== undefined) {
    metadata.backchannel_logout_uri = validCallbackUri("backchannel_logout_uri", input.backchannel_logout_uri, allowInsecure);
  }
  const sessionRequired = input.backchannel_logout_session_required;
  if (sessionRequired !== undefined) {
    ensure(typeof sessionRequired === "boolean", "backchannel_logout_session_required_malformed");
    metadata.backchannel_logout_session_required = sessionRequired;
  }
}

/**
 * A URL the server POSTs to on the client's server (a back-channel logout URI, a CIBA notification
 * endpoint): a URL the server fetches (validFetchedUri) that also follows the web redirect URI
 * rules — https whatever the client's application_type; http only on a loopback host and only where
 * insecure client URIs are allowed. Anything else is `<member>_malformed`.
 */
export function validCallbackUri(member: CallbackMember, value: unknown, allowInsecure: boolean): string {
  const uri = validFetchedUri(member, value, allowInsecure);
  const problem = redirectUriProblem(uri, "web", allowInsecure);
  if (problem !== undefined) throw new OAuthError(`${member}_malformed`, `${member}: ${uri} - ${BACK_CHANNEL_PROBLEM_TEXT[problem]}`);
  return uri;
}
type CallbackMember = "backchannel_logout_uri" | "backchannel_client_notification_endpoint";

const BACK_CHANNEL_PROBLEM_TEXT: Record<RedirectProblem, string> = {
  ...REDIRECT_PROBLEM_TEXT,
  redirect_uri_fragment: "it must not contain a fragment.",
  redirect_uri_wildcard: "it must not contain a wildcard (*).",
  redirect_uri_web_not_https: "it must use https.",
};

/** The members holding a URL that the server itself fetches (docs/security.md, "Outbound fetches"). */
export type FetchedMember = "jwks_uri" | "sector_identifier_uri" | "backchannel_logout_uri" | "backchannel_client_notification_endpoint" | "request_uris";

/**
 * A URL the server will fetch: it must pass the outbound-fetch policy (src/http/outbound.ts), so
 * registration refuses what the fetch would refuse. A host that is not public is
 * `client_uri_forbidden_host`, credentials in it `client_uri_credentials`, and anything else
 * (not a URL, not https, a fragment) the member's own `<member>_malformed`. Members only shown to
 * people (client_uri, logo_uri, policy_uri, tos_uri, initiate_login_uri) are never fetched by the
 * server and keep the plain https rule.
 */
export function validFetchedUri(member: FetchedMember, value: unknown, allowInsecure: boolean): string {
  ensure(isText(value, MAX_URI_LENGTH), `${member}_malformed`);
  const problem = outboundUrlProblem(value, allowInsecure);
  if (problem !== undefined) throw fetchedUriError(member, value, problem);
  return value;
}

/** The registration error for a URL the outbound policy refuses (also used when a fetch at registration is refused). */
export function fetchedUriError(member: FetchedMember, uri: string, problem: OutboundUrlProblem): OAuthError {
  switch (problem) {
    case "forbidden_host":
      return new OAuthError("client_uri_forbidden_host",
        `${member}: ${uri} - its host is a loopback, private, link-local or other special-purpose address or name, which this server does not fetch.`);
    case "credentials":
      return new OAuthError("client_uri_credentials", `${member} must not contain a user name or password.`);
    case "fragment":
      return new OAuthError(`${member}_malformed`, `${member}: ${uri} - it must not contain a fragment.`);
    default:
      return new OAuthError(`${member}_malformed`, `${member}: ${uri} - it must be an absolute https URL.`);
  }
}

export function isHttpsUrl(value: string, allowHttp = false): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (allowHttp && url.protocol === "http:");
  } catch {
    return false;
  }
}

export function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}
