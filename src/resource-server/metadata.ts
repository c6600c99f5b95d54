import { DPOP_SIGNING_ALGS } from "../dpop/proof";

/** What a resource says about itself in its metadata (RFC 9728 §2), besides what the kit derives. */
export interface ResourceDescription {
  /** `scopes_supported`: what a client asks for to use this resource (RFC 9728 §2). Default the required `scopes`. */
  scopesSupported?: readonly string[];
  /** `resource_name`: a human-readable name (RFC 9728 §2). */
  resourceName?: string;
  /** `resource_documentation`: a page for developers (RFC 9728 §2). */
  resourceDocumentation?: string;
}

/**
 * The path of a resource's metadata (RFC 9728 §3.1): `/.well-known/oauth-protected-resource`
 * inserted between the host and the resource's path (a trailing `/` dropped; the bare well-known
 * path for a resource at its origin's root). The resource must be an absolute http(s) URI without
 * query or fragment (RFC 8707 §2; RFC 9728 §3 discourages a query).
 */
export function metadataPath(resource: string): string {
  if (!URL.canParse(resource)) throw new Error(`protectedResource: resource ${resource} is not an absolute URI`);
  const url = new URL(resource);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`protectedResource: resource ${resource} must be an http(s) URI`);
  if (url.search !== "" || resource.includes("#")) throw new Error(`protectedResource: resource ${resource} must not have a query or fragment`);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `/.well-known/oauth-protected-resource${path}`;
}

/**
 * The metadata document (RFC 9728 §2): `resource` exactly as configured (§3.3: the identifier the
 * well-known URL was made from), the issuer as the one authorization server, the scopes, the Bearer
 * header as the only way to send a token (no form body, never the query), and — when DPoP-bound
 * tokens are accepted — the proof algs (`dpop_signing_alg_values_supported`) with
 * `dpop_bound_access_tokens_required` false (bearer tokens are accepted too).
 */
export function metadataDocument(
  options: ResourceDescription & { issuer: string; resource: string; scopes?: readonly string[] },
  features: { dpop: boolean },
): Record<string, unknown> {
  const scopes = options.scopesSupported ?? options.scopes ?? [];
  const document: Record<string, unknown> = {
    resource: options.resource,
    authorization_servers: [options.issuer],
    bearer_methods_supported: ["header"],
  };
  if (scopes.length > 0) document.scopes_supported = [...scopes];
  if (features.dpop) {
    document.dpop_signing_alg_values_supported = [...DPOP_SIGNING_ALGS];
    document.dpop_bound_access_tokens_required = false;
  }
  if (options.resourceName !== undefined) document.resource_name = options.resourceName;
  if (options.resourceDocumentation !== undefined) document.resource_documentation = options.resourceDocumentation;
  return document;
}
