import { ensure } from "../errors/oauth-error";
import type { TokenScheme } from "./challenge";

/** token68 (RFC 7235 §2.1), the syntax of a Bearer (RFC 6750 §2.1) or DPoP (RFC 9449 §7.1) credential. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The token of an Authorization header with the Bearer scheme, or the DPoP scheme when `dpop` is
 * allowed (scheme names case-insensitive, RFC 9110 §11.1); undefined when there is no header or it
 * names another scheme (the caller answers as for no token: a bare challenge, RFC 6750 §3.1). A
 * header of a known scheme whose credentials are not token68 is invalid_request (400).
 */
export function tokenFromAuthorization(header: string | null, dpop: boolean): { scheme: TokenScheme; token: string } | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  const space = value.indexOf(" ");
  const name = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  const scheme: TokenScheme | undefined = name === "bearer" ? "Bearer" : name === "dpop" && dpop ? "DPoP" : undefined;
  if (scheme === undefined) return undefined;
  const credentials = space === -1 ? "" : value.slice(space + 1).trim();
  ensure(TOKEN68.test(credentials), "invalid_request", `The Authorization header does not hold a valid ${scheme} token.`);
  return { scheme, token: credentials };
}
