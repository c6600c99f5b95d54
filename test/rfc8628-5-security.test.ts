import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashForStorage } from "../src/crypto/hash";
import { durableDeviceRequests } from "../src/device/requests";
import type { DeviceAuthorization } from "../workers/device-authorization";
import { expectError, nowSeconds } from "./helpers";
import { Browser, frozenClock, hiddenFields } from "./oidc-helpers";
import { expectPageSecurity } from "./pages-helpers";
import { approveOnDevicePage, deviceClient, poll, startDevice } from "./rfc8628-helpers";

afterEach(() => vi.useRealTimers());

const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("RFC 8628 §5.4 remote phishing: the person confirms the device, even with the code prefilled", () => {
  it("verification_uri_complete prefills the code but changes nothing until the person submits and approves", async () => {
    const client = await deviceClient();
    const device = await startDevice(client);
    const browser = new Browser();
    const page = await browser.fetch(new URL(device.verification_uri_complete).pathname + new URL(device.verification_uri_complete).search);
    const html = await page.text();
    expectPageSecurity(page, html);
    expect(html).toContain(`value="${device.user_code}"`);
    await expectError(await poll(client, device.device_code), 400, "authorization_pending");

    // The confirmation names the client, the scopes and the code, and warns.
    const confirm = await browser.submit(html, { user_code: device.user_code }, "/device");
    const text = await confirm.text();
    expectPageSecurity(confirm, text);
    expect(text).toContain("Living-room TV");
    expect(text).toContain(device.user_code);
    expect(text).toContain("Only continue if you started this on a device you have in front of you");
    expect(text).toContain('name="decision" value="approve"');
    expect(text).toContain('name="decision" value="deny"');
    const stored = await durableDeviceRequests(env.DEVICE_AUTHORIZATIONS, nowSeconds()).findByUserCode(device.user_code.replace("-", ""));
    expect(stored?.request.state).toBe("pending");
  });

  it("codes are typed case-, dash- and space-insensitively", async () => {
    const device = await startDevice(await deviceClient());
    const browser = new Browser();
    const page = await (await browser.fetch("/device")).text();
    const typed = ` ${device.user_code.toLowerCase().replace("-", " ")} `;
    const confirm = await browser.submit(page, { user_code: typed }, "/device");
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('action="/device/confirm"');
  });
});

describe("RFC 8628 §5.1: user-code guessing is throttled per IP", () => {
  it("wrong codes use up the IP's budget (then 429, even for a right code); right codes give their unit back", async () => {
    const device = await startDevice(await deviceClient());
    const browser = new Browser();
    const page = await (await browser.fetch("/device")).text();
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const post = (userCode: string) =>
      browser.fetch("/device", { method: "POST", headers: { ...FORM, "cf-connecting-ip": ip }, body: new URLSearchParams({ ...hiddenFields(page), user_code: userCode }).toString() });
    for (let i = 0; i < 5; i++) expect((await post(device.user_code)).status).toBe(200);
    const wrong = await post("BBBB-BBBB");
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("That code is not valid or has expired");
    for (let i = 0; i < 49; i++) await post("BBBB-BBBC");
    const refused = await post(device.user_code);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain("Too many wrong codes");
  });
});

describe("the /device pages: CSRF, framing, CSP", () => {
  it("every page has the pages' headers (CSP with nonce, frame-ancestors 'none', X-Frame-Options DENY, no-store)", async () => {
    const browser = new Browser();
    for (const path of ["/device", "/device/done?result=approved", "/device/done?result=constructor"]) {
      const res = await browser.fetch(path);
      expect(res.status).toBe(200);
      expectPageSecurity(res, await res.text());
    }
  });

  it("POSTs without the CSRF token, or from another site, are refused (403) and change nothing", async () => {
    const client = await deviceClient();
    const device = await startDevice(client);
    const browser = new Browser();
    const page = await (await browser.fetch("/device")).text();
    const fields = hiddenFields(page);
    const noToken = await browser.fetch("/device/confirm", { method: "POST", headers: FORM, body: new URLSearchParams({ user_code: device.user_code, decision: "deny" }).toString() });
    expect(noToken.status).toBe(403);
    const crossSite = await browser.fetch("/device/confirm", {
      method: "POST",
      headers: { ...FORM, "sec-fetch-site": "cross-site" },
      body: new URLSearchParams({ ...fields, user_code: device.user_code, decision: "deny" }).toString(),
    });
    expect(crossSite.status).toBe(403);
    await expectError(await poll(client, device.device_code), 400, "authorization_pending");
  });

  it("a request is decided once: a second Approve/Deny lands on 'Already answered'", async () => {
    const client = await deviceClient();
    const device = await startDevice(client);
    await approveOnDevicePage(new Browser(), device.user_code, undefined, { decision: "deny" });
    const browser = new Browser();
    const page = await (await browser.fetch("/device")).text();
    const again = await browser.submit(page, { user_code: device.user_code }, "/device");
    expect(await again.text()).toContain("Already answered");
  });
});

describe("the DeviceAuthorization Durable Object", () => {
  const requests = () => durableDeviceRequests(env.DEVICE_AUTHORIZATIONS, nowSeconds());
  const stubOf = (id: string) => env.DEVICE_AUTHORIZATIONS.get(env.DEVICE_AUTHORIZATIONS.idFromName(`device/${id}`));
  const approval = { sub: "u1", authTime: nowSeconds(), sid: "s1", amr: ["pwd"], grantId: "g1" };

  it("a held approval released after a failed issue is held again by the next poll; a completed one is used", async () => {
    const { deviceCode, userCode } = await requests().create({ clientId: "c1", scope: ["openid"] }, { ttl: 600, interval: 5 });
    const found = await requests().findByUserCode(userCode);
    expect(found?.request.state).toBe("pending");
    expect(await requests().approve(found!.id, approval)).toBe("done");
    expect(await requests().approve(found!.id, approval)).toBe("decided");
    const stub = stubOf(found!.id);
    const now = nowSeconds();
    const first = await stub.poll("c1", "h1", now + 10, now);
    expect(first.outcome).toBe("held");
    expect((await stub.poll("c1", "h2", now + 10, now)).outcome).toBe("in_use");
    await stub.release("h1");
    expect((await stub.poll("c1", "h3", now + 10, now)).outcome).toBe("held");
    expect(await stub.complete("h1")).toBe("lost");
    expect(await stub.complete("h3")).toBe("done");
    expect((await stub.poll("c1", "h4", now + 10, now)).outcome).toBe("used");
    expect(deviceCode).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("a holder whose lease ran out loses the approval to the next poll", async () => {
    const { userCode } = await requests().create({ clientId: "c1", scope: [] }, { ttl: 600, interval: 5 });
    const found = (await requests().findByUserCode(userCode))!;
    await requests().approve(found.id, approval);
    const stub = stubOf(found.id);
    const now = nowSeconds();
    expect((await stub.poll("c1", "slow", now + 10, now)).outcome).toBe("held");
    expect((await stub.poll("c1", "next", now + 21, now + 11)).outcome).toBe("held");
    expect(await stub.complete("slow")).toBe("lost");
    expect(await stub.complete("next")).toBe("done");
  });

  it("the alarm deletes the request and its user code after expiry, not before", async () => {
    const { userCode } = await requests().create({ clientId: "c1", scope: [] }, { ttl: 600, interval: 5 });
    const found = (await requests().findByUserCode(userCode))!;
    const stub = stubOf(found.id);
    const codeStub = env.DEVICE_AUTHORIZATIONS.get(env.DEVICE_AUTHORIZATIONS.idFromName(`user_code/${await hashForStorage(userCode)}`));
    const tables = (target: typeof stub) =>
      runInDurableObject(target, (_: DeviceAuthorization, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").one().n);
    // Early: nothing goes.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await requests().describe(found.id)).not.toBeNull();
    const clock = frozenClock();
    clock.advance(601);
    for (const target of [stub, codeStub]) {
      await runDurableObjectAlarm(target);
      expect(await tables(target)).toBe(0);
    }
    expect((await stub.poll("c1", "h", nowSeconds() + 10, nowSeconds())).outcome).toBe("unknown");
    expect(await requests().findByUserCode(userCode)).toBeNull();
  });

  it("reads of an object that never stored anything (a guessed device_code or user code) leave no storage behind", async () => {
    const guessed = stubOf(crypto.randomUUID());
    expect((await guessed.poll("c1", "h", nowSeconds() + 10, nowSeconds())).outcome).toBe("unknown");
    expect(await guessed.describe(nowSeconds())).toBeNull();
    const codeStub = env.DEVICE_AUTHORIZATIONS.get(env.DEVICE_AUTHORIZATIONS.idFromName(`user_code/${crypto.randomUUID()}`));
    expect(await codeStub.resolveUserCode(nowSeconds())).toBeNull();
    for (const target of [guessed, codeStub]) {
      const tables = await runInDurableObject(target, (_: DeviceAuthorization, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").one().n);
      expect(tables).toBe(0);
    }
  });

});
