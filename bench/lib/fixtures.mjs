// The bench's clients and people, registered through the operator API (/admin) as an operator would.

import { generateKeyPairSync } from "node:crypto";
import { expectOk } from "./requests.mjs";

/** The code-flow client: a confidential web app, ID tokens RS256 (the registration default). */
export const WEB_CLIENT = { clientId: "bench-web", redirectUri: "https://bench.example/callback", scope: "openid profile email" };
/** The refresh client: an app that keeps its sign-in (offline_access), ID tokens RS256 on every refresh. */
export const APP_CLIENT = { clientId: "bench-app", redirectUri: "https://bench.example/app-callback", scope: "openid profile email offline_access" };
/**
 * The device-flow client (RFC 8628): a public client (a TV or a CLI holds no secret), the device
 * grant alone, the code flow's scopes so that its exchange answers the same access and ID tokens.
 */
export const DEVICE_CLIENT = { clientId: "bench-tv", scope: "openid profile email" };
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/**
 * The CIBA client (poll mode): a confidential call-centre app (client_secret_basic), the CIBA grant
 * alone, the code flow's scopes so that its exchange answers the same access and ID tokens.
 */
export const CIBA_CLIENT = { clientId: "bench-call-centre", scope: "openid profile email" };
export const CIBA_GRANT = "urn:openid:params:grant-type:ciba";
/** The person the pending CIBA polls' requests name (never approved; the exchanges' person is the signed-in one). */
export const CIBA_PENDING_EMAIL = "bench-ciba-pending@example.com";
export const BENCH_PASSWORD = "bench-password-not-for-production";
/** The profile claims of every person the bench creates (the peer is given the same). */
export const PERSON_CLAIMS = Object.freeze({ name: "Bench Person", given_name: "Bench", family_name: "Person" });

/**
 * Registers the six clients — client_secret_basic and private_key_jwt (ES256) for
 * client_credentials, the code-flow web client, the refresh app client, the device client, the CIBA
 * client — and creates the person who signs in to the code flow, the person of the pending CIBA
 * requests, and `signinAccounts` accounts for the sign-in scenario.
 */
export async function registerFixtures({ origin, adminToken, issuer, signinAccounts }) {
  // The two client_credentials clients.
  const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const register = async (id, body) =>
    expectOk(`register ${id}`, await fetch(`${origin}/admin/clients/${id}`, { method: "PUT", headers: admin, body: JSON.stringify(body) }));
  const basicClient = await register("bench-basic", {
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["client_credentials"],
    scope: "read write",
  });
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicJwk = { ...publicKey.export({ format: "jwk" }), kid: "bench-es256", alg: "ES256", use: "sig" };
  await register("bench-jwt", {
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [publicJwk] },
    grant_types: ["client_credentials"],
    scope: "read write",
  });
  const signer = { clientId: "bench-jwt", kid: publicJwk.kid, privateKey, audience: issuer };

  // The code flow: a confidential web client (client_secret_basic, ID tokens RS256 by default)
  // and people with passwords, created through the operator API.
  const webClient = await register(WEB_CLIENT.clientId, {
    client_name: "Bench Web App",
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: [WEB_CLIENT.redirectUri],
  });
  const createUser = async (email) => {
    const body = { email, password: BENCH_PASSWORD, email_verified: true, claims: PERSON_CLAIMS };
    const user = await expectOk(`create ${email}`, await fetch(`${origin}/admin/users`, { method: "POST", headers: admin, body: JSON.stringify(body) }), 201);
    return { ...user, password: BENCH_PASSWORD };
  };
  const person = await createUser("bench-person@example.com");
  const appClient = await register(APP_CLIENT.clientId, {
    client_name: "Bench Mobile App",
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    redirect_uris: [APP_CLIENT.redirectUri],
  });
  await register(DEVICE_CLIENT.clientId, {
    client_name: "Bench TV",
    token_endpoint_auth_method: "none",
    grant_types: [DEVICE_GRANT],
  });
  const cibaClient = await register(CIBA_CLIENT.clientId, {
    client_name: "Bench Call Centre",
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: [CIBA_GRANT],
    backchannel_token_delivery_mode: "poll",
  });
  await createUser(CIBA_PENDING_EMAIL);
  // Sign-in scenario: one account per concurrent loop, used round robin.
  const signinUsers = [];
  for (let i = 1; i <= signinAccounts; i++) signinUsers.push(await createUser(`bench-signin-${i}@example.com`));
  return { basicClient, signer, publicJwk, webClient, appClient, cibaClient, person, signinUsers };
}
