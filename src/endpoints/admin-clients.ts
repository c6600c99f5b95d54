import { Hono } from "hono";
import { deleteClient, listClients, rotateClientSecret } from "../clients/lifecycle";
import { clientMetadata } from "../clients/metadata";
import type { Client } from "../clients/model";
import type { ClientInput } from "../clients/register";
import { registerClient } from "../clients/register-save";
import type { ClientStore } from "../clients/store";
import { ensure } from "../errors/oauth-error";
import { NO_STORE, type AppContext, type AppEnv } from "../http/context";
import { registrationDeps } from "../registration/deps";
import { database, encryptionKey, uncachedClientStore } from "../services";
import { jsonObject, optionalBoolean, pageParams } from "./admin-input";

/**
 * The operator API for clients, mounted at /admin/clients behind `requireOperator`. Bodies and
 * answers use RFC 7591 metadata names, plus the operator-only member `disabled`:
 *
 *   GET    /                       ?limit=&after=  → 200 { clients: [...], next }
 *   POST   /                       metadata        → 201 client (+ client_secret, shown once)
 *   GET    /:client_id                             → 200 client | 404
 *   PUT    /:client_id             metadata        → 200 client: creates or replaces the whole
 *          registration (omitted members take their defaults; a secret-based client gets a new
 *          secret unless the body names one). `disabled` is kept.
 *   PATCH  /:client_id             some metadata   → 200 client: changes only the members sent
 *          (JSON merge patch, RFC 7396: null resets a member to its default); the secret is kept
 *          unless the change needs a new one (e.g. to client_secret_jwt, whose secret must be
 *          sealed), which is then answered once. `disabled: true|false` disables or enables.
 *   DELETE /:client_id                             → 204: the client and everything granted to it
 *          (src/clients/lifecycle.ts deleteClient says what happens to its tokens)
 *   POST   /:client_id/secret                      → 200 client + new client_secret (shown once)
 */
export function adminClientJson(client: Client, clientSecret?: string): Record<string, unknown> {
  return { ...clientMetadata(client), disabled: client.disabled, ...(clientSecret !== undefined && { client_secret: clientSecret }) };
}

/** Members the server assigns: never taken from a PATCH body or the stored registration's echo. */
const SERVER_MEMBERS = ["client_id", "client_id_issued_at", "client_secret_expires_at", "disabled"];

/**
 * Registration as the operator (src/registration/deps.ts), through a store that keeps the operator
 * state registration resets: `disabled` stays as it was unless `disabled` is given.
 */
function operatorDeps(c: AppContext, existing: Client | null, disabled?: boolean) {
  const deps = registrationDeps(c, "operator");
  const store: ClientStore = {
    ...deps.store,
    put: (client) => deps.store.put({ ...client, disabled: disabled ?? existing?.disabled ?? false }),
  };
  return { ...deps, store };
}

async function loadClient(c: AppContext): Promise<Client> {
  const client = await uncachedClientStore(c).get(c.req.param("client_id") ?? "");
  ensure(client !== null, "not_found", "No such client.");
  return client;
}

export const adminClients = new Hono<AppEnv>()
  .get("/", async (c) => {
    const page = await listClients(database(c), uncachedClientStore(c), pageParams(c));
    return c.json({ clients: page.clients.map((client) => adminClientJson(client)), next: page.next }, 200, NO_STORE);
  })
  .post("/", async (c) => {
    const input = (await jsonObject(c)) as ClientInput;
    ensure(input.client_id === undefined, "invalid_client_metadata", "client_id is assigned by the server; use PUT to choose one.");
    const { client, clientSecret } = await registerClient(operatorDeps(c, null), input, { existing: null });
    return c.json(adminClientJson(client, clientSecret), 201, NO_STORE);
  })
  .get("/:client_id", async (c) => c.json(adminClientJson(await loadClient(c)), 200, NO_STORE))
  .put("/:client_id", async (c) => {
    const input = { ...(await jsonObject(c)), client_id: c.req.param("client_id") } as ClientInput;
    const existing = await uncachedClientStore(c).get(c.req.param("client_id"));
    const { client, clientSecret } = await registerClient(operatorDeps(c, existing), input, { existing });
    return c.json(adminClientJson({ ...client, disabled: existing?.disabled ?? false }, clientSecret), 200, NO_STORE);
  })
  .patch("/:client_id", async (c) => {
    const patch = await jsonObject(c);
    const existing = await loadClient(c);
    ensure(patch.client_id === undefined || patch.client_id === existing.clientId, "invalid_client_metadata", "client_id cannot be changed.");
    const disabled = optionalBoolean(patch, "disabled");
    const merged: Record<string, unknown> = { ...clientMetadata(existing) };
    for (const [name, value] of Object.entries(patch)) {
      if (value === null) delete merged[name];
      else merged[name] = value;
    }
    for (const name of SERVER_MEMBERS) delete merged[name];
    const input = { ...merged, client_id: existing.clientId } as ClientInput;
    const { client, clientSecret } = await registerClient(operatorDeps(c, existing, disabled), input, { existing, secret: "keep" });
    return c.json(adminClientJson({ ...client, disabled: disabled ?? existing.disabled }, clientSecret), 200, NO_STORE);
  })
  .delete("/:client_id", async (c) => {
    const deleted = await deleteClient(database(c), c.req.param("client_id"), c.get("now"));
    ensure(deleted, "not_found", "No such client.");
    return c.body(null, 204, NO_STORE);
  })
  .post("/:client_id/secret", async (c) => {
    const deps = { store: uncachedClientStore(c), encryptionKey: encryptionKey(c), now: c.get("now") };
    const { client, clientSecret } = await rotateClientSecret(deps, await loadClient(c));
    return c.json(adminClientJson(client, clientSecret), 200, NO_STORE);
  });
