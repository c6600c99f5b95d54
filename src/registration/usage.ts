import { ensure } from "../errors/oauth-error";
import type { Step } from "../http/context";
import { log } from "../log";
import { database } from "../services";
import { ipPrefix } from "../users/throttle";

/**
 * Self-registered clients and whether they were ever used (table client_registrations, migration
 * 0007). The registration endpoint writes a row for each client it registers, with the registrant's
 * network; the token endpoint records the first token issued to it; maintenance removes the clients
 * never used within config.unusedClientTtl (src/maintenance.ts); the operator lists them
 * (GET /admin/registrations). Operator clients have no row, so nothing here ever touches them.
 *
 * "Used" means a token was issued to the client: that is where an authorization completes (a code
 * that is never redeemed does not count). Recording it stays off the hot path: each isolate records
 * a client once, after the answer (`waitUntil`), with one UPDATE that only writes a row still
 * unmarked; later token requests for that client in the isolate do nothing.
 */

/** The registrant's network: an IPv4 /24 or IPv6 /48, enough to see and block a flood's source, not to name a person. */
export function registrantNetwork(ip: string | null): string | null {
  if (!ip) return null;
  const prefix = ipPrefix(ip.trim());
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(prefix);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  const v6 = /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4}):[0-9a-f]{1,4}::\/64$/.exec(prefix);
  return v6 ? `${v6[1]}:${v6[2]}:${v6[3]}::/48` : null;
}

/** The row of a client the registration endpoint is about to store (written first: a row naming no client opens nothing). */
export async function recordRegistration(db: D1Database, clientId: string, request: Request, now: number): Promise<void> {
  await db
    .prepare("INSERT INTO client_registrations (client_id, network, created_at) VALUES (?, ?, ?)")
    .bind(clientId, registrantNetwork(request.headers.get("cf-connecting-ip")), now)
    .run();
}

/** Marks the client used, once: a row already marked (or none: an operator client) is left as it is. */
export async function recordFirstUse(db: D1Database, clientId: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE client_registrations SET first_used_at = ? WHERE client_id = ? AND first_used_at IS NULL")
    .bind(now, clientId)
    .run();
}

/** Clients this isolate has recorded as used (bounded: forgetting one only costs one more UPDATE). */
const recorded = new Set<string>();
const MAX_REMEMBERED = 10_000;

/**
 * Token endpoint step (before grantTokens): once tokens were issued (200), the client's first use
 * is recorded after the answer, unless this isolate already did it. A failure is logged and
 * forgotten, so a later token request tries again.
 */
export const recordClientUse: Step = async function recordClientUse(c, next) {
  await next();
  const clientId = c.get("client")?.client.clientId;
  if (c.error || c.res.status !== 200 || clientId === undefined || recorded.has(clientId)) return;
  if (recorded.size >= MAX_REMEMBERED) recorded.clear();
  recorded.add(clientId);
  c.executionCtx.waitUntil(
    recordFirstUse(database(c), clientId, c.get("now")).catch((error: unknown) => {
      recorded.delete(clientId);
      log("warn", "client_use_not_recorded", { client_id: clientId, message: String(error instanceof Error ? error.message : error).slice(0, 200) });
    }),
  );
};

/** One self-registered client as the operator sees it (GET /admin/registrations). */
export interface RegistrationRow {
  client_id: string;
  client_name: string | null;
  token_endpoint_auth_method: string;
  /** The hosts of its redirect URIs: what a person is sent back to. */
  redirect_hosts: string[];
  /** IPv4 /24 or IPv6 /48 of the registrant, null when unknown. */
  network: string | null;
  created_at: number;
  /** When a token was first issued to it; null = never; 0 = registered before use was recorded. */
  first_used_at: number | null;
  used: boolean;
}

export interface RegistrationPage {
  registrations: RegistrationRow[];
  /** Cursor of the next (older) page, or null. */
  next: string | null;
}

/** "<created_at>:<client_id>" of the last row of a page. */
const CURSOR = /^(\d{1,15}):([\x21-\x7e]{1,128})$/;

/**
 * Registrations made at or after `since` (Unix seconds), newest first, a page at a time; `after`
 * is the `next` of the previous page. Clients deleted since have no entry.
 */
export async function listRegistrations(
  db: D1Database,
  page: { since: number; limit: number; after?: string },
): Promise<RegistrationPage> {
  const cursor = page.after === undefined ? null : CURSOR.exec(page.after);
  ensure(page.after === undefined || cursor !== null, "invalid_request", "after must be the next cursor of a previous page.");
  const { results } = await db
    .prepare(
      `SELECT r.client_id, c.client_name, c.token_endpoint_auth_method, c.redirect_uris, r.network, r.created_at, r.first_used_at
         FROM client_registrations r JOIN clients c ON c.client_id = r.client_id
        WHERE r.created_at >= ?1 AND (?2 IS NULL OR r.created_at < ?2 OR (r.created_at = ?2 AND r.client_id < ?3))
        ORDER BY r.created_at DESC, r.client_id DESC LIMIT ?4`,
    )
    .bind(page.since, cursor ? Number(cursor[1]) : null, cursor ? cursor[2] : null, page.limit + 1)
    .all<{
      client_id: string; client_name: string | null; token_endpoint_auth_method: string; redirect_uris: string;
      network: string | null; created_at: number; first_used_at: number | null;
    }>();
  const rows = results.slice(0, page.limit).map((r) => ({
    client_id: r.client_id,
    client_name: r.client_name,
    token_endpoint_auth_method: r.token_endpoint_auth_method,
    redirect_hosts: redirectHosts(r.redirect_uris),
    network: r.network,
    created_at: r.created_at,
    first_used_at: r.first_used_at,
    used: r.first_used_at !== null,
  }));
  const last = rows.at(-1);
  return { registrations: rows, next: results.length > page.limit && last ? `${last.created_at}:${last.client_id}` : null };
}

function redirectHosts(json: string): string[] {
  const uris = JSON.parse(json) as string[];
  // A native app's private-use scheme (RFC 8252 §7.1) has no host: its scheme says who it is.
  return [...new Set(uris.map((uri) => {
    const url = URL.parse(uri);
    return url === null ? uri : url.host || url.protocol;
  }))];
}
