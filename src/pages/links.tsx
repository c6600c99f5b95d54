import type { Child } from "hono/jsx";

/**
 * Hrefs built from data (a client's `client_uri`, a continue URL, links in mail bodies) go through
 * here: JSX escapes attribute values but does not stop `javascript:` or `data:` URLs.
 */

/** An absolute http(s) URL, or undefined. */
export function externalHref(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A path on this server ("/authorize?…"), or undefined: no scheme, no "//host", no backslashes. */
export function localHref(value: string | undefined): string | undefined {
  if (!value || !value.startsWith("/") || value.startsWith("//") || /[\\\s]/.test(value)) return undefined;
  return value;
}

const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/g;

/** Plain text with its http(s) URLs turned into links (trailing sentence punctuation stays text). */
export function Linkify({ text }: { text: string }) {
  const parts: Child[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const raw = match[0];
    const url = raw.replace(/[.,;:!?)\]]+$/, "");
    const start = match.index;
    const href = externalHref(url);
    parts.push(text.slice(last, start));
    parts.push(href ? <a href={href}>{url}</a> : url);
    last = start + url.length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}
