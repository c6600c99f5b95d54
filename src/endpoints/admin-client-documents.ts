import { Hono } from "hono";
import { clientIdUrlProblem } from "../clients/metadata-document";
import { documentTable, type DocumentRow } from "../clients/metadata-document-table";
import { clearClientCache } from "../clients/store";
import { ensure } from "../errors/oauth-error";
import { NO_STORE, type AppContext, type AppEnv } from "../http/context";
import { database } from "../services";
import { jsonObject, optionalBoolean, pageParams } from "./admin-input";

/**
 * The operator API for clients known by their client ID metadata document
 * (src/clients/metadata-document.ts), mounted at /admin/client-metadata-documents behind
 * `requireOperator`. The client_id URL is one path segment, percent-encoded (encodeURIComponent).
 *
 *   GET    /                  ?limit=&after=        → 200 { documents: [...], next }
 *   GET    /:client_id                              → 200 document | 404
 *   PATCH  /:client_id        { "blocked": bool }   → 200 document: blocks (or unblocks) the client,
 *          also one never seen yet. A blocked client is disabled everywhere at once in this isolate
 *          and within config.clientCacheTtl in others: the authorization endpoint shows an error
 *          page, the token endpoint answers client_disabled (so its refresh tokens stop working).
 *          Its grants stay until withdrawn (DELETE /admin/users/:id/grants/:client_id).
 *
 * A document is { client_id, host, client_name, first_seen, last_seen, fetched_at, expires_at,
 * blocked } (Unix seconds; fetched_at null for a blocked URL never fetched).
 */
function documentJson(row: DocumentRow): Record<string, unknown> {
  return {
    client_id: row.client_id, host: row.host, client_name: row.client_name, first_seen: row.first_seen, last_seen: row.last_seen,
    fetched_at: row.fetched_at, expires_at: row.expires_at, blocked: row.blocked === 1,
  };
}

function clientIdParam(c: AppContext): string {
  const clientId = c.req.param("client_id") ?? "";
  const problem = clientIdUrlProblem(clientId, c.get("config").allowInsecureClientUris);
  ensure(problem === undefined, "invalid_request", `${clientId.slice(0, 200)} is not a client ID metadata document URL: ${problem}.`);
  return clientId;
}

export const adminClientDocuments = new Hono<AppEnv>()
  .get("/", async (c) => {
    const page = await documentTable(database(c)).list(pageParams(c));
    return c.json({ documents: page.rows.map(documentJson), next: page.next }, 200, NO_STORE);
  })
  .get("/:client_id", async (c) => {
    const row = await documentTable(database(c)).get(clientIdParam(c));
    ensure(row !== null, "not_found", "This client ID metadata document has not been seen.");
    return c.json(documentJson(row), 200, NO_STORE);
  })
  .patch("/:client_id", async (c) => {
    const clientId = clientIdParam(c);
    const blocked = optionalBoolean(await jsonObject(c, ["blocked"]), "blocked");
    ensure(blocked !== undefined, "invalid_request", "blocked (true or false) is required.");
    const row = await documentTable(database(c)).setBlocked(clientId, new URL(clientId).hostname, blocked, c.get("now"));
    clearClientCache();
    return c.json(documentJson(row), 200, NO_STORE);
  });
