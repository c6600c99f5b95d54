import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { locateKey } from "../src/replay/replay-cache";
import { JWT_BEARER, assertion, expectError, keyPair, tokenRequest } from "./helpers";
import { Browser, authorize, clientRedirect, codeRequest, expectTokenResponse, person } from "./oidc-helpers";
import {
  familyOf, offlineTokens, refresh, refreshClient, refreshed, setClientMetadata, storedHash, userinfo,
} from "./rfc6749-6-helpers";
import { plantKvRefusedToken, withD1Refusing, withObjectFailing, withTableAway } from "./storage-faults-helpers";

/**
 * RFC 6749 §6 / RFC 9700 §4.14.2 — the refresh rotation when a store fails (docs/storage.md "When
 * a store fails"). The rotation is one D1 batch (a transaction), so a failure leaves the presented
 * token unrotated and the retry rotates it; the reuse path's revocation lists access tokens in KV
 * and marks the family in D1 as revokeFamily orders them.
 */

const notRotated = async (refreshToken: string) => (await familyOf(await storedHash(refreshToken))).every((t) => t.rotated_at === null);

describe("refresh rotation × D1 fails", () => {
  it.each(["refresh_tokens", "refresh_token_rotations", "refresh_token_families"])(
    "%s unavailable → 500; the token is as before, and the same request then rotates it",
    async (table) => {
      const client = await refreshClient();
      const { tokens } = await offlineTokens(client);
      await withTableAway(table, async () => expectError(await refresh(client, tokens.refresh_token), 500, "server_error"));
      expect(await notRotated(tokens.refresh_token)).toBe(true);
      await refreshed(client, await (await refreshed(client, tokens.refresh_token)).refresh_token);
    },
  );

  it("the rotation's write refused after its mark (the successor's insert) → 500; the batch left nothing, and the retry rotates", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await withD1Refusing("refresh_tokens", "INSERT", async () => expectError(await refresh(client, tokens.refresh_token), 500, "server_error"));
    expect(await familyOf(await storedHash(tokens.refresh_token))).toHaveLength(1);
    expect(await notRotated(tokens.refresh_token)).toBe(true);
    const next = await refreshed(client, tokens.refresh_token);
    await refreshed(client, next.refresh_token);
  });
});

describe("refresh rotation × the ReplayGuard object fails", () => {
  it("a private_key_jwt client's assertion cannot be reserved → 500; the token is as before, and the same request then rotates it", async () => {
    const key = await keyPair("ES256", crypto.randomUUID());
    const client = await refreshClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] } });
    const authenticated = async (form: Record<string, string>) =>
      ({ ...form, client_assertion_type: JWT_BEARER, client_assertion: await assertion(client.client_id, key.privateKey) });
    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid offline_access", prompt: "consent" });
    const code = clientRedirect((await authorize(new Browser(), params, await person())).response).get("code")!;
    const tokens = await expectTokenResponse(await tokenRequest(await authenticated({
      grant_type: "authorization_code", code, redirect_uri: params.redirect_uri!, code_verifier: verifier,
    })));
    const request = await authenticated({ grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    const { stub } = await locateKey(env.REPLAY_GUARD, { name: `client_assertion:${client.client_id}`, shardHexDigits: 0 }, "any");
    await withObjectFailing(stub, "all", async () => expectError(await tokenRequest(request), 500, "server_error"));
    expect(await notRotated(tokens.refresh_token!)).toBe(true);
    await expectTokenResponse(await tokenRequest(request));
  });
});

describe("refresh rotation × KV fails", () => {
  it("a reuse while KV refuses a listing → 500; the family is revoked all the same, the other access tokens listed", async () => {
    const client = await refreshClient();
    await setClientMetadata(client.client_id, { refresh_token_reuse_grace: 0 });
    const { tokens } = await offlineTokens(client);
    const next = await refreshed(client, tokens.refresh_token);
    const planted = await plantKvRefusedToken(next.refresh_token);
    await expectError(await refresh(client, tokens.refresh_token), 500, "server_error");
    expect((await familyOf(await storedHash(next.refresh_token))).every((t) => t.revoked_reason === "reuse" && t.revoked_at !== null)).toBe(true);
    for (const at of [tokens.access_token, next.access_token]) expect((await userinfo(at)).status).toBe(401);
    await planted.remove();
    await expectError(await refresh(client, next.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
  });
});
