import { randomToken } from "../crypto/encoding";
import { OAuthError, ensure } from "../errors/oauth-error";
import { hashPassword } from "./password";
import type { User, UserClaims, UserStore } from "./model";

export interface UserRow {
  id: string;
  email: string;
  email_verified: number;
  password_hash: string | null;
  claims: string;
  disabled: number;
  created_at: number;
  updated_at: number;
}

export const userFromRow = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  emailVerified: r.email_verified === 1,
  passwordHash: r.password_hash,
  claims: JSON.parse(r.claims) as UserClaims,
  disabled: r.disabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** D1 adapter of the UserStore port. Email lookups and uniqueness are case-insensitive (COLLATE NOCASE). */
export function d1UserStore(db: D1Database): UserStore {
  return {
    async get(id) {
      const row = await db.prepare("SELECT * FROM users WHERE id = ?").bind(id).first<UserRow>();
      return row ? userFromRow(row) : null;
    },
    async getByEmail(email) {
      const row = await db.prepare("SELECT * FROM users WHERE email = ?").bind(email.trim()).first<UserRow>();
      return row ? userFromRow(row) : null;
    },
    async create(u) {
      // One statement: a taken email (or, never in practice, id) writes nothing instead of racing a SELECT.
      const result = await db
        .prepare(
          `INSERT INTO users (id, email, email_verified, password_hash, claims, disabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .bind(u.id, u.email, u.emailVerified ? 1 : 0, u.passwordHash, JSON.stringify(u.claims), u.disabled ? 1 : 0, u.createdAt, u.updatedAt)
        .run();
      return result.meta.changes === 1;
    },
    async update(id, changes, now) {
      const columns: [string, unknown][] = [];
      if (changes.emailVerified !== undefined) columns.push(["email_verified", changes.emailVerified ? 1 : 0]);
      if (changes.passwordHash !== undefined) columns.push(["password_hash", changes.passwordHash]);
      if (changes.claims !== undefined) columns.push(["claims", JSON.stringify(changes.claims)]);
      if (changes.disabled !== undefined) columns.push(["disabled", changes.disabled ? 1 : 0]);
      columns.push(["updated_at", now]);
      await db
        .prepare(`UPDATE users SET ${columns.map(([name]) => `${name} = ?`).join(", ")} WHERE id = ?`)
        .bind(...columns.map(([, value]) => value), id)
        .run();
    },
  };
}

/** RFC 5321 §4.5.3.1: at most 64 octets of local part, 254 for the whole path's address. */
const MAX_EMAIL_LENGTH = 254;
const LOCAL_PART = /^[^\s@"(),:;<>[\\\]]{1,64}$/u;
const DOMAIN_LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;

/**
 * The canonical form of an email address, or undefined when it is not one we accept: trimmed,
 * Unicode NFC, the domain lower-cased (domains are case-insensitive; the local part is kept as
 * typed, and the store compares it case-insensitively). Accepts the common `local@domain.tld`
 * shape only: no quoted local parts, comments or IP-literal domains, which no mail form needs.
 */
export function normalizeEmail(input: unknown): string | undefined {
  if (typeof input !== "string") return undefined;
  const email = input.trim().normalize("NFC");
  if (email.length > MAX_EMAIL_LENGTH) return undefined;
  const at = email.lastIndexOf("@");
  if (at < 1) return undefined;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1).toLowerCase();
  if (!LOCAL_PART.test(local) || local.startsWith(".") || local.endsWith(".") || local.includes("..")) return undefined;
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l))) return undefined;
  return `${local}@${domain}`;
}

const STRING_CLAIMS = [
  "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture",
  "website", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
] as const;
const ADDRESS_MEMBERS = ["formatted", "street_address", "locality", "region", "postal_code", "country"] as const;
const MAX_CLAIM_LENGTH = 1024;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Validates standard claims (OIDC Core §5.1) for storage: only the members of UserClaims, with
 * their types (strings of at most 1024 characters, phone_number_verified a boolean, address an
 * object of strings). sub, email and email_verified are not claims here: they are the user's own
 * fields. Throws invalid_request naming the offending member.
 */
export function validClaims(input: unknown): UserClaims {
  ensure(isObject(input), "invalid_request", "claims must be a JSON object.");
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === null || value === undefined) continue;
    if ((STRING_CLAIMS as readonly string[]).includes(name)) {
      ensure(typeof value === "string" && value.length <= MAX_CLAIM_LENGTH, "invalid_request", `The ${name} claim must be a string of at most ${MAX_CLAIM_LENGTH} characters.`);
      out[name] = value;
    } else if (name === "phone_number_verified") {
      ensure(typeof value === "boolean", "invalid_request", "The phone_number_verified claim must be a boolean.");
      out[name] = value;
    } else if (name === "address") {
      ensure(isObject(value), "invalid_request", "The address claim must be a JSON object.");
      const address: Record<string, string> = {};
      for (const [member, v] of Object.entries(value)) {
        ensure((ADDRESS_MEMBERS as readonly string[]).includes(member), "invalid_request", `The address claim has an unknown member ${member}.`);
        ensure(typeof v === "string" && v.length <= MAX_CLAIM_LENGTH, "invalid_request", `address.${member} must be a string of at most ${MAX_CLAIM_LENGTH} characters.`);
        address[member] = v;
      }
      out[name] = address;
    } else {
      throw new OAuthError("invalid_request", `${name} is not a supported claim (OIDC Core 5.1 standard claims only).`);
    }
  }
  return out as UserClaims;
}

export interface NewUser {
  email: string;
  /** Omitted: the user has no password (yet) and cannot sign in with one. */
  password?: string;
  claims?: UserClaims;
  emailVerified?: boolean;
}

/**
 * Creates a user: normalizes the email, validates the claims, hashes the password (policy
 * enforced), assigns a random id (the OIDC `sub`, 128 bits). Throws `invalid_email`,
 * `password_policy`, `invalid_request` (claims) or `email_taken` (case-insensitively).
 */
export async function createUser(deps: { users: UserStore; now: number }, input: NewUser): Promise<User> {
  const email = normalizeEmail(input.email);
  ensure(email !== undefined, "invalid_email");
  const claims = input.claims === undefined ? {} : validClaims(input.claims);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const user: User = {
    id: randomToken(16),
    email,
    emailVerified: input.emailVerified === true,
    passwordHash,
    claims,
    disabled: false,
    createdAt: deps.now,
    updatedAt: deps.now,
  };
  ensure(await deps.users.create(user), "email_taken");
  return user;
}
