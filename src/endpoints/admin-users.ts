import { Hono } from "hono";
import { OAuthError, ensure } from "../errors/oauth-error";
import { NO_STORE, type AppContext, type AppEnv } from "../http/context";
import { d1SessionStore } from "../sessions/store";
import type { User } from "../users/model";
import { hashPassword } from "../users/password";
import { createUser, d1UserStore, validClaims } from "../users/store";

/**
 * The operator API for people, mounted at /admin/users behind `requireOperator`:
 *
 *   POST  /            { email, password?, claims?, email_verified? }  → 201 user
 *   GET   /?email=…    look a user up by email (case-insensitively)    → 200 user | 404
 *   GET   /:id                                                          → 200 user | 404
 *   PATCH /:id         { email_verified?, disabled?, claims?, password? (null removes it) } → 200 user
 *
 * A user is answered in snake_case JSON; the password hash never leaves the server (has_password
 * says whether there is one). Changing the password or disabling the user ends their sessions.
 */
export function userJson(u: User) {
  return {
    id: u.id,
    email: u.email,
    email_verified: u.emailVerified,
    has_password: u.passwordHash !== null,
    claims: u.claims,
    disabled: u.disabled,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}

async function jsonObject(c: AppContext, allowed: readonly string[]): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new OAuthError("invalid_request", "The body must be a JSON object.");
  }
  ensure(body !== null && typeof body === "object" && !Array.isArray(body), "invalid_request", "The body must be a JSON object.");
  for (const name of Object.keys(body)) {
    ensure(allowed.includes(name), "invalid_request", `Unknown member ${name}; expected one of ${allowed.join(", ")}.`);
  }
  return body as Record<string, unknown>;
}

function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  ensure(value === undefined || typeof value === "boolean", "invalid_request", `${name} must be true or false.`);
  return value;
}

async function loadUser(c: AppContext): Promise<User> {
  const user = await d1UserStore(c.env.DB).get(c.req.param("id") ?? "");
  ensure(user !== null, "not_found", "No such user.");
  return user;
}

export const adminUsers = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonObject(c, ["email", "password", "claims", "email_verified"]);
    ensure(typeof body.email === "string", "invalid_request", "email is required and must be a string.");
    ensure(body.password === undefined || typeof body.password === "string", "invalid_request", "password must be a string.");
    const user = await createUser(
      { users: d1UserStore(c.env.DB), now: c.var.now },
      {
        email: body.email,
        ...(body.password !== undefined && { password: body.password as string }),
        ...(body.claims !== undefined && { claims: validClaims(body.claims) }),
        emailVerified: optionalBoolean(body, "email_verified") ?? false,
      },
    );
    return c.json(userJson(user), 201, NO_STORE);
  })
  .get("/", async (c) => {
    const email = c.req.query("email");
    ensure(email !== undefined && email.trim() !== "", "invalid_request", "Query parameter email is required.");
    const user = await d1UserStore(c.env.DB).getByEmail(email);
    ensure(user !== null, "not_found", "No user with this email address.");
    return c.json(userJson(user), 200, NO_STORE);
  })
  .get("/:id", async (c) => c.json(userJson(await loadUser(c)), 200, NO_STORE))
  .patch("/:id", async (c) => {
    const body = await jsonObject(c, ["email_verified", "disabled", "claims", "password"]);
    const user = await loadUser(c);
    const emailVerified = optionalBoolean(body, "email_verified");
    const disabled = optionalBoolean(body, "disabled");
    const claims = body.claims === undefined ? undefined : validClaims(body.claims);
    ensure(body.password === undefined || body.password === null || typeof body.password === "string", "invalid_request", "password must be a string, or null to remove it.");
    const passwordHash = typeof body.password === "string" ? await hashPassword(body.password) : body.password === null ? null : undefined;
    const users = d1UserStore(c.env.DB);
    await users.update(user.id, { emailVerified, disabled, claims, passwordHash }, c.var.now);
    if (passwordHash !== undefined || disabled === true) {
      await d1SessionStore(c.env.DB, { ttl: c.var.config.sessionTtl }).endAllForUser(user.id, c.var.now);
    }
    return c.json(userJson((await users.get(user.id))!), 200, NO_STORE);
  });
