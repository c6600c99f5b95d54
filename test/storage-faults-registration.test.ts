import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectError } from "./helpers";
import { GATED, initialAccessToken, manage, register, registered, webClient } from "./rfc7591-helpers";
import { withD1Refusing, withTableAway } from "./storage-faults-helpers";

/**
 * RFC 7591 §3 / RFC 7592 §2.2 — registration when D1 fails at each step (docs/storage.md "When a
 * store fails"). A single-use initial access token is a single-use value like a code: a
 * registration that fails must not spend it. The registrant sees server_error; after recovery its
 * retry with the same token succeeds, and the failed attempt left no client behind.
 */

const clientCount = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM clients").first<{ n: number }>())!.n;

describe("registration × D1 fails", () => {
  it.each([
    ["clients unavailable when the client is stored", () => withTableAway.bind(null, "clients")],
    ["registration_tokens unavailable when its token is stored", () => withTableAway.bind(null, "registration_tokens")],
    ["the initial access token's use refused when it is counted", () => withD1Refusing.bind(null, "initial_access_tokens", "UPDATE")],
  ] as const)("%s → 500; no client is left, the single-use token is not spent, and the retry registers", async (_name, fault) => {
    const token = await initialAccessToken({ maxUses: 1 });
    const before = await clientCount();
    await fault()(async () => expectError(await register(webClient(), { token, env: GATED }), 500, "server_error"));
    expect(await clientCount()).toBe(before);
    const client = await registered(webClient(), { token, env: GATED });
    expect(await clientCount()).toBe(before + 1);
    expect(client.client_id).toBeTruthy();
    // The one use is spent now.
    await expectError(await register(webClient(), { token, env: GATED }), 401, "invalid_token", "initial_access_token_used_up");
  });

  it("RFC 7592 §2.2: an update whose write fails → 500; the registration and its secret are as before", async () => {
    const client = await registered(webClient());
    await withD1Refusing("clients", "INSERT", async () => {
      const res = await manage("PUT", client.registration_client_uri, client.registration_access_token, {
        ...webClient({ client_name: "Renamed" }), client_id: client.client_id, rotate_client_secret: true,
      });
      await expectError(res, 500, "server_error");
    });
    const read = (await (await manage("GET", client.registration_client_uri, client.registration_access_token)).json()) as Record<string, unknown>;
    expect(read.client_name).toBe("Dynamic RP");
    const row = await env.DB.prepare("SELECT client_secret_hash FROM clients WHERE client_id = ?").bind(client.client_id).first();
    expect(row).not.toBeNull();
  });
});
