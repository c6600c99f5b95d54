import { OAuthError } from "../errors/oauth-error";
import { decodeUtf8 } from "../crypto/encoding";
import { readRequestBody } from "./body";

/**
 * Request parameters after RFC 6749's rules: a parameter sent without a value is treated as
 * omitted (§3.1), a parameter sent twice is an error (§3.1, §3.2) but for those that may repeat
 * (REPEATABLE_PARAMETERS), unknown ones are kept and simply never read.
 */
export type Params = ReadonlyMap<string, string>;

/**
 * application/x-www-form-urlencoded, decoded strictly (malformed %-escapes and invalid UTF-8 are
 * errors), each name with its value, in order; empty values are dropped (RFC 6749 §3.1).
 */
function forEachFormParam(body: string, source: string, each: (name: string, value: string) => void): void {
  let start = 0;
  // The next "=" at or after `start` (Infinity: none left); searched again only once passed, so the
  // whole body is scanned once however its "&"s and "="s are laid out.
  let eq = -1;
  while (start <= body.length) {
    let end = body.indexOf("&", start);
    if (end === -1) end = body.length;
    if (end > start) {
      if (eq < start) {
        eq = body.indexOf("=", start);
        if (eq === -1) eq = Infinity;
      }
      const hasValue = eq < end;
      const name = formDecode(body.slice(start, hasValue ? eq : end));
      const value = hasValue ? formDecode(body.slice(eq + 1, end)) : "";
      if (name === undefined || value === undefined) {
        throw new OAuthError("invalid_request", `The ${source} has a malformed percent-encoding.`);
      }
      if (value !== "") each(name, value);
    }
    start = end + 1;
  }
}

/** Every value of every parameter, a repeated name keeping all of its values. */
export function parseFormEncodedMulti(body: string, source = "request body"): Map<string, string[]> {
  const params = new Map<string, string[]>();
  forEachFormParam(body, source, (name, value) => {
    const values = params.get(name);
    if (values) values.push(value);
    else params.set(name, [value]);
  });
  return params;
}

/**
 * The parameters that may be repeated: `resource` (RFC 8707 §2). Their values travel as one JSON
 * array text when there are several (`joinRepeated`); src/authorize/resource.ts reads them back.
 */
export const REPEATABLE_PARAMETERS: ReadonlySet<string> = new Set(["resource"]);
export const joinRepeated = (values: readonly string[]): string => (values.length === 1 ? values[0]! : JSON.stringify(values));

/** The parameters, where a repeated one is an error (RFC 6749 §3.1, §3.2) unless it is repeatable. */
export function parseFormEncoded(body: string, source = "request body"): Params {
  const params = new Map<string, string>();
  let repeated: Map<string, string[]> | undefined;
  forEachFormParam(body, source, (name, value) => {
    if (params.has(name)) {
      if (!REPEATABLE_PARAMETERS.has(name)) throw new OAuthError("duplicate_parameter", `The ${name} parameter was sent more than once.`);
      repeated ??= new Map();
      const values = repeated.get(name) ?? [params.get(name)!];
      values.push(value);
      repeated.set(name, values);
    } else {
      params.set(name, value);
    }
  });
  if (repeated !== undefined) for (const [name, values] of repeated) params.set(name, joinRepeated(values));
  return params;
}

/**
 * Decodes one form component (RFC 6749 Appendix B): `+` is a space, then percent-decoding as
 * UTF-8. Undefined for a malformed escape or an escape that decodes to invalid UTF-8.
 */
export function formDecode(text: string): string | undefined {
  if (!text.includes("%") && !text.includes("+")) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

/** Reads and parses a form body: content type checked, size bounded while streaming. */
export async function readForm(request: Request, maxBytes: number): Promise<Params> {
  return parseFormEncoded(await readFormText(request, maxBytes));
}

/** The UTF-8 text of a form body, after the content-type and size checks. */
export async function readFormText(request: Request, maxBytes: number): Promise<string> {
  const contentType = request.headers.get("content-type") ?? "";
  // The usual header, exactly: nothing to take apart.
  if (contentType !== "application/x-www-form-urlencoded") checkFormContentType(contentType);
  const text = decodeUtf8(await readRequestBody(request, maxBytes));
  if (text === undefined) throw new OAuthError("request_body_not_utf8");
  return text;
}

function checkFormContentType(contentType: string): void {
  const [mediaType = "", ...mediaParams] = contentType.split(";").map((part) => part.trim().toLowerCase());
  if (mediaType !== "application/x-www-form-urlencoded") {
    throw new OAuthError(
      "unsupported_content_type",
      mediaType === "application/json"
        ? "JSON bodies are not accepted; send the parameters as application/x-www-form-urlencoded."
        : undefined,
    );
  }
  const charset = mediaParams.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
  if (charset && charset !== "utf-8") throw new OAuthError("unsupported_content_type", "Only the UTF-8 charset is accepted.");
}
