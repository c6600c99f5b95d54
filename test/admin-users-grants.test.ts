import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, uniqueId } from "./helpers";
import { Browser, oidcClient, person, signIn } from "./oidc-helpers";

/**
 * The operator API for people beyond issue 3's create/show/change (test/users-admin-api.test.ts):
 * the list of users, and a person's grants — listed (client, scopes, dates) and withdrawn (issue 4,
 * "operator equivalents": the consent goes, the grant's refresh tokens are revoked, its access
 * tokens fail at UserInfo because their gid no longer names a consent).
 */
const operator = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const send = (method: string, path: string) => call(path, { method, headers: operator });
const json = async (res: Response, status = 200) => {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as Record<string, any>;
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const liveRefreshTokens = async (clientId: string, userId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ? AND user_id = ? AND revoked_at IS NULL").bind(clientId, userId).first<{ n: number }>())?.n;

describe("GET /admin/users: every user, by email, a page at a time", () => {
  it("walks all users across pages in case-insensitive email order; the password hash never appears", async () => {
    const prefix = uniqueId("people");
    for (const local of ["Carol", "alice", "Bob"]) await person({ email: `${prefix}-${local}@example.com` });
    const seen: { email: string }[] = [];
    let after: string | null = null;
    do {
      const page = await json(await send("GET", `/admin/users?limit=2${after ? `&after=${encodeURIComponent(after)}` : ""}`));
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users);
      after = page.next;
    } while (after !== null);
    const mine = seen.filter((u) => u.email.startsWith(prefix)).map((u) => u.email.slice(prefix.length + 1));
    expect(mine).toEqual(["alice@example.com", "Bob@example.com", "Carol@example.com"]);
    expect(seen[0]).toEqual({
      id: expect.any(String), email: expect.any(String), email_verified: expect.any(Boolean), has_password: expect.any(Boolean),
      claims: expect.any(Object), disabled: expect.any(Boolean), created_at: expect.any(Number), updated_at: expect.any(Number),
    });
    expect(JSON.stringify(seen)).not.toContain("pbkdf2");
  });

  it("refuses a bad limit", async () => {
    for (const query of ["limit=0", "limit=500", "limit=x"]) await expectError(await send("GET", `/admin/users?${query}`), 400, "invalid_request");
  });
});

describe("a person's grants: GET /admin/users/:id/grants and DELETE /admin/users/:id/grants/:client_id", () => {
  it("lists one grant per client with its name, scopes and dates; an unknown user → 404", async () => {
    const user = await person();
    expect(await json(await send("GET", `/admin/users/${user.id}/grants`))).toEqual({ grants: [] });
    const a = await oidcClient({ client_name: "App A" });
    const b = await oidcClient({ client_name: "App B", scope: "openid profile" });
    const browser = new Browser();
    await signIn(browser, a, user);
    await signIn(browser, b, user, { scope: "openid profile" });
    const { grants } = await json(await send("GET", `/admin/users/${user.id}/grants`));
    expect(grants).toEqual([
      { client_id: a.client_id, client_name: "App A", scope: "openid", resources: [], created_at: expect.any(Number), updated_at: expect.any(Number) },
      { client_id: b.client_id, client_name: "App B", scope: "openid profile", resources: [], created_at: expect.any(Number), updated_at: expect.any(Number) },
    ]);
    await expectError(await send("GET", "/admin/users/no-such-user/grants"), 404, "invalid_request", "not_found");
  });

  it("withdrawing one grant: 204; its refresh tokens are revoked and its access token fails at UserInfo; the other grant is untouched", async () => {
    const user = await person();
    const a = await oidcClient({ scope: "openid offline_access" });
    const b = await oidcClient({ scope: "openid offline_access" });
    const browser = new Browser();
    const extra = { scope: "openid offline_access", prompt: "consent" };
    const fromA = (await signIn(browser, a, user, extra)).tokens;
    const fromB = (await signIn(browser, b, user, extra)).tokens;
    expect([await liveRefreshTokens(a.client_id, user.id), await liveRefreshTokens(b.client_id, user.id)]).toEqual([1, 1]);

    const res = await send("DELETE", `/admin/users/${user.id}/grants/${a.client_id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");

    expect((await json(await send("GET", `/admin/users/${user.id}/grants`))).grants.map((g: { client_id: string }) => g.client_id)).toEqual([b.client_id]);
    expect([await liveRefreshTokens(a.client_id, user.id), await liveRefreshTokens(b.client_id, user.id)]).toEqual([0, 1]);
    const families = await env.DB.prepare("SELECT client_id, revoked_reason FROM refresh_token_families WHERE user_id = ? ORDER BY client_id = ? DESC")
      .bind(user.id, a.client_id).all<{ client_id: string; revoked_reason: string | null }>();
    expect(families.results).toEqual([{ client_id: a.client_id, revoked_reason: "revocation" }, { client_id: b.client_id, revoked_reason: null }]);
    const refused = await call("/userinfo", { headers: bearer(fromA.access_token) });
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
    await expectError(refused, 401, "invalid_token", "token_consent_revoked");
    expect((await call("/userinfo", { headers: bearer(fromB.access_token) })).status).toBe(200);

    // The next authorization asks for consent again.
    const again = await signIn(browser, a, user);
    expect(again.flow.pages).toEqual(["consent"]);
  });

  it("no grant for that client, or an unknown user → 404 not_found", async () => {
    const user = await person();
    const client = await oidcClient();
    await expectError(await send("DELETE", `/admin/users/${user.id}/grants/${client.client_id}`), 404, "invalid_request", "not_found");
    await expectError(await send("DELETE", `/admin/users/no-such-user/grants/${client.client_id}`), 404, "invalid_request", "not_found");
  });
});
