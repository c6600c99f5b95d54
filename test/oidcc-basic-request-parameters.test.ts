import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import {
  Browser, authorize, clientRedirect, codeRequest, expectErrorPage, expectRedirectError, expectTokenResponse,
  oidcClient, person, redeem, verifyIdToken,
} from "./oidc-helpers";

/**
 * The Basic OP plan's modules about request parameters (RFC 6749 §3.1, OIDC Core §3.1.2.1,
 * §3.1.2.6, §5.5, §6): what must be ignored, what must be refused, and how.
 */

/** The authorization request as the browser sends it, first response only. */
const send = (params: Record<string, string>) => new Browser().fetch(`/authorize?${new URLSearchParams(params)}`);

/** The flow with `extra` parameters added must succeed; returns the verified ID token. */
async function succeedsWith(extra: Record<string, string>) {
  const client = await oidcClient();
  const user = await person({ claims: { name: "Ada Lovelace" } });
  const { params, verifier } = await codeRequest(client.client_id, extra);
  const back = clientRedirect((await authorize(new Browser(), params, user)).response);
  expect(back.get("state")).toBe(params.state);
  const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
  return { idToken, tokens };
}

describe("oidcc-response-type-missing", () => {
  it("no response_type → invalid_request redirected (query: our default response mode), with state and iss", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    delete params.response_type;
    expectRedirectError(await send(params), "invalid_request", { state: params.state, description: /response_type/ });
  });
});

describe("oidcc-ensure-request-with-unknown-parameter-succeeds", () => {
  it("extra=foobar is ignored (RFC 6749 §3.1)", async () => {
    await succeedsWith({ extra: "foobar" });
  });
});

describe("oidcc-ui-locales, oidcc-claims-locales, oidcc-ensure-request-with-acr-values-succeeds, oidcc-claims-essential", () => {
  it("ui_locales=se does not break the flow", async () => {
    await succeedsWith({ ui_locales: "se" });
  });

  it("claims_locales=se does not break the flow", async () => {
    await succeedsWith({ claims_locales: "se" });
  });

  it("acr_values=1 2 does not break the flow (we satisfy no acr, so none is claimed)", async () => {
    const { idToken } = await succeedsWith({ acr_values: "1 2" });
    expect(idToken).not.toHaveProperty("acr");
  });

  it("claims (JSON) with an essential userinfo claim does not break the flow; profile still answers name", async () => {
    const { tokens } = await succeedsWith({ scope: "openid profile", claims: JSON.stringify({ userinfo: { name: { essential: true } } }) });
    const info = (await (await call("/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as Record<string, unknown>;
    expect(info.name).toBe("Ada Lovelace");
  });

  it("claims that is not JSON is invalid_request (claims_parameter_supported is true: test/oidc-core-5.5-claims-parameter.test.ts)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { claims: "{not json" });
    expectRedirectError(await send(params), "invalid_request", { state: params.state, description: /claims/ });
  });
});

describe("oidcc-ensure-registered-redirect-uri", () => {
  it("an unregistered redirect_uri → a 400 HTML page, never a redirect", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { redirect_uri: "https://attacker.example/callback" });
    const html = await expectErrorPage(await send(params), "authorize_redirect_uri_mismatch");
    expect(html).not.toContain("attacker.example");
  });

  it("even for requests that are otherwise also wrong (the redirect URI is checked first)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { redirect_uri: "https://attacker.example/callback", response_type: "token", scope: "bogus" });
    await expectErrorPage(await send(params), "authorize_redirect_uri_mismatch");
  });
});

describe("oidcc-unsigned-request-object-…, oidcc-request-uri-unsigned-…, oidcc-ensure-request-object-with-redirect-uri", () => {
  const unsigned = (claims: Record<string, unknown>) =>
    `${btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "")}.${btoa(JSON.stringify(claims)).replace(/=+$/, "")}.`;

  it("request=<unsigned JWT> from a client that did not register alg none → invalid_request_object (never silently ignored)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    params.request = unsigned({ ...params, iss: client.client_id, aud: "https://latchkey.test" });
    // A page: the redirect URI is one of the object's parameters, and the object is refused (test/rfc9101-jar.test.ts).
    await expectErrorPage(await send(params), "request_object_invalid");
  });

  it("request_uri=… not registered by the client → invalid_request_uri, nothing fetched (require_request_uri_registration)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { request_uri: "https://rp.example/request.jwt" });
    await expectErrorPage(await send(params), "request_uri_not_registered");
  });

  it("a request object naming another redirect_uri: refused, the object's redirect_uri is never used", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    params.request = unsigned({ ...params, redirect_uri: "https://attacker.example/cb" });
    const res = await send(params);
    expect(res.headers.get("location")).toBeNull();
    await expectErrorPage(res, "request_object_invalid");
  });

  it("registration=… → registration_not_supported redirected", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { registration: JSON.stringify({ client_name: "x" }) });
    expectRedirectError(await send(params), "registration_not_supported", { state: params.state });
  });
});
