import type { Client } from "../clients/model";
import type { Config } from "../config";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { Params } from "../http/form";

/**
 * Resource indicators (RFC 8707): which resource servers a request's tokens are for.
 *
 * - `resource` may be sent several times (§2); the form readers (src/http/form.ts) carry repeated
 *   values as one JSON array text, and a request object's array claim arrives the same way
 *   (src/authorize/request-object.ts), so `resourceValues` reads both.
 * - Each value is an absolute URI (RFC 3986 §4.3) without a fragment, compared as an exact string:
 *   an MCP server's resource URI, path included, is the audience (§2).
 * - Which resources exist is the operator's setting (RESOURCES, src/config.ts); a client's
 *   operator-set `allowed_resources` narrows it. Anything else is `invalid_target`.
 * - An access token is for exactly one resource (§2.2; RFC 9068 §3 `aud`): the one named at the
 *   token endpoint, which must be one of the grant's, or the grant's only one; a grant with none
 *   gets the configured default audience.
 */

/** At most this many resources in one request, each at most RESOURCE_BYTES (src/authorize/limits.ts counts them). */
export const MAX_RESOURCES = 4;
export const RESOURCE_BYTES = 256;

/** RFC 3986 §3.1 scheme, then only characters a URI may hold (§2: unreserved, reserved, %); no `#` (§2 of RFC 8707). */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]*$/;

/** Whether a value is an absolute URI without a fragment (RFC 8707 §2); the reason when not. */
export function resourceProblem(value: string): "resource_has_fragment" | "resource_not_absolute" | undefined {
  if (value.includes("#")) return "resource_has_fragment";
  if (!ABSOLUTE_URI.test(value) || !URL.canParse(value)) return "resource_not_absolute";
  return undefined;
}

/** The `resource` values of a request, in order and without repeats; undefined when none was sent. */
export function resourceValues(params: Params): string[] | undefined {
  const value = params.get("resource");
  if (value === undefined) return undefined;
  // A URI starts with a letter, so a value starting with "[" can only be a carried array.
  let values: unknown = [value];
  if (value.startsWith("[")) {
    try {
      values = JSON.parse(value);
    } catch {
      values = undefined;
    }
  }
  ensure(Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === "string"), "resource_not_absolute");
  const unique = [...new Set(values as string[])];
  ensure(unique.length <= MAX_RESOURCES, "resource_too_many", `Send at most ${MAX_RESOURCES} resource values.`);
  for (const uri of unique) {
    ensure(uri.length <= RESOURCE_BYTES, "resource_too_long", `Each resource must be at most ${RESOURCE_BYTES} characters.`);
    const problem = resourceProblem(uri);
    if (problem !== undefined) throw new OAuthError(problem);
  }
  return unique;
}

/** The resources this client may ask for: the operator's list (RESOURCES), narrowed by the client's `allowed_resources`. */
export function allowedResources(client: Client, config: Config): readonly string[] {
  const narrowed = client.metadata.allowed_resources;
  if (!Array.isArray(narrowed)) return config.resources;
  return config.resources.filter((r) => narrowed.includes(r));
}

/** Each resource is one this server issues tokens for (resource_unknown) and this client may have (resource_not_allowed). */
export function ensureResourcesAllowed(resources: readonly string[], client: Client, config: Config): void {
  const allowed = allowedResources(client, config);
  for (const uri of resources) {
    ensure(config.resources.includes(uri), "resource_unknown");
    ensure(allowed.includes(uri), "resource_not_allowed");
  }
}

/**
 * The `aud` of an access token issued at the token endpoint (RFC 8707 §2.2): the resource the
 * request names — one, and one of the grant's — or, when it names none, the grant's only one.
 * Undefined (the configured default audience) when neither the grant nor the request has any.
 * `granted` undefined means no resources were granted (a grant before resources, or without).
 */
export function tokenAudience(params: Params, granted: readonly string[] | undefined): string | undefined {
  const requested = resourceValues(params);
  ensure(requested === undefined || requested.length === 1, "resource_one_per_token");
  const named = requested?.[0];
  if (named !== undefined) {
    ensure(granted !== undefined && granted.includes(named), "resource_not_granted");
    return named;
  }
  if (granted === undefined || granted.length === 0) return undefined;
  ensure(granted.length === 1, "resource_ambiguous");
  return granted[0];
}
