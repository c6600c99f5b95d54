import { describe, expect, it } from "vitest";
import { expectError } from "./helpers";
import { expectInactive, familyOf, offlineTokens, refresh, refreshClient, refreshed, revoke, storedHash, userinfo } from "./rfc6749-6-helpers";
import { plantKvRefusedToken, withD1Refusing, withTableAway } from "./storage-faults-helpers";

/**
 * RFC 7009 §2.1 — revoking a refresh token when a store fails (docs/storage.md "When a store
 * fails"). The family's access tokens are put on the KV list before D1 marks the family revoked,
 * and a KV failure does not spare the refresh tokens; either way the client sees server_error and
 * its retry completes the revocation (src/tokens/refresh-token.ts revokeFamily).
 */

/** A family with two refresh tokens and two live access tokens. */
async function family() {
  const client = await refreshClient();
  const { tokens } = await offlineTokens(client);
  const next = await refreshed(client, tokens.refresh_token);
  return { client, accessTokens: [tokens.access_token, next.access_token], refreshToken: next.refresh_token, first: tokens.refresh_token };
}

const familyRevoked = async (refreshToken: string) =>
  (await familyOf(await storedHash(refreshToken))).every((t) => t.family_revoked_at !== null && t.revoked_at !== null);

async function expectRevokedForGood(f: Awaited<ReturnType<typeof family>>) {
  const res = await revoke(f.client, f.refreshToken);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({});
  expect(await familyRevoked(f.refreshToken)).toBe(true);
  await expectError(await refresh(f.client, f.refreshToken), 400, "invalid_grant", "refresh_token_revoked");
  for (const at of f.accessTokens) {
    expect((await userinfo(at)).status).toBe(401);
    await expectInactive(f.client, at);
  }
}

describe("revocation × D1 fails", () => {
  it("the token unreadable → 500 and nothing changed; the retry revokes", async () => {
    const f = await family();
    await withTableAway("refresh_token_rotations", async () => expectError(await revoke(f.client, f.refreshToken), 500, "server_error"));
    expect(await familyRevoked(f.refreshToken)).toBe(false);
    for (const at of f.accessTokens) expect((await userinfo(at)).status).toBe(200);
    await expectRevokedForGood(f);
  });

  it("the revoked mark refused → 500, with the access tokens already listed (the safer half); the retry completes", async () => {
    const f = await family();
    await withD1Refusing("refresh_token_families", "UPDATE", async () => expectError(await revoke(f.client, f.refreshToken), 500, "server_error"));
    expect(await familyRevoked(f.refreshToken)).toBe(false);
    for (const at of f.accessTokens) expect((await userinfo(at)).status).toBe(401);
    await expectRevokedForGood(f);
  });
});

describe("revocation × KV fails", () => {
  it("a KV write refused → 500; the refresh tokens are revoked all the same, the other access tokens listed; the retry answers 200", async () => {
    const f = await family();
    const planted = await plantKvRefusedToken(f.refreshToken);
    await expectError(await revoke(f.client, f.refreshToken), 500, "server_error");
    expect(await familyRevoked(f.refreshToken)).toBe(true);
    for (const at of f.accessTokens) expect((await userinfo(at)).status).toBe(401);
    await planted.remove();
    await expectRevokedForGood(f);
  });
});
