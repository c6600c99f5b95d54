import { clientNotificationToken, deliveryModeOf } from "../ciba/delivery";
import { backchannelSteps, runSteps, type Draft } from "../authorize/steps";
import { mailCibaNotice } from "../ciba/notice";
import { isPublic, type Client } from "../clients/model";
import { OAuthError, ensure } from "../errors/oauth-error";
import { NO_STORE, type AppContext, type Step } from "../http/context";
import { backchannelRequestParams } from "../ciba/signed-request";
import { clientAuthDeps, cibaRequests, mailer, requestKeyring, userStore } from "../services";
import { verifyOwnIdToken } from "../tokens/verify-id-token";
import type { User } from "../users/model";
import { normalizeEmail } from "../users/store";
import { endpointUrl } from "./discovery";
import { authenticateTokenClient, parseTokenRequest } from "./token";

/**
 * The backchannel authentication endpoint (CIBA Core §7) as a pipeline of named steps: the body
 * read and the client authenticated exactly as at the token endpoint, confidential clients only;
 * a signed request (§7.1.1) verified and its claims taken as the parameters;
 * the request checked by the `backchannel` column of the validation table (src/authorize/steps.ts:
 * the CIBA grant, scope with openid, exactly one hint, binding_message, user_code, requested_expiry,
 * acr_values); the person resolved from the hint; then a new request in its Durable Object, the
 * person told by mail, and the answer (§7.3).
 */
export const confidentialClientOnly: Step = async function confidentialClientOnly(c, next) {
  ensure(!isPublic(c.get("client").client), "ciba_public_client");
  await next();
};

/** CIBA §7.1: login_hint is the person's email; id_token_hint one of our ID tokens issued to this client (expired ones too). */
async function personOf(c: AppContext, client: Client): Promise<User> {
  const params = c.get("params");
  const users = userStore(c);
  let user: User | null;
  const loginHint = params.get("login_hint");
  if (loginHint !== undefined) {
    const email = normalizeEmail(loginHint);
    user = email === undefined ? null : await users.getByEmail(email);
  } else {
    const claims = await verifyOwnIdToken(params.get("id_token_hint")!, { config: c.get("config"), keys: await requestKeyring(c), now: c.get("now") });
    ensure(claims !== null && claims.aud.includes(client.clientId), "ciba_id_token_hint_invalid");
    user = await users.get(claims.sub);
  }
  // A disabled account is as unknown as a missing one (docs/security.md: the enumeration trade-off).
  if (user === null || user.disabled) throw new OAuthError("unknown_user_id");
  return user;
}

/**
 * CIBA §7.1.1: a client that registered backchannel_authentication_request_signing_alg sends its
 * request signed (src/ciba/signed-request.ts); from here on its parameters are the JWT's claims.
 */
export const signedAuthenticationRequest: Step = async function signedAuthenticationRequest(c, next) {
  c.set("params", await backchannelRequestParams(c.get("params"), c.get("client").client, clientAuthDeps(c)));
  await next();
};

export const startBackchannelAuthentication: Step = async function startBackchannelAuthentication(c) {
  const config = c.get("config");
  const { client } = c.get("client");
  const draft: Draft = runSteps(backchannelSteps, { params: c.get("params"), client, config });
  const user = await personOf(c, client);
  // CIBA §7.1: ping and push clients name the bearer their callback carries (src/ciba/delivery.ts).
  const notificationToken = clientNotificationToken(c.get("params"), client);
  const ttl = Math.min(draft.requestedExpiry ?? config.cibaRequestTtl, config.cibaMaxRequestTtl);
  const now = c.get("now");
  const { authReqId, handle } = await cibaRequests(c).create({
    clientId: client.clientId,
    sub: user.id,
    scope: draft.scope,
    ...(draft.bindingMessage !== undefined && { bindingMessage: draft.bindingMessage }),
    ...(draft.acrValues !== undefined && { acrValues: draft.acrValues }),
    deliveryMode: deliveryModeOf(client),
    ...(notificationToken !== undefined && { clientNotificationToken: notificationToken }),
    expiresAt: now + ttl,
    interval: config.cibaInterval,
  });
  await mailCibaNotice(mailer(c), {
    to: user.email,
    clientName: client.clientName ?? client.clientId,
    ...(draft.bindingMessage !== undefined && { bindingMessage: draft.bindingMessage }),
    scope: draft.scope,
    link: endpointUrl(config, `/ciba/${handle}`),
    expiresInMinutes: Math.ceil(ttl / 60),
  });
  return c.json({ auth_req_id: authReqId, expires_in: ttl, interval: config.cibaInterval }, 200, NO_STORE);
};

export const rejectOtherBackchannelMethods: Step = async function rejectOtherBackchannelMethods() {
  throw new OAuthError("method_not_allowed", "The backchannel authentication endpoint accepts POST only.", { headers: { allow: "POST" } });
};

export const backchannelAuthenticationEndpoint = [
  parseTokenRequest, authenticateTokenClient, confidentialClientOnly, signedAuthenticationRequest, startBackchannelAuthentication,
] as const;
