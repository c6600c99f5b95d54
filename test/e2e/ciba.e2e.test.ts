/**
 * End to end, OpenID CIBA Core 1.0 with a real client library against the built Worker in workerd
 * (scripts/local-worker.mjs, with the local-development setting that allows loopback http callback
 * URLs): `openid-client` (v6) starts a backchannel authentication (`initiateBackchannelAuthentication`)
 * and polls (`pollBackchannelAuthenticationGrant`) in poll mode; for ping (§10.2) and push (§10.3) a
 * notification receiver — a Node http server on 127.0.0.1 — gets the callbacks. The person's
 * approval goes through the mailed link (read from the development outbox) with an HTTP browser:
 * sign in, consent, Approve.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { HttpBrowser, decodeHtml, forms, heading, signInAndConsent } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

const CIBA_GRANT = "urn:openid:params:grant-type:ciba";
let worker: Worker;
let receiver: Server;
let notifyUrl: string;
const callbacks: { authorization: string | undefined; body: Record<string, unknown> }[] = [];
const person = { email: `ciba-${randomBytes(4).toString("hex")}@example.com`, password: `pw-${randomBytes(12).toString("base64url")}` };
let personId: string;

const admin = (path: string, method: string, body: unknown): Promise<Response> => worker.admin(path, method, body);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A CIBA client of `mode` with a secret; returns its openid-client configuration. */
async function cibaClient(mode: "poll" | "ping" | "push"): Promise<client.Configuration> {
  const id = `ciba-${mode}-${randomBytes(4).toString("hex")}`;
  const res = await admin(`/admin/clients/${id}`, "PUT", {
    client_name: `Call centre (${mode})`,
    grant_types: [CIBA_GRANT, "refresh_token"],
    scope: "",
    backchannel_token_delivery_mode: mode,
    ...(mode !== "poll" && { backchannel_client_notification_endpoint: notifyUrl }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const { client_secret } = (await res.json()) as { client_secret: string };
  return client.discovery(new URL(worker.url), id, client_secret, client.ClientSecretBasic(client_secret), {
    execute: [client.allowInsecureRequests],
  });
}

/** The newest CIBA approval link mailed to the person (the development outbox page). */
async function mailedLink(): Promise<string> {
  const outbox = decodeHtml(await (await fetch(`${worker.url}/dev/outbox`)).text());
  const links = [...outbox.matchAll(/https?:\/\/[^\s"<]+\/ciba\/[A-Za-z0-9_-]+/g)].map((m) => m[0]);
  expect(links.length, "a CIBA mail in the outbox").toBeGreaterThan(0);
  return links[0]!;
}

/** The person opens the mailed link, signs in, consents if asked and decides. */
async function decide(decision: "approve" | "deny"): Promise<string[]> {
  const link = await mailedLink();
  const browser = new HttpBrowser(worker.url);
  const { visit, headings } = await signInAndConsent(browser, link, person);
  const path = new URL(link).pathname;
  expect(forms(visit.html, visit.url).some((f) => new URL(f.action).pathname === path), heading(visit.html)).toBe(true);
  const done = await browser.submit(visit, path, { decision });
  expect(done.status).toBe(200);
  return [...headings, heading(done.html)];
}

async function callbackFor(authReqId: string): Promise<(typeof callbacks)[number]> {
  for (let i = 0; i < 100; i++) {
    const found = callbacks.find((c) => c.body.auth_req_id === authReqId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no callback for ${authReqId}`);
}

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    callbacks.push({ authorization: req.headers.authorization, body: JSON.parse(await readBody(req)) as Record<string, unknown> });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ciba/notify`;
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  const user = await admin("/admin/users", "POST", { ...person, email_verified: true });
  expect(user.status, await user.clone().text()).toBe(201);
  personId = ((await user.json()) as { id: string }).id;
});

afterAll(async () => {
  await worker?.dispose();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("openid-client v6: CIBA", () => {
  it("poll: initiateBackchannelAuthentication → approval through the mailed link → pollBackchannelAuthenticationGrant", async () => {
    const config = await cibaClient("poll");
    expect(config.serverMetadata().backchannel_token_delivery_modes_supported).toEqual(["poll", "ping", "push"]);
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: "openid offline_access", login_hint: person.email, binding_message: "Call 4711",
    });
    expect(started.auth_req_id.length).toBeGreaterThanOrEqual(27);
    const polling = client.pollBackchannelAuthenticationGrant(config, started);
    await decide("approve");
    const tokens = await polling;
    expect(tokens.claims()?.sub).toBe(personId);
    expect(tokens.refresh_token).toBeDefined();
  }, 60_000);

  it("ping: the receiver gets {auth_req_id} with the Bearer token, then the client polls", async () => {
    const config = await cibaClient("ping");
    const token = randomBytes(16).toString("base64url");
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: "openid", login_hint: person.email, client_notification_token: token,
    });
    await decide("approve");
    const ping = await callbackFor(started.auth_req_id);
    expect(ping).toEqual({ authorization: `Bearer ${token}`, body: { auth_req_id: started.auth_req_id } });
    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0 });
    expect(tokens.claims()?.sub).toBe(personId);
  }, 60_000);

  it("push: the receiver gets the tokens with auth_req_id; the ID token names the request", async () => {
    const config = await cibaClient("push");
    const token = randomBytes(16).toString("base64url");
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: "openid offline_access", login_hint: person.email, client_notification_token: token,
    });
    await decide("approve");
    const push = await callbackFor(started.auth_req_id);
    expect(push.authorization).toBe(`Bearer ${token}`);
    expect(push.body).toMatchObject({ auth_req_id: started.auth_req_id, token_type: "Bearer" });
    const [, payload] = String(push.body.id_token).split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as Record<string, unknown>;
    expect(claims["urn:openid:params:jwt:claim:auth_req_id"]).toBe(started.auth_req_id);
    expect(claims["urn:openid:params:jwt:claim:rt_hash"]).toEqual(expect.any(String));
    expect(claims.sub).toBe(personId);
  }, 60_000);

  it("push: a denial is pushed as access_denied", async () => {
    const config = await cibaClient("push");
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: "openid", login_hint: person.email, client_notification_token: randomBytes(16).toString("base64url"),
    });
    await decide("deny");
    const push = await callbackFor(started.auth_req_id);
    expect(push.body).toMatchObject({ error: "access_denied", auth_req_id: started.auth_req_id });
  }, 60_000);
});
