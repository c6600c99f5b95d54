import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "./helpers";
import { oidcClient } from "./oidc-helpers";
import { expectRegistrationError, register, registered, webClient } from "./rfc7591-helpers";

/**
 * OpenID Connect Back-Channel Logout 1.0: registration of `backchannel_logout_uri` (§2.2) through
 * the one metadata validator (dynamic registration and the operator API alike).
 */

afterEach(() => vi.restoreAllMocks());

describe("§2.2 backchannel_logout_uri and backchannel_logout_session_required (registration)", () => {
  const rules: [string, Record<string, unknown>, string, string][] = [
    ["an absolute URI, not a path", { backchannel_logout_uri: "/logout" }, "backchannel_logout_uri_malformed", "backchannel_logout_uri"],
    ["a string", { backchannel_logout_uri: ["https://rp.example/bcl"] }, "backchannel_logout_uri_malformed", "backchannel_logout_uri"],
    ["no fragment", { backchannel_logout_uri: "https://rp.example/bcl#x" }, "backchannel_logout_uri_malformed", "fragment"],
    ["https, not http", { backchannel_logout_uri: "http://rp.example/bcl" }, "backchannel_logout_uri_malformed", "https"],
    ["https, not loopback http unless insecure client URIs are allowed", { backchannel_logout_uri: "http://127.0.0.1:8080/bcl" }, "backchannel_logout_uri_malformed", "https"],
    ["https, not another scheme", { backchannel_logout_uri: "com.example.app:/bcl" }, "backchannel_logout_uri_malformed", "https"],
    ["session_required is a boolean", { backchannel_logout_uri: "https://rp.example/bcl", backchannel_logout_session_required: "yes" },
      "backchannel_logout_session_required_malformed", "backchannel_logout_session_required"],
  ];

  it.each(rules)("refused: %s (invalid_client_metadata)", async (_name, metadata, code, field) => {
    await expectRegistrationError(await register(webClient(metadata)), "invalid_client_metadata", code, field);
  });

  it("accepted with a query (kept as registered) and echoed with session_required; also by the operator API", async () => {
    const uri = "https://rp.example/bcl?tenant=a&x=1";
    const body = await registered(webClient({ backchannel_logout_uri: uri, backchannel_logout_session_required: true }));
    expect(body).toMatchObject({ backchannel_logout_uri: uri, backchannel_logout_session_required: true });
    const operator = await oidcClient({ backchannel_logout_uri: uri });
    expect(operator.backchannel_logout_uri).toBe(uri);
    expect(operator).not.toHaveProperty("backchannel_logout_session_required");
  });

  it("loopback http only with ALLOW_INSECURE_CLIENT_URIS=true (local development)", async () => {
    const uri = "http://127.0.0.1:8080/bcl";
    const body = await registered(webClient({ redirect_uris: ["http://127.0.0.1:8080/cb"], backchannel_logout_uri: uri }),
      { env: { REGISTRATION_POLICY: "open", ALLOW_INSECURE_CLIENT_URIS: "true" } });
    expect(body.backchannel_logout_uri).toBe(uri);
    await expectRegistrationError(
      await register(webClient({ backchannel_logout_uri: "http://rp.example/bcl" }), { env: { REGISTRATION_POLICY: "open", ALLOW_INSECURE_CLIENT_URIS: "true" } }),
      "invalid_client_metadata", "backchannel_logout_uri_malformed", "https");
  });

  it("the operator API applies the same rules", async () => {
    const res = await call("/admin/clients", {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["client_credentials"], backchannel_logout_uri: "https://rp.example/bcl#frag" }),
    });
    await expectRegistrationError(res, "invalid_client_metadata", "backchannel_logout_uri_malformed", "fragment");
  });
});
