import { OAuthError, ensure } from "../errors/oauth-error";
import { toErrorText } from "../errors/oauth-error";

/** scope = scope-token *( SP scope-token ); scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3). */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  ensure(SCOPE.test(value), "malformed_scope");
  return [...new Set(value.split(" "))];
}

/**
 * The scope to grant: the request's, if every value is allowed; the allowed set when the request
 * names none (RFC 6749 §3.3 lets the server apply a default).
 */
export function grantableScope(requested: string[] | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed];
  const refused = requested.find((s) => !allowed.includes(s));
  if (refused !== undefined) throw new OAuthError("invalid_scope", `The scope ${toErrorText(refused, 64)} is not allowed for this client.`);
  return requested;
}
