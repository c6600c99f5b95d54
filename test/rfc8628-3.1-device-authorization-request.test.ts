import { describe, expect, it } from "vitest";
import { ISSUER, call, expectError } from "./helpers";
import { registered } from "./rfc7591-helpers";
import { DEVICE_GRANT, deviceClient, requestDeviceAuthorization } from "./rfc8628-helpers";

describe("RFC 8628 §3.1–3.2: the device authorization request and response", () => {
  it("a confidential client (client_secret_basic) gets device_code, user_code, the verification URIs, expires_in and interval", async () => {
    const client = await deviceClient();
    const res = await requestDeviceAuthorization(client, { scope: "openid profile" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ["device_code", "expires_in", "interval", "user_code", "verification_uri", "verification_uri_complete"],
    );
    // §5.2: at least 128 bits; here 256 bits, base64url.
    expect(body.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(body.verification_uri).toBe(`${ISSUER}/device`);
    expect(body.verification_uri_complete).toBe(`${ISSUER}/device?user_code=${body.user_code as string}`);
    expect(body.expires_in).toBe(600);
    expect(body.interval).toBe(5);
  });

  it("a public client sends its client_id; each request gets its own codes", async () => {
    const client = await deviceClient({ token_endpoint_auth_method: "none" });
    const [a, b] = await Promise.all([requestDeviceAuthorization(client), requestDeviceAuthorization(client)]);
    const [x, y] = [(await a.json()) as Record<string, string>, (await b.json()) as Record<string, string>];
    expect(x.device_code).not.toBe(y.device_code);
    expect(x.user_code).not.toBe(y.user_code);
  });

  it("client authentication as at the token endpoint: a wrong secret is invalid_client (401), an unknown client too", async () => {
    const client = await deviceClient();
    await expectError(await requestDeviceAuthorization({ ...client, client_secret: "wrong" }), 401, "invalid_client");
    await expectError(await requestDeviceAuthorization({ client_id: "no-such-client" }), 401, "invalid_client");
  });

  it("a client not registered for the device grant → unauthorized_client", async () => {
    const client = await deviceClient({ grant_types: ["client_credentials"] });
    await expectError(await requestDeviceAuthorization(client), 400, "unauthorized_client");
  });

  it("the scope follows the authorization endpoint's rules: unknown → invalid_scope, malformed → invalid_scope", async () => {
    const client = await deviceClient();
    await expectError(await requestDeviceAuthorization(client, { scope: "openid admin" }), 400, "invalid_scope");
    await expectError(await requestDeviceAuthorization(client, { scope: "openid  profile" }), 400, "invalid_scope", "malformed_scope");
  });

  it("POST only", async () => {
    const res = await call("/device_authorization");
    await expectError(res, 405, "invalid_request", "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });
});

describe("RFC 8628 §4: metadata and registration", () => {
  it("discovery advertises device_authorization_endpoint and the grant type", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.device_authorization_endpoint).toBe(`${ISSUER}/device_authorization`);
    expect(metadata.grant_types_supported).toContain(DEVICE_GRANT);
  });

  it("clients may be registered with the device grant alone (no redirect URI), by the operator or dynamically", async () => {
    const client = await deviceClient({ grant_types: [DEVICE_GRANT] });
    expect(client.grant_types).toEqual([DEVICE_GRANT]);
    const dynamic = await registered({ client_name: "CLI", grant_types: [DEVICE_GRANT], token_endpoint_auth_method: "none" });
    expect(dynamic.grant_types).toEqual([DEVICE_GRANT]);
    expect(dynamic.response_types).toEqual([]);
    // The registered client uses the grant's first step.
    expect((await requestDeviceAuthorization({ client_id: dynamic.client_id })).status).toBe(200);
  });
});
