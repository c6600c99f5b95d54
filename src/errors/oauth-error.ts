import { catalog, type ErrorCode } from "./catalog";

/**
 * The one error type endpoints throw. It names a catalog entry; `detail` refines the description
 * for this occurrence (it is sanitized to RFC 6749 §5.2's character set when serialized).
 */
export class OAuthError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /** Extra response headers for this occurrence (e.g. `Allow` on a 405). */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(detail ?? catalog[code].description, options);
    this.name = "OAuthError";
    this.code = code;
    this.detail = detail;
    this.headers = options?.headers;
  }

  get entry() {
    return catalog[this.code];
  }
}

/** Throws when `condition` is false; keeps validation steps to one line each. */
export function ensure(condition: unknown, code: ErrorCode, detail?: string): asserts condition {
  if (!condition) throw new OAuthError(code, detail);
}

/**
 * RFC 6749 §5.2 / Appendix A.7: `error` and `error_description` use only %x20-21 / %x23-5B /
 * %x5D-7E. Anything else (quotes, backslashes, control characters, non-ASCII) becomes `?`, and the
 * text is bounded so a hostile input cannot inflate responses or logs.
 */
export function toErrorText(text: string, max = 300): string {
  let out = "";
  for (const ch of text) {
    if (out.length >= max) break;
    const cp = ch.codePointAt(0)!;
    const allowed = (cp >= 0x20 && cp <= 0x21) || (cp >= 0x23 && cp <= 0x5b) || (cp >= 0x5d && cp <= 0x7e);
    out += allowed ? ch : "?";
  }
  return out;
}

export interface ErrorBody {
  error: string;
  error_description: string;
  /** Latchkey's stable internal code (documented in docs/errors.md). */
  error_code: string;
}

export function errorBody(err: OAuthError): ErrorBody {
  return {
    error: toErrorText(err.entry.error),
    error_description: toErrorText(err.detail ?? err.entry.description),
    error_code: err.code,
  };
}
