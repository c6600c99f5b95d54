import { decodeUtf8 } from "../crypto/encoding";
import { OAuthError, ensure } from "../errors/oauth-error";
import { readRequestBody } from "../http/body";

/**
 * The registration endpoint's request rules (RFC 7591 §3.1): the body is one JSON object sent as
 * `application/json` (UTF-8, RFC 8259 §8.1), bounded in size; credentials are Bearer tokens.
 */
export async function readJsonObject(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const [mediaType = "", ...params] = (request.headers.get("content-type") ?? "").split(";").map((p) => p.trim().toLowerCase());
  ensure(mediaType === "application/json", "registration_unsupported_content_type");
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
  ensure(charset === undefined || charset === "utf-8", "registration_unsupported_content_type", "Only the UTF-8 charset is accepted.");
  const text = decodeUtf8(await readRequestBody(request, maxBytes));
  ensure(text !== undefined, "request_body_not_utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OAuthError("registration_body_malformed", "The registration request body is not valid JSON.");
  }
  ensure(body !== null && typeof body === "object" && !Array.isArray(body), "registration_body_malformed");
  return body as Record<string, unknown>;
}

/** token68 (RFC 7235 §2.1), the syntax of a Bearer credential (RFC 6750 §2.1). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The Bearer credential of an Authorization header (scheme case-insensitive, RFC 9110 §11.1), or
 * undefined when there is no header, another scheme, or a malformed credential; the caller answers
 * each of these the same way (401 invalid_token).
 */
export function bearerCredential(header: string | undefined): string | undefined {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match && TOKEN68.test(match[1]!) ? match[1] : undefined;
}
