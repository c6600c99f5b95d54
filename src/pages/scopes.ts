/**
 * What each scope means to the person asked to consent, in their words rather than the protocol's.
 * The OIDC scopes are OIDC Core §5.4 and §11; anything else is a permission the client or its API
 * defines, shown by name.
 */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  openid: "Know who you are: your account ID on this server",
  profile: "See your basic profile: name, nickname, picture, website, gender, birthday, time zone and language",
  email: "See your email address and whether it is verified",
  address: "See your postal address",
  phone: "See your phone number and whether it is verified",
  offline_access: "Keep this access when you are not using the app, until you withdraw it",
};

export interface ScopeDescription {
  name: string;
  description: string;
}

export function describeScope(name: string): ScopeDescription {
  const known = Object.hasOwn(DESCRIPTIONS, name) ? DESCRIPTIONS[name] : undefined;
  return { name, description: known ?? `Use the “${name}” permission the app asked for` };
}

/** A space-separated `scope` value (or a list) → one description per scope, in request order, no repeats. */
export function describeScopes(scopes: string | readonly string[]): ScopeDescription[] {
  const names = typeof scopes === "string" ? scopes.split(" ") : scopes;
  return [...new Set(names.filter((s) => s !== ""))].map(describeScope);
}

/** Claims asked for one by one (OIDC Core §5.5, §5.1), in the person's words. */
const CLAIM_WORDS: Readonly<Record<string, string>> = {
  name: "name", given_name: "given name", family_name: "family name", middle_name: "middle name", nickname: "nickname",
  preferred_username: "preferred user name", profile: "profile page", picture: "picture", website: "website", gender: "gender",
  birthdate: "birthday", zoneinfo: "time zone", locale: "language", updated_at: "when your profile was last updated",
  email: "email address", email_verified: "whether your email address is verified", address: "postal address",
  phone_number: "phone number", phone_number_verified: "whether your phone number is verified",
};

/** Claim names → one description each ("See your …"), the claim's name beneath, like a scope's. */
export const describeClaims = (names: readonly string[]): ScopeDescription[] =>
  names.map((name) => ({ name, description: `See your ${Object.hasOwn(CLAIM_WORDS, name) ? CLAIM_WORDS[name] : name}` }));
