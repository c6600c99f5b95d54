import type { Client } from "./model";

/** RFC 8252 §7.3: loopback interface redirects. `localhost` is accepted too (§8.3 discourages it, but many tools use it). */
export const isLoopbackHost = (host: string): boolean =>
  host === "127.0.0.1" || host === "[::1]" || host === "localhost";

/**
 * The registered redirect URI a request's `redirect_uri` matches: exact string match (RFC 9700
 * §2.1, §4.1.3), except that a native client's loopback http URI matches on any port (RFC 8252 §7.3).
 */
export function matchRedirectUri(client: Client, requested: string): string | undefined {
  if (client.redirectUris.includes(requested)) return requested;
  if (client.applicationType !== "native") return undefined;
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" || !isLoopbackHost(url.hostname)) return undefined;
  return client.redirectUris.find((registered) => {
    const r = new URL(registered);
    return r.protocol === "http:" && r.hostname === url.hostname && r.pathname === url.pathname && r.search === url.search && !url.hash;
  }) && requested;
}
