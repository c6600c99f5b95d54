import { pushRequest, pushedParameters } from "../authorize/pushed-request";
import { pushedAuthorizationSteps, runSteps } from "../authorize/steps";
import { clientRequestProofKey, nonceDeps } from "../dpop/binding";
import { currentNonce } from "../dpop/nonce";
import { OAuthError, ensure } from "../errors/oauth-error";
import { NO_STORE, type AppContext, type Step } from "../http/context";
import { clientAuthDeps, encryptionKey, replayCache, requestKeyring } from "../services";
import { hintedSubject } from "../authorize/id-token-hint";
import { requestedRedirectUri } from "./authorize";
import { authenticateTokenClient, parseTokenRequest } from "./token";

/**
 * The pushed authorization request endpoint (RFC 9126 §2) as a pipeline of named steps: the body
 * read (too large → 413, §2.3) and the client authenticated exactly as at the token endpoint
 * (the one dispatcher; public clients send client_id), a `request` object resolved
 * (src/authorize/request-object.ts), the redirect URI and then the authorization endpoint's checks
 * (the `par` column of src/authorize/steps.ts) — every error as JSON, nothing redirected — a DPoP
 * proof binding the code to its key (RFC 9449 §10.1), and the request sealed into its request_uri
 * (src/authorize/pushed-request.ts): 201 {request_uri, expires_in}.
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
  await bindToProofKey(c, params);
  // RFC 9126 §2.3: where the authorization endpoint would show an error page, PAR answers invalid_request.
  requestedRedirectUri(client, params);
  const draft = runSteps(pushedAuthorizationSteps, { params, client, config });
  // OIDC Core §3.1.2.1: a bad id_token_hint is refused here too, not first at the authorization endpoint.
  await hintedSubject(params, client, draft.subject, { config, keys: await requestKeyring(c), now: c.get("now") });
  const requestUri = await pushRequest(params, client, deps);
  return c.json({ request_uri: requestUri, expires_in: config.parTtl }, 201, NO_STORE);
};

/**
 * RFC 9449 §10.1: a DPoP proof sent to PAR is validated as at the token endpoint (htu this
 * endpoint; src/dpop/binding.ts) and binds the code like `dpop_jkt`, which, when sent too, must
 * name the proof's key (par_dpop_jkt_mismatch). The code then asks for that key at the token
 * endpoint (the dpop_jkt step and the code's dpopJkt). With a proof, the answer carries a fresh
 * nonce (§8), as the token endpoint's does.
 */
async function bindToProofKey(c: AppContext, params: Map<string, string>): Promise<void> {
  const config = c.get("config");
  const deps = { now: c.get("now"), encryptionKey: encryptionKey(c), replay: replayCache(c) };
  const jkt = await clientRequestProofKey(c.req.raw, c.get("client").client, config, deps);
  if (jkt === undefined) return;
  const sent = params.get("dpop_jkt");
  ensure(sent === undefined || sent === jkt, "par_dpop_jkt_mismatch");
  params.set("dpop_jkt", jkt);
  c.header("dpop-nonce", await currentNonce(nonceDeps(config, deps)));
}

export const rejectOtherParMethods: Step = async function rejectOtherParMethods() {
  throw new OAuthError("method_not_allowed", "The pushed authorization request endpoint accepts POST only.", { headers: { allow: "POST" } });
};

export const parEndpoint = [readPushedRequest, authenticateTokenClient, pushAuthorizationRequest] as const;
