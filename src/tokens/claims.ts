import type { User, UserClaims } from "../users/model";

/**
 * Which standard claims each scope value asks for (OIDC Core §5.4). `sub` is always returned
 * (§5.3.2); everything else only when the scope was granted and the user has a value.
 */
export const SCOPE_CLAIMS = {
  profile: [
    "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile",
    "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
  ],
  email: ["email", "email_verified"],
  address: ["address"],
  phone: ["phone_number", "phone_number_verified"],
} as const;

type StringClaim = Exclude<keyof UserClaims, "address" | "phone_number_verified">;
const ADDRESS_FIELDS = ["formatted", "street_address", "locality", "region", "postal_code", "country"] as const;

/** Every claim about the person this server can release (OIDC Core §5.1): those the scopes stand for. */
export const USER_CLAIM_NAMES: readonly string[] = [...new Set(Object.values(SCOPE_CLAIMS).flat())];

/** The §5.4 claim names a scope stands for. */
export function scopeClaimNames(scope: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const value of scope) {
    if (Object.hasOwn(SCOPE_CLAIMS, value)) for (const name of SCOPE_CLAIMS[value as keyof typeof SCOPE_CLAIMS]) names.add(name);
  }
  return names;
}

/**
 * The user's claims for a granted scope: `sub` plus the §5.4 claims of each scope value, and the
 * claims requested one by one (§5.5 `claims`, consented to with the authorization), omitting any
 * the user lacks.
 */
export function claimsForScope(user: User, scope: readonly string[], requested: readonly string[] = []): Record<string, unknown> {
  const wanted = scopeClaimNames(scope);
  for (const name of requested) wanted.add(name);
  return { sub: user.id, ...claimsNamed(user, wanted) };
}

/** The user's values of the named claims (§5.1), omitting any the user lacks and any name not in USER_CLAIM_NAMES. */
export function claimsNamed(user: User, names: Iterable<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (!USER_CLAIM_NAMES.includes(name)) continue;
    const value = claimValue(user, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** One claim's value, or undefined when the user has none. Stored JSON is checked, never trusted for shape. */
function claimValue(user: User, name: string): unknown {
  switch (name) {
    case "email":
      return nonEmpty(user.email);
    case "email_verified":
      return user.email ? user.emailVerified === true : undefined;
    // §5.1: seconds since the epoch at which the information was last updated.
    case "updated_at":
      return Number.isInteger(user.updatedAt) ? user.updatedAt : undefined;
    case "phone_number_verified":
      return typeof user.claims.phone_number_verified === "boolean" && nonEmpty(user.claims.phone_number) !== undefined
        ? user.claims.phone_number_verified
        : undefined;
    case "address":
      return address(user.claims.address);
    default:
      return nonEmpty(user.claims[name as StringClaim]);
  }
}

const nonEmpty = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

/** §5.1.1 address: a JSON object of the known string members; undefined when none is set. */
function address(value: UserClaims["address"] | undefined): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const out: Record<string, string> = {};
  for (const field of ADDRESS_FIELDS) {
    const part = nonEmpty(value[field]);
    if (part !== undefined) out[field] = part;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
