import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { OAuthError } from "../src/errors/oauth-error";
import { verifyPassword } from "../src/users/password";
import { createUser, d1UserStore, normalizeEmail, validClaims } from "../src/users/store";
import { nowSeconds, uniqueId } from "./helpers";

const users = () => d1UserStore(env.DB);
const deps = () => ({ users: users(), now: nowSeconds() });
const email = (local = uniqueId("user")) => `${local}@example.com`;

async function code(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OAuthError);
  return (err as OAuthError).code;
}

describe("users: creation (issue 3; OIDC Core 5.1, 5.7 sub is stable and never reassigned)", () => {
  it("createUser stores a user with a random 128-bit id, the hashed password and claims; get and getByEmail find it", async () => {
    const address = email();
    const user = await createUser(deps(), { email: ` ${address} `, password: "correct horse battery", claims: { name: "Ada Lovelace" } });
    expect(user.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(user.email).toBe(address);
    expect(user.emailVerified).toBe(false);
    expect(user.disabled).toBe(false);
    expect(user.passwordHash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(await verifyPassword("correct horse battery", user.passwordHash)).toBe(true);
    expect(await users().get(user.id)).toEqual(user);
    expect(await users().getByEmail(address)).toEqual(user);
  });

  it("a user may be created without a password, and already verified", async () => {
    const user = await createUser(deps(), { email: email(), emailVerified: true });
    expect(user.passwordHash).toBeNull();
    expect((await users().get(user.id))?.emailVerified).toBe(true);
  });

  it("email uniqueness is case-insensitive: a second user with the address in other case is refused (email_taken)", async () => {
    const local = uniqueId("Taken");
    const first = await createUser(deps(), { email: `${local}@Example.com` });
    expect(first.email).toBe(`${local}@example.com`);
    expect(await code(createUser(deps(), { email: `${local.toUpperCase()}@EXAMPLE.COM` }))).toBe("email_taken");
    expect(await code(createUser(deps(), { email: `${local.toLowerCase()}@example.com` }))).toBe("email_taken");
    expect((await users().getByEmail(`${local.toLowerCase()}@EXAMPLE.com`))?.id).toBe(first.id);
  });

  it("of concurrent creations with one address, exactly one succeeds", async () => {
    const address = email();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => createUser(deps(), { email: address })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("invalid email addresses are refused (invalid_email)", async () => {
    for (const bad of ["", "plain", "@example.com", "a@", "a@b", "a b@example.com", "a@exa mple.com", "a@-x.com", ".a@example.com", "a..b@example.com", `${"x".repeat(65)}@example.com`, "a@[127.0.0.1]"]) {
      expect(normalizeEmail(bad), bad).toBeUndefined();
    }
    expect(normalizeEmail("  Ada.Lovelace+tag@Example.CO.uk ")).toBe("Ada.Lovelace+tag@example.co.uk");
    expect(normalizeEmail("josé@bücher.de")).toBe("josé@bücher.de");
    expect(await code(createUser(deps(), { email: "not-an-email" }))).toBe("invalid_email");
  });

  it("the password policy applies on creation (password_policy)", async () => {
    expect(await code(createUser(deps(), { email: email(), password: "short" }))).toBe("password_policy");
  });

  it("claims: OIDC Core 5.1 standard claims only, with their types", () => {
    expect(validClaims({ name: "Ada", phone_number_verified: true, address: { country: "UK" }, nickname: null })).toEqual({
      name: "Ada",
      phone_number_verified: true,
      address: { country: "UK" },
    });
    expect(() => validClaims({ sub: "x" })).toThrow(/not a supported claim/);
    expect(() => validClaims({ email: "x@example.com" })).toThrow(/not a supported claim/);
    expect(() => validClaims({ name: 5 })).toThrow(/name claim must be a string/);
    expect(() => validClaims({ address: { planet: "Mars" } })).toThrow(/unknown member planet/);
    expect(() => validClaims([])).toThrow(/JSON object/);
  });
});

describe("users: updates (issue 3)", () => {
  it("update changes only the given fields and updated_at", async () => {
    const user = await createUser({ users: users(), now: 1000 }, { email: email(), claims: { name: "Before" } });
    await users().update(user.id, { emailVerified: true }, 2000);
    let stored = await users().get(user.id);
    expect(stored).toEqual({ ...user, emailVerified: true, updatedAt: 2000 });
    await users().update(user.id, { disabled: true, claims: { name: "After" }, passwordHash: "pbkdf2-sha256$1$x$y" }, 3000);
    stored = await users().get(user.id);
    expect(stored).toEqual({ ...user, emailVerified: true, disabled: true, claims: { name: "After" }, passwordHash: "pbkdf2-sha256$1$x$y", updatedAt: 3000 });
    await users().update(user.id, { passwordHash: null }, 4000);
    expect((await users().get(user.id))?.passwordHash).toBeNull();
  });

  it("unknown ids and emails are null", async () => {
    expect(await users().get("no-such-user")).toBeNull();
    expect(await users().getByEmail(email())).toBeNull();
  });
});
