/**
 * The relying party of the RFC 9396 tests over HTTP (test/e2e/par-jar-rar-resource.e2e.test.ts)
 * and in Chromium (test/browser/rar-consent.browser.test.ts): an ES256 key registered in `jwks`,
 * and `openid-client` (v6) discovering the Worker with private_key_jwt, then signing the
 * authorization request — authorization_details and resource included — as a request object
 * (RFC 9101) and pushing it (RFC 9126).
 */
import * as client from "openid-client";

/** The resource server both tests name (RFC 8707), and the payment they ask for there (RFC 9396 §2's example). */
export const RESOURCE = "https://api.bank.example/payments";
export const PAYMENT = {
  type: "payment_initiation",
  actions: ["initiate", "status"],
  locations: [RESOURCE],
  instructedAmount: { currency: "EUR", amount: "123.50" },
  creditorName: "Merchant A",
};

export interface RarClient {
  config: client.Configuration;
  privateKey: client.PrivateKey;
}

/** A signing key pair and its public JWK as registered (kid, alg ES256, use sig). */
export async function rpKey(kid: string): Promise<{ keys: CryptoKeyPair; jwk: Record<string, unknown> }> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const { key_ops: _ops, ext: _ext, ...jwk } = await crypto.subtle.exportKey("jwk", keys.publicKey);
  return { keys, jwk: { ...jwk, kid, alg: "ES256", use: "sig" } };
}

/** openid-client configured for the Worker at `issuer`, authenticating with private_key_jwt. */
export async function rarClient(issuer: string, clientId: string, key: CryptoKey, kid: string): Promise<RarClient> {
  const privateKey = { key, kid };
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.PrivateKeyJwt(privateKey), {
    execute: [client.allowInsecureRequests],
  });
  return { config, privateKey };
}

/** A code request with PKCE and state, signed (JAR) and pushed (PAR): the client_id + request_uri URL to send the person to. */
export async function pushedRarRequest(
  rp: RarClient,
  params: { redirect_uri: string; scope: string; resource: string; authorization_details: unknown[]; prompt?: string },
): Promise<{ url: URL; jarParams: URLSearchParams; verifier: string; state: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const { authorization_details, prompt, ...rest } = params;
  const { searchParams: jarParams } = await client.buildAuthorizationUrlWithJAR(rp.config, {
    ...rest,
    ...(prompt !== undefined && { prompt }),
    response_type: "code",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    authorization_details: JSON.stringify(authorization_details),
  }, rp.privateKey);
  return { url: await client.buildAuthorizationUrlWithPAR(rp.config, jarParams), jarParams, verifier, state };
}
