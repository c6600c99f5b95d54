import type { Child } from "hono/jsx";
import type { Client } from "../clients/model";
import { imageSource } from "../http/page-security";

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

/**
 * An absolute https URL without user name or password, or undefined. For what a client says about
 * itself (RFC 7591 §2 `client_uri`, `policy_uri`, `tos_uri`, `logo_uri`): registration accepts only
 * https there, and this refuses anything else again at display time. Credentials are refused so a
 * link cannot read as one host while going to another (`https://bank.example@evil.example/`).
 */
export function httpsHref(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.username === "" && url.password === "" ? url.href : undefined;
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

/** What a registered client says about itself, as shown on the sign-in and consent pages. */
export interface ClientInfo {
  /** The client's home page (`client_uri`). */
  clientUri?: string | undefined;
  /**
   * The client's logo (`logo_uri`). Shown only when the route also names it in the response's
   * CSP (`imgOrigins`, see src/http/page-security.ts); otherwise the browser does not load it.
   */
  logoUri?: string | undefined;
  /** The client's privacy policy (`policy_uri`). */
  policyUri?: string | undefined;
  /** The client's terms of service (`tos_uri`). */
  tosUri?: string | undefined;
}

/**
 * What the sign-in, consent and account pages say about a client: its name (its client_id when it
 * has none, or is gone), and the RFC 7591 §2 URLs it registered (https, checked at registration;
 * the pages check again). `imgOrigins` is the render option that lets exactly the logo's origin
 * into the response's CSP img-src.
 */
export function clientInfo(client: Client | null, clientId: string) {
  const url = (member: string) => {
    const value = client?.metadata[member];
    return typeof value === "string" ? value : undefined;
  };
  const logoUri = url("logo_uri");
  return {
    props: { clientName: client?.clientName ?? clientId, clientUri: url("client_uri"), logoUri, policyUri: url("policy_uri"), tosUri: url("tos_uri") },
    imgOrigins: logoUri !== undefined ? [logoUri] : [],
  };
}

/**
 * The client's logo: an https image from an origin a CSP can name exactly (see imageSource), at a
 * fixed maximum size, fetched without a Referer. Decorative (empty alt): the client's name is
 * written beside it. Nothing when the URL does not qualify.
 */
export function ClientLogo({ uri }: { uri: string | undefined }) {
  const src = httpsHref(uri);
  if (src === undefined || imageSource(src) === undefined) return null;
  return (
    <p class="client-logo">
      <img src={src} alt="" width="64" height="64" referrerpolicy="no-referrer" decoding="async" />
    </p>
  );
}

/** Links to the client's home page, privacy policy and terms (https only); nothing when it has none. */
export function ClientLinks({ clientName, clientUri, policyUri, tosUri }: ClientInfo & { clientName: string }) {
  const home = httpsHref(clientUri);
  const policy = httpsHref(policyUri);
  const terms = httpsHref(tosUri);
  if (home === undefined && policy === undefined && terms === undefined) return null;
  return (
    <ul class="client-links" aria-label={`About ${clientName}`}>
      {home !== undefined ? (
        <li>
          <a href={home} rel="noopener noreferrer" target="_blank">
            {new URL(home).host}
          </a>
        </li>
      ) : null}
      {policy !== undefined ? (
        <li>
          <a href={policy} rel="noopener noreferrer" target="_blank">
            Privacy policy
          </a>
        </li>
      ) : null}
      {terms !== undefined ? (
        <li>
          <a href={terms} rel="noopener noreferrer" target="_blank">
            Terms of service
          </a>
        </li>
      ) : null}
    </ul>
  );
}
