/**
 * End to end, logout (issue 4): `openid-client` (v6) registers a client with a
 * post_logout_redirect_uri and a backchannel_logout_uri, a person signs in through the code flow,
 * and the client logs them out with the library's `buildEndSessionUrl` (OIDC RP-Initiated Logout:
 * id_token_hint, client_id, post_logout_redirect_uri, state). The person's browser
 * (test/e2e/http-browser.ts) follows it and is sent back to the client with the state; the
 * client's back-channel endpoint — a real HTTP server here — receives the logout token (OIDC
 * Back-Channel Logout), verified with the published JWKS; and prompt=none then says login_required.
 * Without an id_token_hint the person is asked first.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { HttpBrowser, forms, heading, signInAndConsent } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

let worker: Worker;
let backChannel: Server;
let backChannelUri: string;
/** Every POST the client's back-channel endpoint received: content type and body. */
const received: { contentType: string | undefined; body: string }[] = [];

const person = { email: `lo-${randomBytes(4).toString("hex")}@example.com`, password: `pw-${randomBytes(12).toString("base64url")}` };
/** The relying party's callbacks on loopback: nothing listens, the browser's redirects to them are captured. */
const REDIRECT_URI = "http://127.0.0.1:8089/cb";
const POST_LOGOUT_URI = "http://127.0.0.1:8089/logged-out?from=latchkey";

beforeAll(async () => {
  backChannel = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push({ contentType: req.headers["content-type"], body });
      res.writeHead(200, { "cache-control": "no-store" }).end();
    });
  });
  await new Promise<void>((resolve) => backChannel.listen(0, "127.0.0.1", resolve));
  backChannelUri = `http://127.0.0.1:${(backChannel.address() as AddressInfo).port}/backchannel_logout`;
  // http client URIs on loopback are refused unless ALLOW_INSECURE_CLIENT_URIS is on (local development).
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  const res = await fetch(`${worker.url}/admin/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ ...person, email_verified: true }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
});

afterAll(async () => {
  await worker?.dispose();
  await new Promise((resolve) => backChannel?.close(resolve));
});

/** The code flow as openid-client runs it, with the person signing in in `browser`; returns the tokens. */
async function codeFlow(config: client.Configuration, browser: HttpBrowser) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const { visit } = await signInAndConsent(browser, url, person);
  expect(visit.left, browser.history.join(", ")).toBe(true);
  return client.authorizationCodeGrant(config, new URL(visit.url), { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
}

/** prompt=none in `browser`: where the authorization endpoint sends it back. */
async function promptNone(config: client.Configuration, browser: HttpBrowser): Promise<URL> {
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    prompt: "none",
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: "S256",
  });
  const visit = await browser.go(url.href);
  expect(visit.left, browser.history.join(", ")).toBe(true);
  return new URL(visit.url);
}

/** Waits (up to 10 s) for the back-channel endpoint to have received `count` POSTs: delivery runs after the logout answered. */
async function backChannelPosts(count: number) {
  for (let waited = 0; received.length < count && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  return received.slice(0, count);
}

describe("openid-client v6: RP-initiated logout and back-channel logout", () => {
  let config: client.Configuration;

  beforeAll(async () => {
    config = await client.dynamicClientRegistration(
      new URL(worker.url),
      {
        client_name: "Logout RP",
        redirect_uris: [REDIRECT_URI],
        post_logout_redirect_uris: [POST_LOGOUT_URI],
        backchannel_logout_uri: backChannelUri,
        backchannel_logout_session_required: true,
        token_endpoint_auth_method: "client_secret_basic",
      },
      client.ClientSecretBasic(),
      { execute: [client.allowInsecureRequests] },
    );
    expect(config.serverMetadata()).toMatchObject({
      end_session_endpoint: `${worker.url}/logout`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
    expect(config.clientMetadata()).toMatchObject({ backchannel_logout_uri: backChannelUri, post_logout_redirect_uris: [POST_LOGOUT_URI] });
  });

  it("buildEndSessionUrl with the id_token_hint: back at the client with state, the logout token delivered, the session gone", async () => {
    const browser = new HttpBrowser(worker.url);
    const tokens = await codeFlow(config, browser);
    const claims = tokens.claims()!;
    expect(claims.sid).toEqual(expect.any(String));

    const state = client.randomState();
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI, state });
    expect(endSession.searchParams.get("client_id")).toBe(config.clientMetadata().client_id);
    const visit = await browser.go(endSession.href);
    expect(visit.left, browser.history.join(", ")).toBe(true);
    expect(visit.url).toBe(`${POST_LOGOUT_URI}&state=${state}`);
    expect(browser.cookies.has("__Host-latchkey-session")).toBe(false);

    const [post] = await backChannelPosts(1);
    expect(post!.contentType).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(post!.body);
    expect([...form.keys()]).toEqual(["logout_token"]);
    const { payload, protectedHeader } = await jwtVerify(form.get("logout_token")!, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), {
      issuer: worker.url,
      audience: config.clientMetadata().client_id,
      typ: "logout+jwt",
    });
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload).toMatchObject({ sub: claims.sub, sid: claims.sid, events: { "http://schemas.openid.net/event/backchannel-logout": {} } });
    expect(payload).not.toHaveProperty("nonce");

    const back = await promptNone(config, browser);
    expect(back.searchParams.get("error")).toBe("login_required");
  });

  it("without an id_token_hint the person is asked first; Sign out → back at the client with state", async () => {
    const browser = new HttpBrowser(worker.url);
    await codeFlow(config, browser);
    const state = client.randomState();
    const question = await browser.go(client.buildEndSessionUrl(config, { post_logout_redirect_uri: POST_LOGOUT_URI, state }).href);
    expect(question.left).toBe(false);
    expect(heading(question.html)).toBe("Sign out of Latchkey?");
    expect(forms(question.html, question.url).map((f) => new URL(f.action).pathname)).toEqual(["/logout/confirm"]);
    const done = await browser.submit(question, "/logout/confirm", { decision: "sign_out" });
    expect(done.left, browser.history.join(", ")).toBe(true);
    expect(done.url).toBe(`${POST_LOGOUT_URI}&state=${state}`);
    expect((await promptNone(config, browser)).searchParams.get("error")).toBe("login_required");
  });
});
