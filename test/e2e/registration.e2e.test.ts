/**
 * End to end: a relying party that registers itself. The built Worker runs in workerd
 * (scripts/local-worker.mjs, local development settings: REGISTRATION_POLICY=open), and
 * oauth4webapi, an OpenID Certified client library, plays the client: discovery, dynamic client
 * registration (RFC 7591), then with the client it registered the client_credentials grant and the
 * authorization code flow (a person's browser, test/e2e/http-browser.ts, signs in and consents over
 * real HTTP), and finally RFC 7592 management of the registration: read, then delete.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { DEMO_USER, seedDemoUser } from "../../scripts/seed.mjs";
import { HttpBrowser, forms, heading, type Visit } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

let worker: Worker;
let stateDir: string;
let as: oauth.AuthorizationServer;
let userId: string;

/** http on loopback is fine here; oauth4webapi insists on https unless told. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;
/** The relying party's callback: never served, the browser's redirect to it is captured. */
const REDIRECT_URI = "http://127.0.0.1:8080/dcr-callback";

/** What the registration endpoint answered, as oauth4webapi parsed it. */
type Registered = oauth.Client & { client_secret?: string; registration_access_token: string; registration_client_uri: string };

async function registerClient(metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>>): Promise<Registered> {
  const response = await oauth.dynamicClientRegistrationRequest(as, metadata, insecure);
  return (await oauth.processDynamicClientRegistrationResponse(response)) as Registered;
}

/** The person: signs in and consents until the browser is sent back to the client. */
async function person(browser: HttpBrowser, url: URL): Promise<{ visit: Visit; pages: string[] }> {
  let visit = await browser.go(url.href);
  const pages: string[] = [];
  for (let step = 0; step < 5 && !visit.left; step++) {
    expect(visit.status, heading(visit.html)).toBe(200);
    pages.push(heading(visit.html));
    const actions = forms(visit.html, visit.url).map((f) => new URL(f.action).pathname);
    if (actions.includes("/login")) visit = await browser.submit(visit, "/login", { email: DEMO_USER.email, password: DEMO_USER.password });
    else if (actions.includes("/consent")) visit = await browser.submit(visit, "/consent", { decision: "allow" });
    else break;
  }
  return { visit, pages };
}

async function expectAccessToken(token: string, clientId: string, sub: string, scope: string): Promise<void> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: as.issuer, typ: "at+jwt" });
  expect(payload).toMatchObject({ client_id: clientId, sub, scope });
}

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true", REGISTRATION_SCOPES: "read" } });
  stateDir = await mkdtemp(join(tmpdir(), "latchkey-e2e-dcr-"));
  userId = (await seedDemoUser({ url: worker.url, adminToken: worker.adminToken })).id;
  const issuer = new URL(worker.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }));
});

afterAll(async () => {
  await worker?.dispose();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("RFC 7591 dynamic client registration with oauth4webapi", () => {
  it("discovery advertises the registration endpoint", () => {
    expect(as.registration_endpoint).toBe(`${worker.url}/register`);
  });

  it("registers a confidential client, then uses it: client_credentials and the authorization code flow with PKCE", async () => {
    const client = await registerClient({
      client_name: "Self-registered RP",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "client_credentials"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "read",
    });
    expect(client).toMatchObject({
      client_id: expect.any(String),
      client_secret: expect.any(String),
      client_secret_expires_at: 0,
      client_id_issued_at: expect.any(Number),
      id_token_signed_response_alg: "RS256",
      registration_client_uri: `${worker.url}/register/${client.client_id}`,
      registration_access_token: expect.any(String),
    });
    const auth = oauth.ClientSecretBasic(client.client_secret!);

    // client_credentials (RFC 6749 §4.4) with the scope it registered
    const cc = await oauth.processClientCredentialsResponse(
      as, client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: "read" }), insecure),
    );
    await expectAccessToken(cc.access_token, client.client_id, client.client_id, "read");

    // the authorization code flow (OIDC Core §3.1) with PKCE, state and nonce
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT_URI, scope: "openid email", state, nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: "S256",
    }).toString();
    const { visit, pages } = await person(new HttpBrowser(worker.url), url);
    expect(pages).toEqual(["Sign in", "Allow Self-registered RP to access your account?"]);
    expect(visit.left).toBe(true);
    const params = oauth.validateAuthResponse(as, client, new URL(visit.url), state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, codeVerifier, insecure),
      { expectedNonce: nonce, requireIdToken: true },
    );
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims).toMatchObject({ iss: worker.url, aud: client.client_id, sub: userId, nonce });
    const userinfo = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
    expect(userinfo).toMatchObject({ sub: userId, email: DEMO_USER.email });
  });

  it("registers a private_key_jwt client with its public key and gets a token with a signed assertion", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "e2e-dcr", alg: "ES256", use: "sig" };
    const client = await registerClient({
      grant_types: ["client_credentials"], token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [jwk] }, scope: "read",
    } as Partial<oauth.Client>);
    expect(client).not.toHaveProperty("client_secret");
    const cc = await oauth.processClientCredentialsResponse(
      as, client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key: privateKey, kid: "e2e-dcr" }), new URLSearchParams({ scope: "read" }), insecure),
    );
    await expectAccessToken(cc.access_token, client.client_id, client.client_id, "read");
  });

  it("a registration error reaches the library as an OAuth error (invalid_redirect_uri)", async () => {
    const response = await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [`${REDIRECT_URI}#fragment`] }, insecure);
    const error = await oauth.processDynamicClientRegistrationResponse(response).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 400, error: "invalid_redirect_uri" });
  });
});

describe("RFC 7592 management of the registration", () => {
  it("reads it with the registration access token, deletes it (204), and then the client is gone", async () => {
    const client = await registerClient({ grant_types: ["client_credentials"], scope: "read" });
    const bearer = { authorization: `Bearer ${client.registration_access_token}` };
    const read = await fetch(client.registration_client_uri, { headers: bearer });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ client_id: client.client_id, scope: "read" });

    expect((await fetch(client.registration_client_uri, { method: "DELETE", headers: bearer })).status).toBe(204);
    expect((await fetch(client.registration_client_uri, { headers: bearer })).status).toBe(401);
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(client.client_secret!), new URLSearchParams(), insecure);
    expect(response.status).toBe(401);
  });
});
