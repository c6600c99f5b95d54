import { Hono } from "hono";
import { clientMetadata } from "../clients/metadata";
import { registerClient, type ClientInput } from "../clients/register";
import { d1ClientStore } from "../clients/store";
import { sha256, timingSafeEqual } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import { NO_STORE, type AppContext, type AppEnv, type Step } from "../http/context";
import { ensureSigningKeys } from "../keys/provision";
import { d1KeyStore } from "../keys/store";
import { adminUsers } from "./admin-users";

/**
 * The operator API (under /admin), protected by the ADMIN_TOKEN secret. It is the one code path
 * for provisioning: `npm run dev` seeds the demo through it, and deployments create keys and
 * clients with it. When ADMIN_TOKEN is unset the API does not exist (404).
 */
export const requireOperator: Step = async function requireOperator(c, next) {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new OAuthError("not_found");
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
  const ok = match !== null && timingSafeEqual(await sha256(match[1]!), await sha256(expected));
  ensure(ok, "invalid_token", "A valid operator token is required.");
  await next();
};

async function jsonBody(c: AppContext): Promise<ClientInput> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new OAuthError("invalid_request", "The body must be a JSON object.");
  }
  ensure(body !== null && typeof body === "object" && !Array.isArray(body), "invalid_request", "The body must be a JSON object.");
  return body as ClientInput;
}

function registrationDeps(c: AppContext) {
  return {
    store: d1ClientStore(c.env.DB),
    encryptionKey: c.env.ENCRYPTION_KEY,
    now: c.var.now,
    allowInsecureUris: c.var.config.allowInsecureClientUris,
  };
}

export const admin = new Hono<AppEnv>()
  .use("*", requireOperator)
  .post("/keys", async (c) => {
    const created = await ensureSigningKeys(d1KeyStore(c.env.DB), c.env.ENCRYPTION_KEY, c.var.now);
    return c.json({ created }, 200, NO_STORE);
  })
  .post("/clients", async (c) => {
    const input = await jsonBody(c);
    ensure(input.client_id === undefined, "invalid_client_metadata", "client_id is assigned by the server; use PUT to choose one.");
    const { client, clientSecret } = await registerClient(registrationDeps(c), input);
    return c.json({ ...clientMetadata(client), ...(clientSecret && { client_secret: clientSecret }) }, 201, NO_STORE);
  })
  .put("/clients/:client_id", async (c) => {
    const input = { ...(await jsonBody(c)), client_id: c.req.param("client_id") };
    const { client, clientSecret } = await registerClient(registrationDeps(c), input);
    return c.json({ ...clientMetadata(client), ...(clientSecret && { client_secret: clientSecret }) }, 200, NO_STORE);
  })
  .get("/clients/:client_id", async (c) => {
    const client = await d1ClientStore(c.env.DB).get(c.req.param("client_id"));
    ensure(client !== null, "not_found", "No such client.");
    return c.json(clientMetadata(client), 200, NO_STORE);
  })
  .route("/users", adminUsers);
