import { afterEach, describe, expect, it, vi } from "vitest";
import { LEASE_SECONDS } from "../src/replay/replay-cache";
import { expectError } from "./helpers";
import { Browser, authorize, clientRedirect, codeRequest, expectTokenResponse, frozenClock, person, redeemAsRegistered } from "./oidc-helpers";
import { familyOf, refreshClient, refreshed, storedHash, userinfo } from "./rfc6749-6-helpers";
import { codeObject, plantKvRefusedToken, refreshRows, withObjectFailing, withTableAway } from "./storage-faults-helpers";

/**
 * RFC 6749 §4.1.2, §10.5 — the code exchange when a store fails at each step (docs/storage.md
 * "When a store fails"). The rule under test (src/replay/issue-once.ts): a reservation not followed
 * by a successful issue is not a use. The client sees server_error; after recovery its retry of the
 * same request succeeds, and the failed attempt left nothing behind.
 */

afterEach(() => vi.useRealTimers());

async function offlineCode() {
  const client = await refreshClient();
  const { params, verifier } = await codeRequest(client.client_id, { scope: "openid offline_access", prompt: "consent" });
  const code = clientRedirect((await authorize(new Browser(), params, await person())).response).get("code")!;
  return { client, code, redeem: () => redeemAsRegistered(client, code, verifier) };
}

/** The retry after recovery: tokens, one refresh-token family, and a refresh token that works. */
async function expectRedeemed(exchange: Awaited<ReturnType<typeof offlineCode>>) {
  const tokens = await expectTokenResponse(await exchange.redeem());
  expect(await refreshRows(exchange.client.client_id)).toEqual({ families: 1, tokens: 1, rotations: 1 });
  await refreshed(exchange.client, tokens.refresh_token!);
  return tokens;
}

const none = { families: 0, tokens: 0, rotations: 0 };

describe("code exchange × D1 fails", () => {
  it.each(["refresh_token_families", "refresh_tokens", "refresh_token_rotations"])(
    "%s unavailable when the refresh token is written → 500; nothing is left, and the same request then succeeds",
    async (table) => {
      const exchange = await offlineCode();
      await withTableAway(table, async () => expectError(await exchange.redeem(), 500, "server_error"));
      expect(await refreshRows(exchange.client.client_id)).toEqual(none);
      await expectRedeemed(exchange);
    },
  );

  it("the consent unreadable (checked before the code is held) → 500; the same request then succeeds", async () => {
    const exchange = await offlineCode();
    await withTableAway("consents", async () => expectError(await exchange.redeem(), 500, "server_error"));
    await expectRedeemed(exchange);
  });
});

describe("code exchange × the ReplayGuard object fails", () => {
  it("when the code is to be held → 500; nothing was issued, and the same request then succeeds", async () => {
    const exchange = await offlineCode();
    await withObjectFailing(await codeObject(exchange.code), "all", async () => expectError(await exchange.redeem(), 500, "server_error"));
    expect(await refreshRows(exchange.client.client_id)).toEqual(none);
    await expectRedeemed(exchange);
  });

  it("when the code is marked used, after the tokens were made → 500; the refresh token is undone, the code released: the retry succeeds at once", async () => {
    const exchange = await offlineCode();
    await withObjectFailing(await codeObject(exchange.code), ["UPDATE"], async () => expectError(await exchange.redeem(), 500, "server_error"));
    expect(await refreshRows(exchange.client.client_id)).toEqual(none);
    await expectRedeemed(exchange);
  });

  it(`when marked used and when released → 500; a retry within the ${LEASE_SECONDS} s lease → code_in_use, after it → success`, async () => {
    const clock = frozenClock();
    const exchange = await offlineCode();
    const object = await codeObject(exchange.code);
    await withObjectFailing(object, ["UPDATE", "DELETE"], async () => expectError(await exchange.redeem(), 500, "server_error"));
    expect(await refreshRows(exchange.client.client_id)).toEqual(none);
    clock.advance(LEASE_SECONDS - 1);
    await expectError(await exchange.redeem(), 400, "invalid_grant", "code_in_use");
    clock.advance(1);
    await expectRedeemed(exchange);
  });
});

describe("code exchange × KV fails", () => {
  it("a reuse while KV refuses to list a token → 500, yet the family's refresh tokens are revoked; after recovery a reuse → code_reused", async () => {
    const exchange = await offlineCode();
    const first = await expectRedeemed(exchange);
    const planted = await plantKvRefusedToken(first.refresh_token!);
    await expectError(await exchange.redeem(), 500, "server_error");
    const family = await familyOf(await storedHash(first.refresh_token!));
    expect(family.every((t) => t.revoked_reason === "code_reuse" && t.revoked_at !== null)).toBe(true);
    expect((await userinfo(first.access_token)).status).toBe(401);
    await planted.remove();
    await expectError(await exchange.redeem(), 400, "invalid_grant", "code_reused");
  });
});
