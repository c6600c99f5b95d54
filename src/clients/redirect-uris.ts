import type { Client } from "./model";

/** RFC 8252 §7.3: loopback interface redirects. `localhost` is accepted too (§8.3 discourages it, but many tools use it). */
export const isLoopbackHost = (host: string): boolean =>
  host === "127.0.0.1" || host === "[::1]" || host === "localhost";

/** `http://<loopback host>[:port]<rest>` as written, with the port taken out; undefined for anything else. */
const LOOPBACK_URI = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?][^#\s]*)?$/;

function withoutPort(uri: string): { text: string; port: string | undefined } | undefined {
  const m = LOOPBACK_URI.exec(uri);
  if (!m) return undefined;
  return { text: `http://${m[1]}${m[3] ?? ""}`, port: m[2] };
}

/**
 * The registered redirect URI a request's `redirect_uri` matches: exact string match (RFC 9700
 * §2.1, §4.1.3), except that a native client's loopback http URI matches on any port (RFC 8252
 * §7.3). The comparison is on the text as sent with only the port removed, so spellings that parse
 * to the same place (userinfo, `127.1`, dot segments, tabs) do not match.
 */
export function matchRedirectUri(client: Client, requested: string): string | undefined {
  if (client.redirectUris.includes(requested)) return requested;
  if (client.applicationType !== "native") return undefined;
  const asked = withoutPort(requested);
  if (!asked || (asked.port !== undefined && Number(asked.port) > 65535)) return undefined;
  const match = client.redirectUris.some((registered) => withoutPort(registered)?.text === asked.text);
  return match ? requested : undefined;
}
