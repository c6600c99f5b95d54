/**
 * End to end, issue 5's acceptance: `openid-client` (v6, an OpenID Certified relying party
 * library) registers itself at Latchkey with dynamic client registration (RFC 7591, OIDC
 * Registration) and then uses the client it got, through its own API only: the client_credentials
 * grant, and the authorization code flow with PKCE, state and nonce, ID token validation and
 * UserInfo. The built Worker runs in workerd (scripts/local-worker.mjs: REGISTRATION_POLICY=open),
 * and a person's browser (test/e2e/http-browser.ts) signs in and consents over real HTTP.
 *
 * registration.e2e.test.ts walks the same ground with oauth4webapi's lower-level calls; here the
 * library discovers, registers, authenticates and validates on its own, as an application would.
 */
import { randomBytes } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { HttpBrowser, signInAndConsent as personSignsIn, type Visit } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

let worker: Worker;
/** The person who signs in, created through the operator API. */
const person = {
  email: `oc-${randomBytes(4).toString("hex")}@example.com`,
  password: `pw-${randomBytes(12).toString("base64url")}`,
  claims: { name: "Robin Registrant", given_name: "Robin", family_name: "Registrant" },
};
let personId: string;

/** The relying party's callback on loopback: nothing listens, the browser's redirect to it is captured. */
const REDIRECT_URI = "http://127.0.0.1:8089/cb";
const CLIENT_NAME = "openid-client RP";

beforeAll(async () => {
  // http redirect URIs on loopback are refused unless ALLOW_INSECURE_CLIENT_URIS is on; "read" is
  // the API scope a self-registered client may hold besides the OpenID Connect ones.
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true", REGISTRATION_SCOPES: "read" } });
  const res = await fetch(`${worker.url}/admin/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ ...person, email_verified: true }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  personId = ((await res.json()) as { id: string }).id;
});

afterAll(async () => {
  await worker?.dispose();
});

/** The person's side of the flow (test/e2e/http-browser.ts signInAndConsent), in a new browser. */
async function signInAndConsent(authorizationUrl: URL): Promise<{ visit: Visit; headings: string[]; browser: HttpBrowser }> {
  const browser = new HttpBrowser(worker.url);
  return { ...(await personSignsIn(browser, authorizationUrl, person)), browser };
}

describe("openid-client v6: dynamic registration, then the client it registered", () => {
  let config: client.Configuration;

  it("discovers Latchkey and registers a confidential web client (client_secret_basic)", async () => {
    config = await client.dynamicClientRegistration(
      new URL(worker.url),
      {
        client_name: CLIENT_NAME,
        application_type: "web",
        redirect_uris: [REDIRECT_URI],
        response_types: ["code"],
        grant_types: ["authorization_code", "client_credentials"],
        token_endpoint_auth_method: "client_secret_basic",
        scope: "openid profile email read",
      },
      // Without an argument, client_secret_basic with the client_secret the server issues.
      client.ClientSecretBasic(),
      { execute: [client.allowInsecureRequests] }, // the local server is http on loopback
    );

    const server = config.serverMetadata();
    expect(server.issuer).toBe(worker.url);
    expect(server.registration_endpoint).toBe(`${worker.url}/register`);
    expect(server.supportsPKCE()).toBe(true);

    const registered = config.clientMetadata();
    expect(registered).toMatchObject({
      client_id: expect.any(String),
      client_secret: expect.any(String),
      client_secret_expires_at: 0,
      client_name: CLIENT_NAME,
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "client_credentials"],
      token_endpoint_auth_method: "client_secret_basic",
      registration_access_token: expect.any(String),
    });
    expect(registered.registration_client_uri).toBe(`${worker.url}/register/${registered.client_id}`);
  });

  it("client_credentials: an access token for the client itself, with the scope it asked for", async () => {
    const tokens = await client.clientCredentialsGrant(config, { scope: "read" });
    expect(tokens).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), scope: "read", expires_in: expect.any(Number) });
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.refresh_token).toBeUndefined();

    const clientId = config.clientMetadata().client_id;
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), {
      issuer: worker.url,
      typ: "at+jwt",
    });
    expect(payload).toMatchObject({ client_id: clientId, sub: clientId, scope: "read" });
  });

  it("client_credentials: a scope the client did not register is refused (invalid_scope)", async () => {
    const error = await client.clientCredentialsGrant(config, { scope: "write" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    expect(error).toMatchObject({ error: "invalid_scope", status: 400 });
  });

  it("the authorization code flow with PKCE, state and nonce: ID token claims and UserInfo", async () => {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid profile email",
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(config.serverMetadata().authorization_endpoint);
    expect(authorizationUrl.searchParams.get("client_id")).toBe(config.clientMetadata().client_id);
    expect(authorizationUrl.searchParams.get("response_type")).toBe("code");

    const { visit, headings, browser } = await signInAndConsent(authorizationUrl);
    expect(headings).toEqual(["Sign in", `Allow ${CLIENT_NAME} to access your account?`]);
    expect(visit.left, browser.history.join(", ")).toBe(true);
    const callback = new URL(visit.url);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);

    // openid-client checks state and iss (RFC 9207) in the callback, redeems the code with the
    // verifier and client_secret_basic, and validates the ID token (signature, iss, aud, exp, nonce).
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), id_token: expect.any(String) });

    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: worker.url, aud: config.clientMetadata().client_id, sub: personId, nonce });
    expect(claims!.auth_time).toEqual(expect.any(Number));

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims!.sub);
    expect(userinfo).toMatchObject({
      sub: personId,
      email: person.email,
      email_verified: true,
      name: person.claims.name,
      given_name: person.claims.given_name,
      family_name: person.claims.family_name,
    });
  });

  it("a wrong state in the callback is caught by the library before any code is redeemed", async () => {
    const codeVerifier = client.randomPKCECodeVerifier();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state: client.randomState(),
      nonce: client.randomNonce(),
    });
    const { visit } = await signInAndConsent(authorizationUrl);
    expect(visit.left).toBe(true);
    const error = await client
      .authorizationCodeGrant(config, new URL(visit.url), { pkceCodeVerifier: codeVerifier, expectedState: client.randomState() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(client.ClientError);
    expect(error).toMatchObject({ code: "OAUTH_INVALID_RESPONSE", cause: { message: expect.stringContaining('"state"') } });
  });
});
