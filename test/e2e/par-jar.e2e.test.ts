/**
 * End to end, RFC 9126 + RFC 9101 with a real client library: `openid-client` (v6) discovers
 * Latchkey, signs the authorization request as a request object (`buildAuthorizationUrlWithJAR`)
 * with the client's private key, pushes it (`buildAuthorizationUrlWithPAR`, client authentication
 * `private_key_jwt`), a person's browser (test/e2e/http-browser.ts) follows the client_id +
 * request_uri URL, signs in and consents over real HTTP, and the client redeems the code
 * (`authorizationCodeGrant`, private_key_jwt again). The built Worker runs in workerd.
 */
import { randomBytes } from "node:crypto";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { HttpBrowser, signInAndConsent } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

const REDIRECT_URI = "https://rp.example/callback";
const CLIENT_ID = `par-jar-${randomBytes(4).toString("hex")}`;
let worker: Worker;
let keys: CryptoKeyPair;
const person = { email: `par-${randomBytes(4).toString("hex")}@example.com`, password: `pw-${randomBytes(12).toString("base64url")}` };
let personId: string;

const admin = (path: string, method: string, body: unknown): Promise<Response> => worker.admin(path, method, body);

beforeAll(async () => {
  worker = await startLocalWorker();
  keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicJwk = { ...(await crypto.subtle.exportKey("jwk", keys.publicKey)), kid: "rp-1", alg: "ES256", use: "sig" };
  delete (publicJwk as { key_ops?: unknown }).key_ops;
  delete (publicJwk as { ext?: unknown }).ext;
  const user = await admin("/admin/users", "POST", { ...person, email_verified: true });
  expect(user.status, await user.clone().text()).toBe(201);
  personId = ((await user.json()) as { id: string }).id;
  const rp = await admin(`/admin/clients/${CLIENT_ID}`, "PUT", {
    client_name: "PAR and JAR RP",
    grant_types: ["authorization_code"],
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [publicJwk] },
    request_object_signing_alg: "ES256",
    require_pushed_authorization_requests: true,
  });
  expect(rp.status, await rp.clone().text()).toBe(200);
});

afterAll(async () => {
  await worker?.dispose();
});

describe("openid-client v6: PAR + JAR code flow with private_key_jwt", () => {
  it("a signed request object, pushed; client_id + request_uri in the browser; the code redeemed", async () => {
    const privateKey = { key: keys.privateKey, kid: "rp-1" };
    const config = await client.discovery(new URL(worker.url), CLIENT_ID, undefined, client.PrivateKeyJwt(privateKey), {
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().pushed_authorization_request_endpoint).toBe(`${worker.url}/par`);
    expect(config.serverMetadata().request_parameter_supported).toBe(true);

    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const { searchParams } = await client.buildAuthorizationUrlWithJAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid email",
      response_type: "code",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    }, privateKey);
    expect([...searchParams.keys()].sort()).toEqual(["client_id", "request"]);
    const url = await client.buildAuthorizationUrlWithPAR(config, searchParams);
    expect([...url.searchParams.keys()].sort()).toEqual(["client_id", "request_uri"]);
    expect(url.searchParams.get("request_uri")).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const browser = new HttpBrowser(worker.url);
    const { visit, headings } = await signInAndConsent(browser, url, person);
    expect(headings).toEqual(["Sign in", "Allow PAR and JAR RP to access your account?"]);
    expect(visit.left).toBe(true);
    expect(visit.url.startsWith(`${REDIRECT_URI}?`)).toBe(true);

    const tokens = await client.authorizationCodeGrant(config, new URL(visit.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.claims()?.sub).toBe(personId);
    expect(tokens.scope).toBe("openid email");

    // Its code issued, the request_uri is spent: the same URL again, which the signed-in person's
    // browser would complete at once, is refused (RFC 9126 §7.3; until then it may be reopened).
    const again = await browser.go(url.href);
    expect(again.status).toBe(400);
    expect(again.html).toContain("pushed_request_uri_used");
  });

  it("the client must push: the plain signed request alone is refused (require_pushed_authorization_requests)", async () => {
    const config = await client.discovery(new URL(worker.url), CLIENT_ID, undefined, client.PrivateKeyJwt({ key: keys.privateKey, kid: "rp-1" }), {
      execute: [client.allowInsecureRequests],
    });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: "openid", response_type: "code",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: "S256",
    });
    const visit = await new HttpBrowser(worker.url).go(url.href);
    expect(visit.status).toBe(400);
    expect(visit.html).toContain("pushed_request_required");
  });
});
