import { Hono } from "hono";
import { deleteClient, listClients, rotateClientSecret, usesSecret } from "../clients/lifecycle";
import { clientMetadata } from "../clients/metadata";
import type { Client } from "../clients/model";
import { registerClient, type ClientInput } from "../clients/register";
import { clearClientCache, d1ClientStore, type ClientStore } from "../clients/store";
import { ensure } from "../errors/oauth-error";
import { NO_STORE, type AppContext, type AppEnv } from "../http/context";
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

function registrationDeps(c: AppContext, store: ClientStore) {
  return { store, encryptionKey: c.env.ENCRYPTION_KEY, now: c.var.now, allowInsecureUris: c.var.config.allowInsecureClientUris };
}

/**
 * A store that writes what registration built, but keeps operator state registration knows nothing
 * of: `disabled` (the existing value, or `disabled` when given) and, with `keepSecret`, the existing
 * secret when the new method still uses it. `keptSecret` tells whether it did.
 */
function preserving(store: ClientStore, existing: Client | null, opts: { disabled?: boolean; keepSecret: boolean }) {
  const state = { keptSecret: false };
  const wrapped: ClientStore = {
    ...store,
    async put(client) {
      let next: Client = { ...client, disabled: opts.disabled ?? existing?.disabled ?? false };
      const reusable =
        existing !== null && existing.secretHash !== null && usesSecret(client) &&
        (client.authMethod !== "client_secret_jwt" || existing.secretSealed !== null);
      if (opts.keepSecret && reusable) {
        next = { ...next, secretHash: existing.secretHash, secretSealed: client.authMethod === "client_secret_jwt" ? existing.secretSealed : null, secretExpiresAt: existing.secretExpiresAt };
        state.keptSecret = true;
      }
      await store.put(next);
    },
  };
  return { store: wrapped, state };
}

async function loadClient(c: AppContext): Promise<Client> {
  const client = await d1ClientStore(c.env.DB).get(c.req.param("client_id") ?? "");
  ensure(client !== null, "not_found", "No such client.");
  return client;
}

export const adminClients = new Hono<AppEnv>()
  .get("/", async (c) => {
    const page = await listClients(c.env.DB, d1ClientStore(c.env.DB), pageParams(c));
    return c.json({ clients: page.clients.map((client) => adminClientJson(client)), next: page.next }, 200, NO_STORE);
  })
  .post("/", async (c) => {
    const input = (await jsonObject(c)) as ClientInput;
    ensure(input.client_id === undefined, "invalid_client_metadata", "client_id is assigned by the server; use PUT to choose one.");
    const { client, clientSecret } = await registerClient(registrationDeps(c, d1ClientStore(c.env.DB)), input);
    return c.json(adminClientJson(client, clientSecret), 201, NO_STORE);
  })
  .get("/:client_id", async (c) => c.json(adminClientJson(await loadClient(c)), 200, NO_STORE))
  .put("/:client_id", async (c) => {
    const input = { ...(await jsonObject(c)), client_id: c.req.param("client_id") } as ClientInput;
    const store = d1ClientStore(c.env.DB);
    const existing = await store.get(c.req.param("client_id"));
    const { client, clientSecret } = await registerClient(registrationDeps(c, preserving(store, existing, { keepSecret: false }).store), input);
    clearClientCache();
    return c.json(adminClientJson((await store.get(client.clientId))!, clientSecret), 200, NO_STORE);
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
    const { store, state } = preserving(d1ClientStore(c.env.DB), existing, { keepSecret: patch.client_secret === undefined, ...(disabled !== undefined && { disabled }) });
    const { client, clientSecret } = await registerClient(registrationDeps(c, store), input);
    clearClientCache();
    const stored = (await d1ClientStore(c.env.DB).get(client.clientId))!;
    return c.json(adminClientJson(stored, state.keptSecret ? undefined : clientSecret), 200, NO_STORE);
  })
  .delete("/:client_id", async (c) => {
    const deleted = await deleteClient(c.env.DB, c.req.param("client_id"), c.var.now);
    ensure(deleted, "not_found", "No such client.");
    return c.body(null, 204, NO_STORE);
  })
  .post("/:client_id/secret", async (c) => {
    const deps = { store: d1ClientStore(c.env.DB), encryptionKey: c.env.ENCRYPTION_KEY, now: c.var.now };
    const { client, clientSecret } = await rotateClientSecret(deps, await loadClient(c));
    return c.json(adminClientJson(client, clientSecret), 200, NO_STORE);
  });
