import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CIBA_GRANT } from "../src/ciba/model";
import { call, keyPair } from "./helpers";
import { FORBIDDEN_HOSTS } from "./outbound-helpers";
import { expectRegistrationError, register, registered } from "./rfc7591-helpers";

/**
 * OpenID CIBA Core 1.0 §4 client metadata through the one metadata validator (src/clients/register.ts
 * → src/clients/register-ciba.ts), the same for dynamic registration (RFC 7591) and the operator API:
 * backchannel_token_delivery_mode (poll, ping, push; required with the CIBA grant),
 * backchannel_client_notification_endpoint (ping and push; a URL the outbound policy fetches),
 * backchannel_authentication_request_signing_alg (asymmetric, with the client's keys) and
 * backchannel_user_code_parameter (no user codes here). Every refusal is invalid_client_metadata
 * with its own internal code.
 */

const ENDPOINT = "https://rp.example/ciba/notify";
const ciba = (extra: Record<string, unknown> = {}) => ({ grant_types: [CIBA_GRANT], client_name: "CIBA RP", scope: "openid", ...extra });

function operatorRegister(metadata: Record<string, unknown>): Promise<Response> {
  return call("/admin/clients", {
    method: "POST",
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(metadata),
  });
}

describe("CIBA §4 backchannel_token_delivery_mode", () => {
  it.each(["poll", "ping", "push"])("%s is registered and echoed (RFC 7591 §3.2.1)", async (mode) => {
    const body = await registered(ciba({
      backchannel_token_delivery_mode: mode,
      ...(mode !== "poll" && { backchannel_client_notification_endpoint: ENDPOINT }),
    }));
    expect(body.backchannel_token_delivery_mode).toBe(mode);
    if (mode === "poll") expect(body).not.toHaveProperty("backchannel_client_notification_endpoint");
    else expect(body.backchannel_client_notification_endpoint).toBe(ENDPOINT);
  });

  const rules: [string, Record<string, unknown>, string][] = [
    ["required with the CIBA grant", ciba(), "backchannel_token_delivery_mode_required"],
    ["one of poll, ping, push", ciba({ backchannel_token_delivery_mode: "email" }), "backchannel_token_delivery_mode_unsupported"],
    ["a string", ciba({ backchannel_token_delivery_mode: ["poll"] }), "backchannel_token_delivery_mode_unsupported"],
    ["only with the CIBA grant", { grant_types: ["client_credentials"], backchannel_token_delivery_mode: "poll" }, "backchannel_metadata_without_ciba_grant"],
    ["the notification endpoint only with the CIBA grant", { grant_types: ["client_credentials"], backchannel_client_notification_endpoint: ENDPOINT },
      "backchannel_metadata_without_ciba_grant"],
    ["a CIBA client authenticates (§7.1)", ciba({ backchannel_token_delivery_mode: "poll", token_endpoint_auth_method: "none" }), "ciba_client_not_confidential"],
  ];
  it.each(rules)("refused: %s", async (_name, metadata, code) => {
    await expectRegistrationError(await register(metadata), "invalid_client_metadata", code);
    await expectRegistrationError(await operatorRegister(metadata), "invalid_client_metadata", code);
  });
});

describe("CIBA §4 backchannel_client_notification_endpoint", () => {
  const rules: [string, Record<string, unknown>, string][] = [
    ["required for ping", { backchannel_token_delivery_mode: "ping" }, "backchannel_client_notification_endpoint_required"],
    ["required for push", { backchannel_token_delivery_mode: "push" }, "backchannel_client_notification_endpoint_required"],
    ["not used by poll", { backchannel_token_delivery_mode: "poll", backchannel_client_notification_endpoint: ENDPOINT },
      "backchannel_client_notification_endpoint_unused"],
    ["https", { backchannel_token_delivery_mode: "ping", backchannel_client_notification_endpoint: "http://rp.example/notify" },
      "backchannel_client_notification_endpoint_malformed"],
    ["absolute", { backchannel_token_delivery_mode: "ping", backchannel_client_notification_endpoint: "/notify" },
      "backchannel_client_notification_endpoint_malformed"],
    ["no fragment", { backchannel_token_delivery_mode: "push", backchannel_client_notification_endpoint: `${ENDPOINT}#x` },
      "backchannel_client_notification_endpoint_malformed"],
    ["no credentials", { backchannel_token_delivery_mode: "push", backchannel_client_notification_endpoint: "https://u:p@rp.example/notify" },
      "client_uri_credentials"],
  ];
  it.each(rules)("refused: %s", async (_name, extra, code) => {
    await expectRegistrationError(await register(ciba(extra)), "invalid_client_metadata", code, "backchannel_");
    await expectRegistrationError(await operatorRegister(ciba(extra)), "invalid_client_metadata", code);
  });

  it("a private or special-use host is refused (the outbound policy's URL rule, ASVS 5.0 V1.3.6)", async () => {
    for (const uri of FORBIDDEN_HOSTS) {
      const res = await register(ciba({ backchannel_token_delivery_mode: "ping", backchannel_client_notification_endpoint: uri }));
      await expectRegistrationError(res, "invalid_client_metadata", "client_uri_forbidden_host", "backchannel_client_notification_endpoint");
    }
  });

  it("loopback http only with ALLOW_INSECURE_CLIENT_URIS=true (local development)", async () => {
    const local = { env: { REGISTRATION_POLICY: "open", ALLOW_INSECURE_CLIENT_URIS: "true" } } as const;
    const uri = "http://127.0.0.1:8123/notify";
    const body = await registered(ciba({ backchannel_token_delivery_mode: "push", backchannel_client_notification_endpoint: uri }), local);
    expect(body.backchannel_client_notification_endpoint).toBe(uri);
    await expectRegistrationError(
      await register(ciba({ backchannel_token_delivery_mode: "push", backchannel_client_notification_endpoint: "http://rp.example/notify" }), local),
      "invalid_client_metadata", "backchannel_client_notification_endpoint_malformed", "https");
  });
});

describe("CIBA §4 backchannel_authentication_request_signing_alg and backchannel_user_code_parameter", () => {
  it("an asymmetric alg with the client's keys is registered and echoed", async () => {
    const { publicJwk } = await keyPair("ES256", "ciba-1");
    const body = await registered(ciba({
      backchannel_token_delivery_mode: "poll", backchannel_authentication_request_signing_alg: "ES256", jwks: { keys: [publicJwk] },
    }));
    expect(body.backchannel_authentication_request_signing_alg).toBe("ES256");
  });

  const rules: [string, Record<string, unknown>, string][] = [
    ["not none", { backchannel_authentication_request_signing_alg: "none" }, "backchannel_authentication_request_signing_alg_unsupported"],
    ["not HMAC", { backchannel_authentication_request_signing_alg: "HS256" }, "backchannel_authentication_request_signing_alg_unsupported"],
    ["a known alg", { backchannel_authentication_request_signing_alg: "ES999" }, "backchannel_authentication_request_signing_alg_unsupported"],
    ["with the client's keys", { backchannel_authentication_request_signing_alg: "PS256" }, "jwks_required"],
    ["user_code_parameter is a boolean", { backchannel_user_code_parameter: "true" }, "backchannel_user_code_parameter_malformed"],
    ["user codes are not supported", { backchannel_user_code_parameter: true }, "backchannel_user_code_parameter_unsupported"],
  ];
  it.each(rules)("refused: %s", async (_name, extra, code) => {
    const metadata = ciba({ backchannel_token_delivery_mode: "poll", ...extra });
    await expectRegistrationError(await register(metadata), "invalid_client_metadata", code);
    await expectRegistrationError(await operatorRegister(metadata), "invalid_client_metadata", code);
  });

  it("backchannel_user_code_parameter false is accepted and kept", async () => {
    const body = await registered(ciba({ backchannel_token_delivery_mode: "poll", backchannel_user_code_parameter: false }));
    expect(body.backchannel_user_code_parameter).toBe(false);
  });
});
