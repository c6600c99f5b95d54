import { DPOP_SIGNING_ALGS } from "../dpop/proof";
import { errorBody, type OAuthError } from "../errors/oauth-error";

/** The Authorization scheme a token came with. */
export type TokenScheme = "Bearer" | "DPoP";

export interface ChallengeContext {
  /** RFC 9728 §5.1: where the client finds this resource's metadata. */
  resourceMetadata: string;
  /** What the client should ask for (401) or lacks (403): the `scope` attribute (RFC 6750 §3). */
  scope: readonly string[];
  /** Whether DPoP-bound tokens are accepted: then a DPoP challenge (RFC 9449 §7.1) is sent as well. */
  dpop: boolean;
  /** The scheme the request used, when it sent a token. */
  scheme?: TokenScheme;
}

const quoted = (name: string, value: string) => `${name}="${value}"`;

/**
 * An RFC 6750 §3 / RFC 9449 §7.1 error response of a protected resource, the body the catalog's
 * JSON. The Bearer challenge always comes first and always carries `resource_metadata` (RFC 9728
 * §5.1; clients such as the MCP SDK read only the first challenge). Without credentials the
 * challenges name no error (RFC 6750 §3.1); otherwise the error goes in the challenge of the scheme
 * used — DPoP for a DPoP error whatever the scheme (invalid_dpop_proof, use_dpop_nonce) — and the
 * other challenge is sent bare. `scope` is named on 401 (what to ask for) and on 403
 * insufficient_scope (what is missing). Error texts are the catalog's, kept to RFC 6749 §5.2's
 * characters by `errorBody`, so nothing can end a quoted-string early.
 */
export function challengeResponse(error: OAuthError, ctx: ChallengeContext): Response {
  const body = errorBody(error);
  const { status } = error.entry;
  const headers = new Headers({ "content-type": "application/json", "cache-control": "no-store", pragma: "no-cache", ...error.headers });
  if (status === 400 || status === 401 || status === 403) {
    const common = [quoted("resource_metadata", ctx.resourceMetadata)];
    if ((status === 401 || body.error === "insufficient_scope") && ctx.scope.length > 0) common.push(quoted("scope", ctx.scope.join(" ")));
    const named = error.code === "bearer_token_missing" ? [] : [quoted("error", body.error), quoted("error_description", body.error_description)];
    const dpopError = body.error === "invalid_dpop_proof" || body.error === "use_dpop_nonce";
    const inDpop = ctx.dpop && (ctx.scheme === "DPoP" || dpopError);
    headers.append("www-authenticate", `Bearer ${[...(inDpop ? [] : named), ...common].join(", ")}`);
    if (ctx.dpop) {
      headers.append("www-authenticate", `DPoP ${[...(inDpop ? named : []), ...common, quoted("algs", DPOP_SIGNING_ALGS.join(" "))].join(", ")}`);
    }
  }
  return new Response(JSON.stringify(body), { status, headers });
}
