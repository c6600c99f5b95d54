import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1SessionStore } from "../src/sessions/store";
import { verifyPassword } from "../src/users/password";
import { d1UserStore } from "../src/users/store";
import { call, expectError, nowSeconds, uniqueId } from "./helpers";
import { offlineTokens, refresh, refreshClient } from "./rfc6749-6-helpers";

const operator = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const post = (body: unknown, headers: Record<string, string> = operator) =>
  call("/admin/users", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
const patch = (id: string, body: unknown) => call(`/admin/users/${encodeURIComponent(id)}`, { method: "PATCH", headers: operator, body: JSON.stringify(body) });
const get = (path: string, headers: Record<string, string> = operator) => call(path, { headers });
const email = () => `${uniqueId("admin-user")}@example.com`;

async function created(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await post(body);
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

describe("operator API for users: /admin/users (issue 3)", () => {
  it("requires the operator token", async () => {
    await expectError(await post({ email: email() }, { "content-type": "application/json" }), 401, "invalid_token");
    await expectError(await get("/admin/users?email=x@example.com", { authorization: "Bearer wrong" }), 401, "invalid_token");
  });

  it("POST creates a user: 201 with the user, never the password hash", async () => {
    const address = email();
    const res = await post({ email: address, password: "correct horse battery", claims: { name: "Ada" }, email_verified: true });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      email: address,
      email_verified: true,
      has_password: true,
      claims: { name: "Ada" },
      disabled: false,
      created_at: expect.any(Number),
      updated_at: expect.any(Number),
    });
    expect(JSON.stringify(body)).not.toContain("pbkdf2");
    const stored = await d1UserStore(env.DB).get(body.id as string);
    expect(await verifyPassword("correct horse battery", stored?.passwordHash)).toBe(true);
  });

  it("POST without a password creates a user who has none; email_verified defaults to false", async () => {
    expect(await created({ email: email() })).toMatchObject({ has_password: false, email_verified: false, claims: {} });
  });

  it("POST refuses a taken email (case-insensitively), an invalid email, a weak password, bad claims and unknown members", async () => {
    const address = email();
    await created({ email: address });
    await expectError(await post({ email: address.toUpperCase() }), 400, "invalid_request", "email_taken");
    await expectError(await post({ email: "nope" }), 400, "invalid_request", "invalid_email");
    await expectError(await post({}), 400, "invalid_request", "invalid_request");
    await expectError(await post({ email: email(), password: "short" }), 400, "invalid_request", "password_policy");
    await expectError(await post({ email: email(), password: 12345678 }), 400, "invalid_request", "invalid_request");
    await expectError(await post({ email: email(), claims: { sub: "me" } }), 400, "invalid_request", "invalid_request");
    await expectError(await post({ email: email(), email_verified: "yes" }), 400, "invalid_request", "invalid_request");
    const unknown = await expectError(await post({ email: email(), admin: true }), 400, "invalid_request", "invalid_request");
    expect(unknown.error_description).toMatch(/Unknown member admin/);
    await expectError(await post("not json"), 400, "invalid_request", "invalid_request");
    await expectError(await post([]), 400, "invalid_request", "invalid_request");
  });

  it("GET /:id answers the user; an unknown id is not_found", async () => {
    const user = await created({ email: email() });
    const res = await get(`/admin/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(user);
    await expectError(await get("/admin/users/no-such-user"), 404, "invalid_request", "not_found");
  });

  it("GET /?email= looks a user up case-insensitively; unknown is not_found; an empty email is invalid_request", async () => {
    const address = email();
    const user = await created({ email: address });
    const res = await get(`/admin/users?email=${encodeURIComponent(address.toUpperCase())}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(user);
    await expectError(await get(`/admin/users?email=${encodeURIComponent(email())}`), 404, "invalid_request", "not_found");
    await expectError(await get("/admin/users?email="), 400, "invalid_request", "invalid_request");
  });

  it("PATCH changes email_verified, disabled and claims; 200 with the user", async () => {
    const user = await created({ email: email(), claims: { name: "Before" } });
    const res = await patch(user.id as string, { email_verified: true, disabled: true, claims: { name: "After", locale: "en" } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, email_verified: true, disabled: true, claims: { name: "After", locale: "en" } });
    expect(await (await patch(user.id as string, { disabled: false })).json()).toMatchObject({ disabled: false, email_verified: true });
  });

  it("PATCH password sets a new password (policy applies) and ends the user's sessions; null removes it", async () => {
    const user = await created({ email: email(), password: "first password" });
    const sessions = d1SessionStore(env.DB, { ttl: 3600 });
    const { cookieValue } = await sessions.create({ userId: user.id as string, authTime: nowSeconds(), amr: ["pwd"] }, nowSeconds());
    await expectError(await patch(user.id as string, { password: "short" }), 400, "invalid_request", "password_policy");
    expect(await sessions.get(cookieValue, nowSeconds())).not.toBeNull();
    expect((await patch(user.id as string, { password: "second password" })).status).toBe(200);
    const stored = await d1UserStore(env.DB).get(user.id as string);
    expect(await verifyPassword("second password", stored?.passwordHash)).toBe(true);
    expect(await verifyPassword("first password", stored?.passwordHash)).toBe(false);
    expect(await sessions.get(cookieValue, nowSeconds())).toBeNull();
    expect(await (await patch(user.id as string, { password: null })).json()).toMatchObject({ has_password: false });
  });

  it("ASVS 5.0 V6.3.6 / V7.4.3: an operator's password change also revokes the person's refresh tokens and closes open reset links", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    const now = nowSeconds();
    await env.DB.prepare("INSERT INTO password_resets (token_hash, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
      .bind(uniqueId("reset-hash"), user.id, user.email, now, now + 1800).run();
    expect((await patch(user.id, { password: "an operator-chosen password" })).status).toBe(200);
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant");
    const open = await env.DB.prepare("SELECT COUNT(*) AS n FROM password_resets WHERE user_id = ? AND used_at IS NULL").bind(user.id).first<{ n: number }>();
    expect(open?.n).toBe(0);
  });

  it("PATCH disabled=true ends the user's sessions", async () => {
    const user = await created({ email: email() });
    const sessions = d1SessionStore(env.DB, { ttl: 3600 });
    const { cookieValue } = await sessions.create({ userId: user.id as string, authTime: nowSeconds(), amr: ["pwd"] }, nowSeconds());
    await patch(user.id as string, { disabled: true });
    expect(await sessions.get(cookieValue, nowSeconds())).toBeNull();
  });

  it("PATCH refuses unknown members (email cannot be changed here), bad types, and unknown users", async () => {
    const user = await created({ email: email() });
    await expectError(await patch(user.id as string, { email: email() }), 400, "invalid_request", "invalid_request");
    await expectError(await patch(user.id as string, { disabled: "true" }), 400, "invalid_request", "invalid_request");
    await expectError(await patch(user.id as string, { claims: "x" }), 400, "invalid_request", "invalid_request");
    await expectError(await patch("no-such-user", { disabled: true }), 404, "invalid_request", "not_found");
  });
});
