import { decodeUtf8, fromBase64 } from "../crypto/encoding";
import { OAuthError } from "../errors/oauth-error";
import { formDecode } from "../http/form";

/**
 * Parses `Authorization: Basic …` client credentials (RFC 6749 §2.3.1, RFC 7617). The id and secret
 * are application/x-www-form-urlencoded *before* base64 (RFC 6749 Appendix B), so both are
 * form-decoded after splitting at the first colon. Any malformation is `invalid_basic_auth_creds`
 * (401 with WWW-Authenticate, because the client used the Authorization header).
 */
export function parseBasic(credentials: string): { clientId: string; secret: string } {
  const bytes = fromBase64(credentials.trim());
  if (!bytes) throw new OAuthError("invalid_basic_auth_creds", "The Basic credentials are not valid base64.");
  const text = decodeUtf8(bytes);
  if (text === undefined) throw new OAuthError("invalid_basic_auth_creds", "The Basic credentials are not valid UTF-8.");
  const colon = text.indexOf(":");
  if (colon === -1) throw new OAuthError("invalid_basic_auth_creds", "The Basic credentials have no colon separator.");
  const clientId = decodePart(text.slice(0, colon));
  const secret = decodePart(text.slice(colon + 1));
  if (!clientId) throw new OAuthError("invalid_basic_auth_creds", "The Basic credentials have an empty client_id.");
  if (!secret) throw new OAuthError("invalid_basic_auth_creds", "The Basic credentials have an empty secret.");
  return { clientId, secret };
}

function decodePart(text: string): string {
  const decoded = formDecode(text);
  if (decoded === undefined) throw new OAuthError("invalid_basic_auth_creds", "The Basic credentials have a malformed percent-encoding.");
  return decoded;
}
