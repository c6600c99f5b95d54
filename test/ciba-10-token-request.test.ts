import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashForStorage } from "../src/crypto/hash";
import type { CibaRequest } from "../workers/ciba-request";
import { basic, createClient, expectError, nowSeconds, tokenRequest } from "./helpers";
import { Browser, expectTokenResponse, frozenClock, person, verifyIdToken } from "./oidc-helpers";
import { CIBA_GRANT, cibaClient, decideOnApprovalPage, mailedApproval, pollCiba, startCiba } from "./ciba-helpers";

afterEach(() => vi.useRealTimers());

const stubOf = async (authReqId: string) => env.CIBA_REQUESTS.get(env.CIBA_REQUESTS.idFromName(`ciba/${await hashForStorage(authReqId)}`));

describe("CIBA §10.1, §11: polling the token endpoint", () => {
  it("the whole flow: /bc-authorize → mail → sign-in → consent → approve → poll → tokens, once", async () => {
    const client = await cibaClient();
    const user = await person();
    const started = await startCiba(client, user.email, { binding_message: "W4SCT" });
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending", "ciba_authorization_pending");

    const { path } = await mailedApproval(user.email);
    const { res, pages } = await decideOnApprovalPage(new Browser(), path, user);
    expect(pages).toEqual(["login", "consent", "approval"]);
    expect(await res.text()).toContain("Sign-in approved");

    const clock = frozenClock();
    clock.advance(started.interval);
    const tokens = await expectTokenResponse(await pollCiba(client, started.auth_req_id));
    expect(tokens.scope).toBe("openid offline_access");
    expect(tokens.refresh_token).toBeDefined();
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { accessToken: tokens.access_token });
    expect(idToken.sub).toBe(user.id);

    clock.advance(started.interval);
    await expectError(await pollCiba(client, started.auth_req_id), 400, "invalid_grant", "auth_req_id_used");
  });

  it("slow_down: a poll faster than the interval raises it by 5 s, remembered for later polls", async () => {
    const client = await cibaClient();
    const user = await person();
    const started = await startCiba(client, user.email);
    const clock = frozenClock();
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending");
    const body = await expectError(await pollCiba(client, started.auth_req_id), 400, "slow_down", "ciba_slow_down");
    expect(body.error_description).toContain(`${started.interval + 5} seconds`);
    // Waiting the old interval is still too fast now.
    clock.advance(started.interval);
    await expectError(await pollCiba(client, started.auth_req_id), 400, "slow_down");
    clock.advance(started.interval + 10 + 1);
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending");
  });

  it("denied → access_denied; expired → expired_token", async () => {
    const client = await cibaClient();
    const user = await person();
    const denied = await startCiba(client, user.email);
    const { path } = await mailedApproval(user.email);
    const { res } = await decideOnApprovalPage(new Browser(), path, user, "deny");
    expect(await res.text()).toContain("Sign-in denied");
    await expectError(await pollCiba(client, denied.auth_req_id), 400, "access_denied", "ciba_access_denied");

    const expiring = await startCiba(client, user.email, { requested_expiry: "60" });
    expect(expiring.expires_in).toBe(60);
    const clock = frozenClock();
    clock.advance(61);
    await expectError(await pollCiba(client, expiring.auth_req_id), 400, "expired_token", "ciba_expired_token");
  });

  it("an auth_req_id of another client, unknown, or missing → invalid_grant / invalid_request", async () => {
    const client = await cibaClient();
    const other = await cibaClient();
    const user = await person();
    const started = await startCiba(client, user.email);
    await expectError(await pollCiba(other, started.auth_req_id), 400, "invalid_grant", "auth_req_id_client_mismatch");
    await expectError(await pollCiba(client, "not-an-auth-req-id"), 400, "invalid_grant", "auth_req_id_invalid");
    await expectError(
      await tokenRequest({ grant_type: CIBA_GRANT }, { authorization: basic(client.client_id, client.client_secret!) }),
      400, "invalid_request", "missing_parameter",
    );
    // Another client's poll changed nothing: the owner's next poll is not slow_down.
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending");
  });

  it("a client not registered for the CIBA grant → unauthorized_client", async () => {
    const client = await createClient({ grant_types: ["client_credentials"] });
    await expectError(await pollCiba(client, "x"), 400, "unauthorized_client");
  });

  it("50 concurrent polls after approval → exactly one 200, the rest authorization_pending (in use) or invalid_grant", async () => {
    const client = await cibaClient();
    const user = await person();
    const started = await startCiba(client, user.email);
    const { path } = await mailedApproval(user.email);
    await decideOnApprovalPage(new Browser(), path, user);
    const answers = await Promise.all(Array.from({ length: 50 }, () => pollCiba(client, started.auth_req_id)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    const errors = await Promise.all(answers.filter((r) => r.status !== 200).map((r) => r.json() as Promise<{ error: string }>));
    for (const e of errors) expect(["authorization_pending", "invalid_grant"]).toContain(e.error);
  });

  it("the object's alarm deletes the request and its page handle after expiry, not before", async () => {
    const client = await cibaClient();
    const user = await person();
    const started = await startCiba(client, user.email, { requested_expiry: "60" });
    const { path } = await mailedApproval(user.email);
    const handle = path.split("/").pop()!;
    const stub = await stubOf(started.auth_req_id);
    const handleStub = env.CIBA_REQUESTS.get(env.CIBA_REQUESTS.idFromName(`handle/${await hashForStorage(handle)}`));
    const tables = (target: typeof stub) =>
      runInDurableObject(target, (_: CibaRequest, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").one().n);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.describe(nowSeconds())).not.toBeNull();
    const clock = frozenClock();
    clock.advance(61);
    for (const target of [stub, handleStub]) {
      await runDurableObjectAlarm(target);
      expect(await tables(target)).toBe(0);
    }
    await expectError(await pollCiba(client, started.auth_req_id), 400, "invalid_grant", "auth_req_id_invalid");
  });
});
