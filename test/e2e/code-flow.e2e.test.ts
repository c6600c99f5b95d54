/**
 * End to end: sign-in with OpenID Connect as a relying party meets it. The built Worker runs in
 * workerd (scripts/local-worker.mjs, local development settings); oauth4webapi, an OpenID Certified
 * client library, plays the relying party: discovery, the authorization URL with PKCE, state and
 * nonce, the authorization response (state and RFC 9207 `iss`), the code exchange with ID token
 * validation, and UserInfo. Between the two, a person's browser (test/e2e/http-browser.ts: cookies,
 * redirects, forms with their hidden csrf and txn fields) signs in and consents over real HTTP.
 *
 * Covered: a confidential web client (client_secret_basic), a public native client (none + PKCE),
 * response_mode=form_post, and prompt=none once the browser has a session (and without one).
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { DEMO_PUBLIC_REDIRECT_URI, DEMO_SECRETS, DEMO_USER, DEMO_WEB_REDIRECT_URIS, seedDemo, seedDemoUser } from "../../scripts/seed.mjs";
import { HttpBrowser, forms, heading, type Form, type Visit } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

let worker: Worker;
let stateDir: string;
let as: oauth.AuthorizationServer;
let demoUserId: string;

/** http on loopback is fine here; oauth4webapi insists on https unless told. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

const SCOPE = "openid profile email address phone";

/** A relying party: its registration at Latchkey and how it authenticates at the token endpoint. */
interface RelyingParty {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  redirectUri: string;
}

const webApp = (): RelyingParty => ({
  client: { client_id: "demo-web" },
  auth: oauth.ClientSecretBasic(DEMO_SECRETS["demo-web"]),
  redirectUri: DEMO_WEB_REDIRECT_URIS[1]!, // http://127.0.0.1:8080/callback
});

const nativeApp = (): RelyingParty => ({
  client: { client_id: "demo-public" },
  auth: oauth.None(),
  redirectUri: DEMO_PUBLIC_REDIRECT_URI,
});

/** One authorization request as the relying party builds it, with what it keeps to check the answer. */
async function authorizationRequest(rp: RelyingParty, extra: Record<string, string> = {}) {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: rp.client.client_id,
    redirect_uri: rp.redirectUri,
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    ...extra,
  }).toString();
  return { url, codeVerifier, state, nonce };
}

/**
 * The person's part: opens the authorization URL, signs in when the sign-in page appears, allows
 * on the consent page, until the browser leaves for the client (a redirect) or gets the form_post
 * page. Returns the last visit and the headings of the pages seen.
 */
async function person(browser: HttpBrowser, url: URL, user = DEMO_USER): Promise<{ visit: Visit; pages: string[] }> {
  let visit = await browser.go(url.href);
  const pages: string[] = [];
  for (let step = 0; step < 5 && !visit.left; step++) {
    expect(visit.status, `${heading(visit.html)} ${browser.history.join(", ")}`).toBe(200);
    pages.push(heading(visit.html));
    const actions = forms(visit.html, visit.url).map((f: Form) => new URL(f.action));
    if (actions.some((a) => a.origin === worker.url && a.pathname === "/login")) {
      visit = await browser.submit(visit, "/login", { email: user.email, password: user.password });
    } else if (actions.some((a) => a.origin === worker.url && a.pathname === "/consent")) {
      visit = await browser.submit(visit, "/consent", { decision: "allow" });
    } else break; // the form_post page, or a page this person does not know what to do with
  }
  return { visit, pages };
}

/** What reached the client: the redirect URI's query, or the fields of the auto-submitting form_post form. */
function callbackParameters(visit: Visit, redirectUri: string): URL | URLSearchParams {
  if (visit.left) {
    expect(visit.url.startsWith(`${redirectUri}?`), visit.url).toBe(true);
    return new URL(visit.url);
  }
  const [form] = forms(visit.html, visit.url);
  expect(form, `no form on "${heading(visit.html)}"`).toBeDefined();
  expect({ action: form!.action, method: form!.method }).toEqual({ action: redirectUri, method: "POST" });
  expect(visit.html).toMatch(/<script nonce="[^"]+">document\.forms\[0\]\.submit\(\);<\/script>/);
  // The page's CSP must let the browser submit the form to the client (form-action).
  const formAction = /(?:^|;)\s*form-action ([^;]*)/.exec(visit.response.headers.get("content-security-policy") ?? "")?.[1] ?? "";
  expect(formAction.split(" ")).toContain(new URL(redirectUri).origin);
  return form!.fields;
}

const b64url = (bytes: Buffer) => bytes.toString("base64url");

/** at_hash (OIDC Core §3.1.3.6): left half of the hash of the access token, hash named by the ID token's alg. */
function atHash(accessToken: string, alg: string): string {
  const hash = alg === "EdDSA" || alg === "Ed25519" ? "sha512" : `sha${alg.slice(2)}`;
  const digest = createHash(hash).update(accessToken).digest();
  return b64url(digest.subarray(0, digest.length / 2));
}

/**
 * The relying party's part after the callback: validate the authorization response, redeem the
 * code (ID token validated by oauth4webapi: iss, aud, exp, iat, nonce, azp), check the signature
 * against the advertised keys and at_hash, then read UserInfo for the ID token's sub.
 */
async function redeem(rp: RelyingParty, request: Awaited<ReturnType<typeof authorizationRequest>>, callback: URL | URLSearchParams) {
  const params = oauth.validateAuthResponse(as, rp.client, callback, request.state);
  expect(params.get("iss")).toBe(worker.url);
  const response = await oauth.authorizationCodeGrantRequest(as, rp.client, rp.auth, params, rp.redirectUri, request.codeVerifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, rp.client, response, { expectedNonce: request.nonce, requireIdToken: true });
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  expect(claims).toMatchObject({ iss: worker.url, aud: rp.client.client_id, nonce: request.nonce, sub: demoUserId });

  const { protectedHeader } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(as.jwks_uri!)), {
    issuer: worker.url,
    audience: rp.client.client_id,
  });
  expect(claims.at_hash).toBe(atHash(tokens.access_token, protectedHeader.alg));
  expect(decodeProtectedHeader(tokens.access_token).typ).toBe("at+jwt");

  const userinfo = await oauth.processUserInfoResponse(
    as,
    rp.client,
    claims.sub,
    await oauth.userInfoRequest(as, rp.client, tokens.access_token, insecure),
  );
  return { tokens, claims, userinfo };
}

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  stateDir = await mkdtemp(join(tmpdir(), "latchkey-e2e-"));
  await seedDemo({ url: worker.url, adminToken: worker.adminToken, stateDir, print: false, withUser: false });
  const user = await seedDemoUser({ url: worker.url, adminToken: worker.adminToken });
  expect(user).toMatchObject({ email: DEMO_USER.email, email_verified: true, created: true });
  demoUserId = user.id;
  const issuer = new URL(worker.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }));
});

afterAll(async () => {
  await worker?.dispose();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("the demo data (scripts/seed.mjs)", () => {
  it("seeds the demo user once: a second run finds it and keeps its id", async () => {
    const again = await seedDemoUser({ url: worker.url, adminToken: worker.adminToken });
    expect(again).toMatchObject({ id: demoUserId, email: DEMO_USER.email, email_verified: true, created: false });
  });
});

describe("OpenID Provider discovery", () => {
  it("advertises the code flow as oauth4webapi needs it", () => {
    expect(as).toMatchObject({
      issuer: worker.url,
      authorization_endpoint: `${worker.url}/authorize`,
      token_endpoint: `${worker.url}/token`,
      userinfo_endpoint: `${worker.url}/userinfo`,
      jwks_uri: `${worker.url}/jwks`,
      authorization_response_iss_parameter_supported: true,
    });
    expect(as.response_types_supported).toContain("code");
    expect(as.code_challenge_methods_supported).toContain("S256");
    expect(as.response_modes_supported).toEqual(expect.arrayContaining(["query", "form_post"]));
  });
});

describe("authorization code flow with PKCE (OIDC Core §3.1)", () => {
  it("confidential web client (client_secret_basic): sign in, consent, code, ID token, UserInfo", async () => {
    const rp = webApp();
    const browser = new HttpBrowser(worker.url);
    const request = await authorizationRequest(rp);
    const { visit, pages } = await person(browser, request.url);
    expect(pages).toEqual(["Sign in", "Allow Demo Web App to access your account?"]);

    const { tokens, claims, userinfo } = await redeem(rp, request, callbackParameters(visit, rp.redirectUri));
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.scope?.split(" ").sort()).toEqual(SCOPE.split(" ").sort());
    expect(claims.auth_time).toEqual(expect.any(Number));
    expect(claims.amr).toEqual(["pwd"]);
    expect(userinfo).toMatchObject({
      sub: demoUserId,
      email: DEMO_USER.email,
      email_verified: true,
      name: DEMO_USER.claims.name,
      given_name: DEMO_USER.claims.given_name,
      family_name: DEMO_USER.claims.family_name,
      address: expect.objectContaining({ locality: DEMO_USER.claims.address.locality, country: "GB" }),
      phone_number: DEMO_USER.claims.phone_number,
      phone_number_verified: true,
    });
  });

  it("public native client (none + PKCE)", async () => {
    const rp = nativeApp();
    const browser = new HttpBrowser(worker.url);
    const request = await authorizationRequest(rp, { scope: "openid email" });
    const { visit, pages } = await person(browser, request.url);
    expect(pages).toEqual(["Sign in", "Allow Demo Public App to access your account?"]);
    const { tokens, userinfo } = await redeem(rp, request, callbackParameters(visit, rp.redirectUri));
    expect(tokens.refresh_token).toBeUndefined();
    expect(userinfo).toEqual({ sub: demoUserId, email: DEMO_USER.email, email_verified: true });
  });

  it("a public client's code is refused without the PKCE verifier", async () => {
    const rp = nativeApp();
    const browser = new HttpBrowser(worker.url);
    const request = await authorizationRequest(rp, { scope: "openid" });
    const { visit } = await person(browser, request.url);
    const params = oauth.validateAuthResponse(as, rp.client, callbackParameters(visit, rp.redirectUri), request.state);
    const wrongVerifier = oauth.generateRandomCodeVerifier();
    const response = await oauth.authorizationCodeGrantRequest(as, rp.client, rp.auth, params, rp.redirectUri, wrongVerifier, insecure);
    const error = await oauth.processAuthorizationCodeResponse(as, rp.client, response, { expectedNonce: request.nonce }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 400, error: "invalid_grant" });
  });

  it("response_mode=form_post: the auto-submitting form carries code, state and iss", async () => {
    const rp = webApp();
    const browser = new HttpBrowser(worker.url);
    const request = await authorizationRequest(rp, { response_mode: "form_post" });
    const { visit, pages } = await person(browser, request.url);
    expect(visit.left).toBe(false);
    expect(pages.at(-1)).toBe("Returning you to the app…");
    const fields = callbackParameters(visit, rp.redirectUri) as URLSearchParams;
    expect([...fields.keys()].sort()).toEqual(["code", "iss", "state"]);
    const { userinfo } = await redeem(rp, request, fields);
    expect(userinfo.sub).toBe(demoUserId);
  });
});

describe("prompt=none (OIDC Core §3.1.2.1)", () => {
  it("after signing in and consenting, a second request returns a code without any page", async () => {
    const rp = webApp();
    const browser = new HttpBrowser(worker.url);
    const first = await authorizationRequest(rp);
    await redeem(rp, first, callbackParameters((await person(browser, first.url)).visit, rp.redirectUri));

    const silent = await authorizationRequest(rp, { prompt: "none" });
    const visit = await browser.go(silent.url.href);
    expect(visit.left, browser.history.join(", ")).toBe(true);
    const { claims } = await redeem(rp, silent, callbackParameters(visit, rp.redirectUri));
    expect(claims.sub).toBe(demoUserId);
  });

  it("without a session, the client gets login_required, with state and iss", async () => {
    const rp = webApp();
    const request = await authorizationRequest(rp, { prompt: "none" });
    const visit = await new HttpBrowser(worker.url).go(request.url.href);
    expect(visit.left).toBe(true);
    const error = (() => {
      try {
        oauth.validateAuthResponse(as, rp.client, callbackParameters(visit, rp.redirectUri), request.state);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(oauth.AuthorizationResponseError);
    expect(error).toMatchObject({ error: "login_required" });
  });
});
