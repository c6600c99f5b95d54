import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectError, tokenRequest, basic } from "./helpers";
import { Browser, expectTokenResponse, frozenClock, person, verifyIdToken } from "./oidc-helpers";
import { approveOnDevicePage, deviceClient, poll, startDevice } from "./rfc8628-helpers";

afterEach(() => vi.useRealTimers());

describe("RFC 8628 §3.4–3.5: polling the token endpoint", () => {
  it("the whole flow: device authorization → /device → sign-in → consent → approve → poll → tokens → refresh", async () => {
    const client = await deviceClient();
    const user = await person();
    const device = await startDevice(client);
    await expectError(await poll(client, device.device_code), 400, "authorization_pending", "authorization_pending");

    const browser = new Browser();
    const { res, pages } = await approveOnDevicePage(browser, device.user_code, user);
    expect(pages).toEqual(["confirm", "login", "consent"]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Device connected");

    const clock = frozenClock();
    clock.advance(device.interval);
    const tokens = await expectTokenResponse(await poll(client, device.device_code));
    expect(tokens.scope).toBe("openid offline_access");
    expect(tokens.refresh_token).toBeDefined();
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { accessToken: tokens.access_token });
    expect(idToken.sub).toBe(user.id);
    expect(idToken.amr).toEqual(["pwd"]);

    // §3.5: the device_code is used up.
    clock.advance(device.interval);
    await expectError(await poll(client, device.device_code), 400, "invalid_grant", "device_code_used");

    // The refresh token is an ordinary rotating one (RFC 9700 §4.14.2).
    const refreshed = await expectTokenResponse(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token! }, { authorization: basic(client.client_id, client.client_secret!) }),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  });

  it("a person already signed in with consent approves with one confirmation", async () => {
    const client = await deviceClient();
    const user = await person();
    const browser = new Browser();
    await approveOnDevicePage(browser, (await startDevice(client)).user_code, user);
    const second = await startDevice(client);
    const { pages, res } = await approveOnDevicePage(browser, second.user_code, user);
    expect(pages).toEqual(["confirm"]);
    expect(await res.text()).toContain("Device connected");
    await expectTokenResponse(await poll(client, second.device_code));

    // max_age=0 on the device's request (OIDC Core §3.1.2.1): the session is not fresh enough, sign in again.
    const fresh = await startDevice(client, "openid offline_access", { max_age: "0" });
    expect((await approveOnDevicePage(browser, fresh.user_code, user)).pages).toEqual(["confirm", "login"]);
    await expectTokenResponse(await poll(client, fresh.device_code));
  });

  it("slow_down: a poll faster than the interval raises it by 5 s, for this and every later poll", async () => {
    const client = await deviceClient();
    const device = await startDevice(client);
    expect(device.interval).toBe(5);
    const clock = frozenClock();
    await expectError(await poll(client, device.device_code), 400, "authorization_pending");
    const first = await expectError(await poll(client, device.device_code), 400, "slow_down", "slow_down");
    expect(first.error_description).toContain("10 seconds");
    clock.advance(9);
    const second = await expectError(await poll(client, device.device_code), 400, "slow_down");
    expect(second.error_description).toContain("15 seconds");
    // Waiting the raised interval is enough again; less is not.
    clock.advance(15);
    await expectError(await poll(client, device.device_code), 400, "authorization_pending");
    clock.advance(14);
    await expectError(await poll(client, device.device_code), 400, "slow_down");
  });

  it("access_denied when the person denies; expired_token once the code has expired", async () => {
    const client = await deviceClient();
    const denied = await startDevice(client);
    const { res } = await approveOnDevicePage(new Browser(), denied.user_code, undefined, { decision: "deny" });
    expect(await res.text()).toContain("Request denied");
    await expectError(await poll(client, denied.device_code), 400, "access_denied", "device_access_denied");

    const expiring = await startDevice(client);
    const clock = frozenClock();
    clock.advance(expiring.expires_in + 1);
    await expectError(await poll(client, expiring.device_code), 400, "expired_token", "expired_token");
  });

  it("Deny on the consent page denies the device request", async () => {
    const client = await deviceClient();
    const device = await startDevice(client);
    const { res, pages } = await approveOnDevicePage(new Browser(), device.user_code, await person(), { consent: "deny" });
    expect(pages).toEqual(["confirm", "login", "consent"]);
    expect(await res.text()).toContain("Request denied");
    await expectError(await poll(client, device.device_code), 400, "access_denied");
  });

  it("a device_code issued to another client → invalid_grant, and the request is left as it was", async () => {
    const [owner, other] = [await deviceClient(), await deviceClient()];
    const device = await startDevice(owner);
    await approveOnDevicePage(new Browser(), device.user_code, await person());
    await expectError(await poll(other, device.device_code), 400, "invalid_grant", "device_code_client_mismatch");
    await expectTokenResponse(await poll(owner, device.device_code));
  });

  it("an unknown device_code → invalid_grant; a missing one → invalid_request", async () => {
    const client = await deviceClient();
    await expectError(await poll(client, "not-a-device-code"), 400, "invalid_grant", "device_code_invalid");
    await expectError(
      await tokenRequest({ grant_type: "urn:ietf:params:oauth:grant-type:device_code" }, { authorization: basic(client.client_id, client.client_secret!) }),
      400, "invalid_request", "missing_parameter",
    );
  });

  it("after approval, of 50 concurrent polls exactly one gets the tokens; later polls invalid_grant", async () => {
    const client = await deviceClient();
    const device = await startDevice(client);
    await approveOnDevicePage(new Browser(), device.user_code, await person());
    const answers = await Promise.all(Array.from({ length: 50 }, () => poll(client, device.device_code)));
    const ok = answers.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of answers.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(400);
      expect(["invalid_grant", "authorization_pending"]).toContain(((await r.json()) as { error: string }).error);
    }
    await expectError(await poll(client, device.device_code), 400, "invalid_grant", "device_code_used");
  });

  it("consent withdrawn or the address un-verified after approval: the poll is refused and the approval kept", async () => {
    const client = await deviceClient();
    const user = await person();
    const device = await startDevice(client);
    await approveOnDevicePage(new Browser(), device.user_code, user);
    const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
    const patched = await call(`/admin/users/${user.id}`, { method: "PATCH", headers: admin, body: JSON.stringify({ email_verified: false }) });
    expect(patched.status, await patched.clone().text()).toBe(200);
    await expectError(await poll(client, device.device_code), 400, "invalid_grant", "grant_user_unverified");
    // The refusal did not use the approval up: once the address is verified again, the poll succeeds.
    await call(`/admin/users/${user.id}`, { method: "PATCH", headers: admin, body: JSON.stringify({ email_verified: true }) });
    await expectTokenResponse(await poll(client, device.device_code));

    // Consent withdrawn after approval: the approval stands on the withdrawn grant, so no tokens.
    const second = await startDevice(client);
    await approveOnDevicePage(new Browser(), second.user_code, user);
    const withdrawn = await call(`/admin/users/${user.id}/grants/${client.client_id}`, { method: "DELETE", headers: admin });
    expect(withdrawn.status).toBe(204);
    await expectError(await poll(client, second.device_code), 400, "invalid_grant", "grant_consent_revoked");
  });
});
