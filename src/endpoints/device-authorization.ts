import { deviceAuthorizationSteps, runSteps } from "../authorize/steps";
import { formatUserCode } from "../device/user-code";
import { OAuthError } from "../errors/oauth-error";
import { NO_STORE, type Step } from "../http/context";
import { deviceRequests } from "../services";
import { endpointUrl } from "./discovery";
import { authenticateTokenClient, parseTokenRequest } from "./token";

/**
 * The device authorization endpoint (RFC 8628 §3.1–3.2) as a pipeline of named steps: the body
 * read and the client authenticated exactly as at the token endpoint (public clients send
 * client_id), the request checked by the device column of the validation table (src/authorize/
 * steps.ts: the client has the device grant, the scope is allowed), then a new request in its
 * Durable Object and the answer.
 */
export const startDeviceAuthorization: Step = async function startDeviceAuthorization(c) {
  const config = c.get("config");
  const { client } = c.get("client");
  const { scope, maxAge } = runSteps(deviceAuthorizationSteps, { params: c.get("params"), client, config });
  const { deviceCode, userCode } = await deviceRequests(c).create(
    { clientId: client.clientId, scope, ...(maxAge !== undefined && { maxAge }) },
    { ttl: config.deviceCodeTtl, interval: config.deviceCodeInterval },
  );
  const verificationUri = endpointUrl(config, "/device");
  const shown = formatUserCode(userCode);
  return c.json(
    {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${shown}`,
      expires_in: config.deviceCodeTtl,
      interval: config.deviceCodeInterval,
    },
    200,
    NO_STORE,
  );
};

export const rejectOtherDeviceAuthorizationMethods: Step = async function rejectOtherDeviceAuthorizationMethods() {
  throw new OAuthError("method_not_allowed", "The device authorization endpoint accepts POST only.", { headers: { allow: "POST" } });
};

export const deviceAuthorizationEndpoint = [parseTokenRequest, authenticateTokenClient, startDeviceAuthorization] as const;
