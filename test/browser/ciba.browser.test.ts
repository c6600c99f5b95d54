/**
 * CIBA (OpenID CIBA Core 1.0) with a real browser on the person's side, at phone size: a call-centre
 * app (this test, as the client) starts a backchannel authentication at /bc-authorize in ping mode;
 * the person opens the mailed link (the development outbox) in headless Chromium, signs in, sees
 * which app asks, the binding message and the scopes, approves (and consents); the app's notification
 * receiver (a Node http server on 127.0.0.1, allowed by the local-development setting) gets the ping
 * with its Bearer token, and its poll gets the tokens. (The consent page comes right after sign-in,
 * before the approval page.) A second request is denied. Every page is
 * photographed (docs/screenshots/ciba-*.png; see docs/screenshots/README.md).
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { clientPost, createPerson, launchPhone, registerClient, type PhoneBrowser, type Worker } from "./harness.js";

const CIBA_GRANT = "urn:openid:params:grant-type:ciba";
const CLIENT = { id: "call-centre", secret: randomBytes(32).toString("base64url") };
const PERSON = { email: "robin@example.com", password: "correct horse battery staple" };
const TOKEN = randomBytes(16).toString("base64url");

let worker: Worker;
let phone: PhoneBrowser;
let page: Page;
let personId: string;
let receiver: Server;
const pings: { authorization: string | undefined; body: string }[] = [];

async function start(bindingMessage: string): Promise<string> {
  const res = await fetch(`${worker.url}/bc-authorize`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      scope: "openid profile offline_access", login_hint: PERSON.email, binding_message: bindingMessage, client_notification_token: TOKEN,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { auth_req_id: string }).auth_req_id;
}

const poll = (authReqId: string) => clientPost<Record<string, string>>(worker, "/token", CLIENT, { grant_type: CIBA_GRANT, auth_req_id: authReqId });

/** Opens the development outbox and follows the newest approval link, as the person would from their mail. */
async function openMailedLink(shot?: string): Promise<void> {
  await page.goto(`${worker.url}/dev/outbox`);
  if (shot) await phone.shoot(shot);
  const href = await page.locator('a[href*="/ciba/"]').first().getAttribute("href");
  expect(href).toBeTruthy();
  await page.goto(new URL(href!, worker.url).href);
}

const h1 = () => page.locator("h1").first();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      pings.push({ authorization: req.headers.authorization, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  await registerClient(worker, CLIENT.id, {
    client_name: "Call centre",
    client_secret: CLIENT.secret,
    grant_types: [CIBA_GRANT, "refresh_token"],
    scope: "",
    backchannel_token_delivery_mode: "ping",
    backchannel_client_notification_endpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ciba/notify`,
  });
  personId = await createPerson(worker, PERSON);
  phone = await launchPhone();
  ({ page } = phone);
});

afterAll(async () => {
  await phone?.close();
  await worker?.dispose();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("a person approves a call centre's sign-in request through the mailed link (phone, real Chromium)", () => {
  let authReqId: string;

  it("the app asks; the mailed link leads to sign-in first", async () => {
    authReqId = await start("Call 4711");
    expect((await poll(authReqId)).body.error).toBe("authorization_pending");
    await openMailedLink("ciba-01-mail");
    await page.waitForURL((url) => url.pathname === "/login");
    await phone.shoot("ciba-02-sign-in");
    await page.getByLabel("Email address").fill(PERSON.email);
    await page.getByLabel("Password").fill(PERSON.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  });

  it("the approval page names the app, the binding message and what it asks for", async () => {
    await page.waitForURL((url) => url.pathname !== "/login");
    if (new URL(page.url()).pathname === "/consent") {
      await phone.shoot("ciba-03-consent");
      await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL((url) => url.pathname !== "/consent");
    }
    await expect.poll(() => h1().textContent(), { message: page.url() }).toContain("Approve a sign-in to");
    const main = (await page.locator("main").textContent()) ?? "";
    expect(main).toContain("Call centre");
    expect(main).toContain("Call 4711");
    await phone.shoot("ciba-04-approve");
  });

  it("approves: the app's receiver is pinged, and its poll gets the tokens once", async () => {
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL((url) => url.pathname === "/ciba/done");
    expect(await h1().textContent()).toBe("Sign-in approved");
    await phone.shoot("ciba-05-approved");

    await expect.poll(() => pings.length).toBe(1);
    expect(pings[0]).toEqual({ authorization: `Bearer ${TOKEN}`, body: JSON.stringify({ auth_req_id: authReqId }) });
    const answer = await poll(authReqId);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const claims = JSON.parse(Buffer.from(answer.body.id_token!.split(".")[1]!, "base64url").toString()) as { sub: string };
    expect(claims.sub).toBe(personId);
    expect((await poll(authReqId)).body.error).toBe("invalid_grant");
  });

  it("a second request is denied: the app is pinged and its poll answers access_denied", async () => {
    const second = await start("Call 4712");
    await openMailedLink();
    await expect.poll(() => h1().textContent()).toContain("Approve a sign-in to");
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL((url) => url.pathname === "/ciba/done");
    expect(await h1().textContent()).toBe("Sign-in denied");
    await phone.shoot("ciba-06-denied");
    await expect.poll(() => pings.length).toBe(2);
    expect((await poll(second)).body.error).toBe("access_denied");
  });
});
