/**
 * The session cookie. `__Host-` (RFC 6265bis §4.1.3.2) makes browsers accept it only with Secure,
 * Path=/ and no Domain, so no sibling subdomain can set or overwrite it. HttpOnly keeps it from
 * scripts; SameSite=Lax sends it on top-level navigations from clients (the redirect to /authorize
 * needs it) but not on cross-site subrequests or cross-site POSTs.
 */
export const SESSION_COOKIE = "__Host-latchkey-session";

/** Session cookie values are 32 random bytes, base64url (src/sessions/store.ts). */
const VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The Set-Cookie value that stores `value` for `maxAge` seconds. */
export function sessionCookie(value: string, maxAge: number): string {
  if (!VALUE.test(value)) throw new Error("session cookie value must be 32 random bytes, base64url");
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new Error("session cookie Max-Age must be a non-negative integer");
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAge}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** The Set-Cookie value that removes the session cookie (sign-out). */
export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/**
 * The session cookie value the request carries, or null. Tolerant of anything in the Cookie
 * header (RFC 6265 §5.4 is what browsers send, but other clients send anything): pairs without
 * `=`, stray spaces, empty pairs, quoted or percent-encoded values, other cookies' junk. Never
 * throws. Only a value of the shape we issue is returned; when the name appears several times,
 * the first such value wins.
 */
export function readSessionCookie(request: Request | Headers): string | null {
  const headers = request instanceof Request ? request.headers : request;
  const header = headers.get("cookie");
  if (!header) return null;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0 || pair.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (VALUE.test(value)) return value;
  }
  return null;
}
