import { decodeUtf8 } from "../crypto/encoding";
import { readBounded } from "../http/body";
import { OAuthError, ensure } from "../errors/oauth-error";
import { log } from "../log";

/**
 * OpenID Connect Dynamic Client Registration §5: the server fetches `sector_identifier_uri`, which
 * must return a JSON array of URIs, and checks that every redirect URI the client registers is in
 * it. The fetch is bounded (timeout, size, no redirects followed) so a slow or hostile document
 * cannot hold the registration request or make the server follow it elsewhere.
 */
export async function checkSectorIdentifier(
  uri: string,
  redirectUris: readonly string[],
  opts: { timeoutMs: number; maxBytes: number; allowInsecure: boolean },
): Promise<void> {
  const url = new URL(uri);
  ensure(url.protocol === "https:" || (opts.allowInsecure && url.protocol === "http:"), "sector_identifier_uri_malformed");
  let text: string;
  try {
    const response = await fetch(url, {
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`status ${response.status}`);
    }
    text = await boundedText(response, opts.maxBytes);
  } catch (cause) {
    if (cause instanceof OAuthError) throw cause;
    log("warn", "sector_identifier_fetch_failed", { uri, reason: String(cause) });
    throw new OAuthError("sector_identifier_uri_unreachable", `sector_identifier_uri ${uri} could not be retrieved.`, { cause });
  }
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

/** The body as UTF-8 text, refusing it once it grows past `maxBytes`. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  const bytes = declared > maxBytes ? (await response.body?.cancel(), undefined) : await readBounded(response.body, maxBytes);
  ensure(bytes !== undefined, "sector_identifier_uri_bad_document", `The sector_identifier_uri document is larger than ${maxBytes} bytes.`);
  const text = decodeUtf8(bytes);
  ensure(text !== undefined, "sector_identifier_uri_bad_document", "The sector_identifier_uri document is not UTF-8.");
  return text;
}
