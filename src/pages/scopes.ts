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
