import { fetchedUriError } from "../clients/register-uris";
import { decodeUtf8 } from "../crypto/encoding";
import { OAuthError, ensure } from "../errors/oauth-error";
import { OutboundError, outboundFetch } from "../http/outbound";
import { log } from "../log";

/**
 * OpenID Connect Dynamic Client Registration §5: the server fetches `sector_identifier_uri`, which
 * must return a JSON array of URIs, and checks that every redirect URI the client registers is in
 * it. The fetch goes through the outbound-fetch policy (src/http/outbound.ts): a public https host,
 * a timeout and a size bound, no redirects followed, so a slow, huge or hostile document cannot hold
 * the registration request or make the server fetch somewhere else.
 */
export async function checkSectorIdentifier(
  uri: string,
  redirectUris: readonly string[],
  opts: { timeoutMs: number; maxBytes: number; allowInsecure: boolean },
): Promise<void> {
  let bytes: Uint8Array;
  try {
    ({ body: bytes } = await outboundFetch(uri, {
      purpose: "sector_identifier_uri",
      accept: "application/json",
      maxBytes: opts.maxBytes,
      timeoutMs: opts.timeoutMs,
      okStatus: [200],
    }, { allowInsecure: opts.allowInsecure }));
  } catch (cause) {
    if (!(cause instanceof OutboundError)) throw cause;
    if (cause.failure === "forbidden_url") throw fetchedUriError("sector_identifier_uri", uri, cause.extra.problem!);
    if (cause.failure === "too_large") {
      throw new OAuthError("sector_identifier_uri_bad_document", `The sector_identifier_uri document is larger than ${opts.maxBytes} bytes.`);
    }
    log("warn", "sector_identifier_fetch_failed", { uri, reason: cause.reason });
    throw new OAuthError("sector_identifier_uri_unreachable", `sector_identifier_uri ${uri} could not be retrieved.`, { cause });
  }
  const text = decodeUtf8(bytes);
  ensure(text !== undefined, "sector_identifier_uri_bad_document", "The sector_identifier_uri document is not UTF-8.");
  let listed: unknown;
  try {
    listed = JSON.parse(text);
  } catch {
    listed = undefined;
  }
  ensure(Array.isArray(listed) && listed.every((u) => typeof u === "string"), "sector_identifier_uri_bad_document");
  const missing = redirectUris.find((r) => !listed.includes(r));
  ensure(missing === undefined, "sector_identifier_uri_missing_redirect_uri",
    `The sector_identifier_uri document does not list the redirect URI ${missing}.`);
}
