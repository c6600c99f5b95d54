import { pushRequest, pushedParameters } from "../authorize/pushed-request";
import { pushedAuthorizationSteps, runSteps } from "../authorize/steps";
import { OAuthError } from "../errors/oauth-error";
import { NO_STORE, type Step } from "../http/context";
import { clientAuthDeps } from "../services";
import { requestedRedirectUri } from "./authorize";
import { authenticateTokenClient, parseTokenRequest } from "./token";

/**
 * The pushed authorization request endpoint (RFC 9126 §2) as a pipeline of named steps: the body
 * read (too large → 413, §2.3) and the client authenticated exactly as at the token endpoint
 * (the one dispatcher; public clients send client_id), a `request` object resolved
 * (src/authorize/request-object.ts), the redirect URI and then the authorization endpoint's checks
 * (the `par` column of src/authorize/steps.ts) — every error as JSON, nothing redirected — and the
 * request sealed into its request_uri (src/authorize/pushed-request.ts): 201 {request_uri, expires_in}.
 */

/** The body as at the token endpoint, but a body over the bound is 413 (RFC 9126 §2.3), not 400. */
export const readPushedRequest: Step = async function readPushedRequest(c, next) {
  try {
    await parseTokenRequest(c, async () => {});
  } catch (error) {
    if (error instanceof OAuthError && error.code === "request_body_too_large") throw new OAuthError("par_request_too_large", undefined, { cause: error });
    throw error;
  }
  await next();
};

export const pushAuthorizationRequest: Step = async function pushAuthorizationRequest(c) {
  const config = c.get("config");
  const { client } = c.get("client");
  const deps = clientAuthDeps(c);
  const params = await pushedParameters(c.get("params"), client, deps);
  // RFC 9126 §2.3: where the authorization endpoint would show an error page, PAR answers invalid_request.
  requestedRedirectUri(client, params);
  runSteps(pushedAuthorizationSteps, { params, client, config });
  const requestUri = await pushRequest(params, client, deps);
  return c.json({ request_uri: requestUri, expires_in: config.parTtl }, 201, NO_STORE);
};

export const rejectOtherParMethods: Step = async function rejectOtherParMethods() {
  throw new OAuthError("method_not_allowed", "The pushed authorization request endpoint accepts POST only.", { headers: { allow: "POST" } });
};

export const parEndpoint = [readPushedRequest, authenticateTokenClient, pushAuthorizationRequest] as const;
