import { CIBA_GRANT, type DeliveryMode } from "../ciba/model";
import { OAuthError, ensure } from "../errors/oauth-error";
import { ASYMMETRIC_ASSERTION_ALGS, isAsymmetricAlg } from "../keys/algorithms";
import type { AuthMethod } from "./model";
import { validCallbackUri } from "./register-uris";

/**
 * The CIBA client metadata (OpenID CIBA Core 1.0 §4), part of the one metadata validator
 * (src/clients/register.ts), so dynamic registration and the operator API apply the same rules:
 *
 * - `backchannel_token_delivery_mode`: poll, ping or push; REQUIRED for a client with the CIBA
 *   grant, and refused (with every other CIBA member) for a client without it.
 * - A CIBA client authenticates (CIBA §7.1: client authentication is required at the backchannel
 *   endpoint), so `token_endpoint_auth_method` none is refused.
 * - `backchannel_client_notification_endpoint`: REQUIRED for ping and push, and only for them (a poll
 *   client has nothing to receive). The server POSTs to it, so it is a URL the outbound-fetch policy
 *   accepts (src/http/outbound.ts: https, a public host, no credentials or fragment), https whatever
 *   the application type; http on loopback only with the local-development setting.
 * - `backchannel_authentication_request_signing_alg`: an asymmetric alg of the algorithm table
 *   (src/keys/algorithms.ts; never none or HMAC: the signed request is checked with the client's
 *   public keys), so the client needs `jwks` or `jwks_uri`.
 * - `backchannel_user_code_parameter`: a boolean; `true` is refused, as this server has no user codes
 *   (discovery says backchannel_user_code_parameter_supported false).
 *
 * Valid members are written into `metadata` (kept as registered, echoed by clientMetadata).
 */

const CIBA_MEMBERS = [
  "backchannel_token_delivery_mode", "backchannel_client_notification_endpoint",
  "backchannel_authentication_request_signing_alg", "backchannel_user_code_parameter",
] as const;
export const DELIVERY_MODES: readonly DeliveryMode[] = ["poll", "ping", "push"];

export function cibaMetadata(
  input: Readonly<Record<string, unknown>>,
  client: { grantTypes: readonly string[]; method: AuthMethod; hasKeys: boolean },
  allowInsecure: boolean,
  metadata: Record<string, unknown>,
): void {
  if (!client.grantTypes.includes(CIBA_GRANT)) {
    const member = CIBA_MEMBERS.find((m) => input[m] !== undefined);
    ensure(member === undefined, "backchannel_metadata_without_ciba_grant",
      `${member} is CIBA metadata; it needs ${CIBA_GRANT} in grant_types.`);
    return;
  }
  ensure(client.method !== "none", "ciba_client_not_confidential");

  const mode = input.backchannel_token_delivery_mode;
  ensure(mode !== undefined, "backchannel_token_delivery_mode_required");
  ensure(typeof mode === "string" && (DELIVERY_MODES as readonly string[]).includes(mode), "backchannel_token_delivery_mode_unsupported");
  metadata.backchannel_token_delivery_mode = mode;

  const endpoint = input.backchannel_client_notification_endpoint;
  if (mode === "poll") {
    ensure(endpoint === undefined, "backchannel_client_notification_endpoint_unused");
  } else {
    ensure(endpoint !== undefined, "backchannel_client_notification_endpoint_required",
      `backchannel_token_delivery_mode ${mode} needs backchannel_client_notification_endpoint.`);
    metadata.backchannel_client_notification_endpoint = validCallbackUri("backchannel_client_notification_endpoint", endpoint, allowInsecure);
  }

  const alg = input.backchannel_authentication_request_signing_alg;
  if (alg !== undefined) {
    ensure(typeof alg === "string" && isAsymmetricAlg(alg), "backchannel_authentication_request_signing_alg_unsupported",
      `backchannel_authentication_request_signing_alg must be one of ${ASYMMETRIC_ASSERTION_ALGS.join(", ")}.`);
    if (!client.hasKeys) {
      throw new OAuthError("jwks_required", "backchannel_authentication_request_signing_alg needs the client's public keys in jwks or jwks_uri.");
    }
    metadata.backchannel_authentication_request_signing_alg = alg;
  }

  const userCode = input.backchannel_user_code_parameter;
  if (userCode !== undefined) {
    ensure(typeof userCode === "boolean", "backchannel_user_code_parameter_malformed");
    ensure(!userCode, "backchannel_user_code_parameter_unsupported");
    metadata.backchannel_user_code_parameter = false;
  }
}
