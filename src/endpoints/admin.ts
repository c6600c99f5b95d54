import { Hono } from "hono";
import { sha256, timingSafeEqual } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import { NO_STORE, type AppEnv, type Step } from "../http/context";
import { createInitialAccessToken } from "../registration/initial-access-token";
import { adminToken, database } from "../services";
import { adminClientDocuments } from "./admin-client-documents";
import { adminClients } from "./admin-clients";
import { listRegistrations } from "../registration/usage";
import { jsonObject, pageParams } from "./admin-input";
import { adminKeys } from "./admin-keys";
import { adminUsers } from "./admin-users";

/**
 * The operator API (under /admin), protected by the ADMIN_TOKEN secret. It is the one code path
 * for provisioning: `npm run dev` seeds the demo through it, `npm run admin` (scripts/admin.mjs)
 * drives it, and deployments create keys and clients with it. When ADMIN_TOKEN is unset the API
 * does not exist (404).
 *
 *   /admin/keys      signing keys: provision, list, rotate          (admin-keys.ts)
 *   /admin/clients   clients: list, create, show, replace, patch, delete, rotate secret (admin-clients.ts)
 *   /admin/client-metadata-documents  clients known by their client ID metadata document: list,
 *                    show, block (admin-client-documents.ts)
 *   /admin/users     people: create, list, show, change, and their grants (admin-users.ts)
 *   POST /admin/initial-access-tokens  { ttl?, max_uses? } → 201 { token, expires_at, max_uses, created_at }:
 *                    a Bearer token for /register when REGISTRATION_POLICY is initial_access_token
 *                    (RFC 7591 §3), shown once; ttl seconds (default 7 days, null = never), max_uses
 *                    registrations (default 1, null = unlimited); src/registration/initial-access-token.ts
 *   GET /admin/registrations  ?since=&limit=&after= → 200 { registrations: [...], next }: clients that
 *                    registered themselves (POST /register) at or after `since` (Unix seconds, default
 *                    0), newest first: client_id, client_name, token_endpoint_auth_method,
 *                    redirect_hosts, network (IPv4 /24 or IPv6 /48 of the registrant), created_at,
 *                    first_used_at and used (was a token ever issued to it); src/registration/usage.ts
 *
 * Errors are the catalog's JSON (`error`, `error_description`, `error_code`); a missing or wrong
 * operator token is 401 `invalid_token` with a Bearer challenge.
 */
export const requireOperator: Step = async function requireOperator(c, next) {
  const expected = adminToken(c);
  if (!expected) throw new OAuthError("not_found");
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
  const ok = match !== null && timingSafeEqual(await sha256(match[1]!), await sha256(expected));
  ensure(ok, "invalid_token", "A valid operator token is required.");
  await next();
};

export const admin = new Hono<AppEnv>()
  .use("*", requireOperator)
  .route("/keys", adminKeys)
  .route("/clients", adminClients)
  .route("/client-metadata-documents", adminClientDocuments)
  .route("/users", adminUsers)
  .get("/registrations", async (c) => {
    const since = c.req.query("since");
    ensure(since === undefined || /^\d{1,15}$/.test(since), "invalid_request", "since must be a Unix time in seconds.");
    const page = await listRegistrations(database(c), { ...pageParams(c), since: since === undefined ? 0 : Number(since) });
    return c.json(page, 200, NO_STORE);
  })
  .post("/initial-access-tokens", async (c) => {
    const body = await jsonObject(c, ["ttl", "max_uses"], { optional: true });
    const limits = { ...(body.ttl !== undefined && { ttl: body.ttl as number | null }), ...(body.max_uses !== undefined && { maxUses: body.max_uses as number | null }) };
    return c.json(await createInitialAccessToken(database(c), limits, c.get("now")), 201, NO_STORE);
  });
