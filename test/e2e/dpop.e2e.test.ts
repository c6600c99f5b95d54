/**
 * End to end: DPoP (RFC 9449) with a real client library. The built Worker runs in workerd
 * (scripts/local-worker.mjs) with DPOP_NONCE_REQUIRED=true, so every proof needs a server nonce;
 * oauth4webapi's DPoP() makes the proofs, learns the nonce from `use_dpop_nonce` + `DPoP-Nonce`
 * and retries (isDPoPNonceError). Covered: client_credentials; a public client's code flow with
 * `dpop_jkt` (§10), the refresh (its refresh token bound to the key, §5) and UserInfo with the
 * DPoP scheme and `ath` (§7); the same through PAR, the code bound by the proof sent to /par (§10.1).
 */
import { calculateJwkThumbprint, decodeJwt, exportJWK } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { DEMO_USER, seedDemoUser } from "../../scripts/seed.mjs";
import { HttpBrowser, signInAndConsent } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

let worker: Worker;
let as: oauth.AuthorizationServer;
let userId: string;

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT_URI = "http://127.0.0.1:8080/callback";

async function adminPut(clientId: string, metadata: Record<string, unknown>): Promise<{ client_secret?: string }> {
  const res = await worker.admin(`/admin/clients/${clientId}`, "PUT", metadata);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** Runs `request` → `process`, retrying once when the server asks for a (new) nonce, as RFC 9449 §8 expects of a client. */
async function withNonceRetry<T>(request: () => Promise<Response>, process: (response: Response) => Promise<T>): Promise<{ result: T; retried: boolean }> {
  try {
    return { result: await process(await request()), retried: false };
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    return { result: await process(await request()), retried: true };
  }
}

/** A public native client (code and refresh grants) registered by the operator, with a fresh ES256 DPoP key. */
async function publicDpopClient(clientId: string, scope: string) {
  await adminPut(clientId, {
    grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none", application_type: "native",
    redirect_uris: [REDIRECT_URI], scope,
  });
  const client: oauth.Client = { client_id: clientId };
  const keyPair = await oauth.generateKeyPair("ES256", { extractable: true });
  return { client, jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)), DPoP: oauth.DPoP(client, keyPair) };
}

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true", DPOP_NONCE_REQUIRED: "true" } });
  userId = (await seedDemoUser({ url: worker.url, adminToken: worker.adminToken })).id;
  const issuer = new URL(worker.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }));
});

afterAll(async () => {
  await worker?.dispose();
});

describe("RFC 9449 with oauth4webapi DPoP()", () => {
  it("discovery advertises dpop_signing_alg_values_supported", () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(["ES256", "EdDSA"]));
  });

  it("client_credentials: the nonce is learnt from use_dpop_nonce, the token is DPoP-bound (cnf.jkt)", async () => {
    const { client_secret } = await adminPut("dpop-service", { grant_types: ["client_credentials"], scope: "read", dpop_bound_access_tokens: true });
    const client: oauth.Client = { client_id: "dpop-service" };
    const keyPair = await oauth.generateKeyPair("ES256", { extractable: true });
    const DPoP = oauth.DPoP(client, keyPair);
    const auth = oauth.ClientSecretBasic(client_secret!);
    const { result, retried } = await withNonceRetry(
      () => oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: "read" }), { DPoP, ...insecure }),
      (response) => oauth.processClientCredentialsResponse(as, client, response),
    );
    expect(retried).toBe(true);
    expect(result.token_type).toBe("dpop");
    expect(decodeJwt(result.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) });
    // The nonce is now known: the next request succeeds at once.
    const again = await withNonceRetry(
      () => oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: "read" }), { DPoP, ...insecure }),
      (response) => oauth.processClientCredentialsResponse(as, client, response),
    );
    expect(again.retried).toBe(false);
  });

  it("a public client: code flow with dpop_jkt, refresh with the same key, UserInfo with the DPoP scheme", async () => {
    const { client, jkt, DPoP } = await publicDpopClient("dpop-native", "openid offline_access profile");
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT_URI, scope: "openid offline_access profile",
      state, nonce, prompt: "consent", dpop_jkt: jkt,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: "S256",
    }).toString();
    const { visit } = await signInAndConsent(new HttpBrowser(worker.url), url, DEMO_USER);
    expect(visit.left, visit.url).toBe(true);
    expect(visit.url, visit.url).toContain("iss=");
    const params = oauth.validateAuthResponse(as, client, new URL(visit.url), state);

    const tokens = (await withNonceRetry(
      () => oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, codeVerifier, { DPoP, ...insecure }),
      (response) => oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true }),
    )).result;
    expect(tokens.token_type).toBe("dpop");
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });
    expect(tokens.refresh_token).toBeTruthy();

    const refreshed = (await withNonceRetry(
      () => oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { DPoP, ...insecure }),
      (response) => oauth.processRefreshTokenResponse(as, client, response),
    )).result;
    expect(refreshed.token_type).toBe("dpop");
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });

    // Another key cannot refresh the (rotated) refresh token: it is bound to the first key.
    const stranger = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const refused = await withNonceRetry(
      () => oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, { DPoP: stranger, ...insecure }),
      (response) => oauth.processRefreshTokenResponse(as, client, response).then(() => "accepted", (error: unknown) => {
        if (oauth.isDPoPNonceError(error)) throw error; // its own nonce first
        return error;
      }),
    );
    expect(refused.result).toMatchObject({ error: "invalid_grant" });

    const userinfo = (await withNonceRetry(
      () => oauth.userInfoRequest(as, client, refreshed.access_token, { DPoP, ...insecure }),
      (response) => oauth.processUserInfoResponse(as, client, userId, response),
    )).result;
    expect(userinfo.sub).toBe(userId);
  });

  it("through PAR (§10.1): the proof at /par binds the code without dpop_jkt; token, refresh and UserInfo with that key", async () => {
    const { client, jkt, DPoP } = await publicDpopClient("dpop-par", "openid offline_access");
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const parameters = new URLSearchParams({
      response_type: "code", redirect_uri: REDIRECT_URI, scope: "openid offline_access", state, prompt: "consent",
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: "S256",
    });
    // A fresh key's first request: the nonce is learnt from PAR's use_dpop_nonce.
    const { result: pushed } = await withNonceRetry(
      () => oauth.pushedAuthorizationRequest(as, client, oauth.None(), parameters, { DPoP, ...insecure }),
      (response) => oauth.processPushedAuthorizationResponse(as, client, response),
    );
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: client.client_id, request_uri: pushed.request_uri }).toString();
    const { visit } = await signInAndConsent(new HttpBrowser(worker.url), url, DEMO_USER);
    expect(visit.left, visit.url).toBe(true);
    const params = oauth.validateAuthResponse(as, client, new URL(visit.url), state);

    // The code is bound to the PAR proof's key: another key is refused (and the code not spent).
    const stranger = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const refused = await withNonceRetry(
      () => oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, codeVerifier, { DPoP: stranger, ...insecure }),
      (response) => oauth.processAuthorizationCodeResponse(as, client, response).then(() => "accepted", (error: unknown) => {
        if (oauth.isDPoPNonceError(error)) throw error;
        return error;
      }),
    );
    expect(refused.result).toMatchObject({ error: "invalid_grant" });
    const tokens = (await withNonceRetry(
      () => oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, codeVerifier, { DPoP, ...insecure }),
      (response) => oauth.processAuthorizationCodeResponse(as, client, response),
    )).result;
    expect(tokens.token_type).toBe("dpop");
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    const refreshed = (await withNonceRetry(
      () => oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { DPoP, ...insecure }),
      (response) => oauth.processRefreshTokenResponse(as, client, response),
    )).result;
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });
    const userinfo = (await withNonceRetry(
      () => oauth.userInfoRequest(as, client, refreshed.access_token, { DPoP, ...insecure }),
      (response) => oauth.processUserInfoResponse(as, client, userId, response),
    )).result;
    expect(userinfo.sub).toBe(userId);
  });
});
