import { Hono } from "hono";
import { ensure } from "../errors/oauth-error";
import { grantedClients } from "../consent/grants";
import type { Consent } from "../consent/store";
import { NO_STORE, type AppContext, type AppEnv } from "../http/context";
import { endAllSessions, signOutEverywhere } from "../logout/end-session";
import { consentStore, database, uncachedClientStore, userStore } from "../services";
import type { User } from "../users/model";
import { hashPassword } from "../users/password";
import { closeResetLinks } from "../users/password-reset";
import { createUser, d1UserStore, validClaims } from "../users/store";
import { jsonObject, optionalBoolean, pageParams } from "./admin-input";

/**
 * The operator API for people, mounted at /admin/users behind `requireOperator`:
 *
 *   POST   /            { email, password?, claims?, email_verified? }  → 201 user
 *   GET    /            ?limit=&after=  every user, by email            → 200 { users: [...], next }
 *   GET    /?email=…    look a user up by email (case-insensitively)    → 200 user | 404
 *   GET    /:id                                                          → 200 user | 404
 *   PATCH  /:id         { email_verified?, disabled?, claims?, password? (null removes it) } → 200 user
 *   GET    /:id/grants  what the person granted: one entry per client   → 200 { grants: [...] }
 *   DELETE /:id/grants/:client_id  withdraw that grant                   → 204 | 404
 *
 * A user is answered in snake_case JSON; the password hash never leaves the server (has_password
 * says whether there is one). Changing the password or disabling the user ends their sessions, and
 * the clients signed in through them are told over the back channel (src/logout/end-session.ts);
 * a new password also revokes their refresh tokens and closes their open reset links, as a reset does.
 *
 * Withdrawing a grant deletes the consent and revokes its refresh tokens (ConsentStore.withdraw);
 * its access tokens then fail at UserInfo (their `gid` names no consent any more) and stay valid
 * only at resource servers that verify them locally, until they expire.
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

async function loadUser(c: AppContext): Promise<User> {
  const user = await userStore(c).get(c.req.param("id") ?? "");
  ensure(user !== null, "not_found", "No such user.");
  return user;
}

export const adminUsers = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonObject(c, ["email", "password", "claims", "email_verified"]);
    ensure(typeof body.email === "string", "invalid_request", "email is required and must be a string.");
    ensure(body.password === undefined || typeof body.password === "string", "invalid_request", "password must be a string.");
    const user = await createUser(
      { users: userStore(c), now: c.get("now") },
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
    if (email === undefined) {
      const page = await listUsers(database(c), pageParams(c));
      return c.json({ users: page.users.map(userJson), next: page.next }, 200, NO_STORE);
    }
    ensure(email.trim() !== "", "invalid_request", "Query parameter email must not be empty.");
    const user = await userStore(c).getByEmail(email);
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
    const users = userStore(c);
    await users.update(user.id, { emailVerified, disabled, claims, passwordHash }, c.get("now"));
    if (passwordHash !== undefined) {
      // A new credential: as after a reset, the person is signed out everywhere (sessions with
      // back-channel logout, refresh tokens) and the reset links mailed under the old one close.
      await signOutEverywhere(c, user.id);
      await closeResetLinks(database(c), user.id, c.get("now"));
    } else if (disabled === true) {
      // Refresh tokens of a disabled person are refused at every use (the grant checks the person).
      await endAllSessions(c, user.id);
    }
    return c.json(userJson((await users.get(user.id))!), 200, NO_STORE);
  })
  .get("/:id/grants", async (c) => {
    const user = await loadUser(c);
    const granted = await grantedClients(user.id, { consents: consentStore(c), clients: uncachedClientStore(c) });
    const grants = granted.map(({ consent, client }) => grantJson(consent, client?.clientName ?? null));
    return c.json({ grants }, 200, NO_STORE);
  })
  .delete("/:id/grants/:client_id", async (c) => {
    const user = await loadUser(c);
    const withdrawn = await consentStore(c).withdraw(user.id, c.req.param("client_id"), c.get("now"));
    ensure(withdrawn !== null, "not_found", "This user has no grant for this client.");
    return c.body(null, 204, NO_STORE);
  });

/** A grant as the operator sees it: the client, the scopes and resources (RFC 8707), when it was first given and last widened. */
function grantJson(consent: Consent, clientName: string | null) {
  return {
    client_id: consent.clientId,
    client_name: clientName,
    scope: consent.scope.join(" "),
    resources: consent.resources,
    created_at: consent.createdAt,
    updated_at: consent.updatedAt,
  };
}

/** One page of users in email order (case-insensitive); `after` is the last email of the previous page. */
async function listUsers(db: D1Database, page: { limit: number; after?: string }): Promise<{ users: User[]; next: string | null }> {
  const { results } = await db
    .prepare("SELECT id, email FROM users WHERE email > ? ORDER BY email LIMIT ?")
    .bind(page.after ?? "", page.limit + 1)
    .all<{ id: string; email: string }>();
  const rows = results.slice(0, page.limit);
  const store = d1UserStore(db);
  const users = (await Promise.all(rows.map((row) => store.get(row.id)))).filter((u): u is User => u !== null);
  return { users, next: results.length > page.limit ? rows.at(-1)!.email : null };
}
