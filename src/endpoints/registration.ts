import { Hono } from "hono";
import { selfRegisteredMetadata } from "../clients/metadata";
import type { Client } from "../clients/model";
import { validateClientMetadata } from "../clients/register";
import { saveRegistration } from "../clients/register-save";
import { deleteClient } from "../clients/lifecycle";
import type { Config } from "../config";
import { randomToken } from "../crypto/encoding";
import { hashForStorage, timingSafeEqual } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import { log } from "../log";
import { NO_STORE, type AppContext, type AppEnv, type Step } from "../http/context";
import { registrationDeps } from "../registration/deps";
import { underFapi2 } from "../profiles/fapi2";
import { checkInitialAccessToken, useInitialAccessToken } from "../registration/initial-access-token";
import { isRegistrationToken, issueRegistrationToken, revokeRegistrationToken } from "../registration/registration-token";
import { limitRegistrations } from "../registration/limits";
import { bearerCredential, readJsonObject } from "../registration/request";
import { recordRegistration } from "../registration/usage";
import { database, uncachedClientStore } from "../services";

/**
 * Dynamic client registration (RFC 7591; OpenID Connect Dynamic Client Registration 1.0) and
 * client management (RFC 7592), mounted at /register:
 *
 *   POST   /register              metadata (JSON) → 201 the registration, with client_id,
 *                                 client_secret (when the method uses one), registration_access_token
 *                                 and registration_client_uri
 *   GET    /register/{client_id}  → 200 the current registration          (RFC 7592 §2.1)
 *   PUT    /register/{client_id}  metadata (JSON) → 200 the new one        (RFC 7592 §2.2)
 *   DELETE /register/{client_id}  → 204; the client, its consents and refresh tokens are gone (§2.3)
 *
 * Who may register is config.registrationPolicy: "open", or "initial_access_token" (the default):
 * `Authorization: Bearer <initial access token>`, made by the operator (src/registration/
 * initial-access-token.ts), each with an optional expiry and number of uses. A missing or bad one
 * is 401 invalid_token with a Bearer challenge. Then a unit of the per-network and global hourly
 * budgets is taken (src/registration/limits.ts; 429 registration_rate_limited beyond them), and
 * the client is recorded as self-registered (src/registration/usage.ts): maintenance removes it
 * if no token is issued to it within config.unusedClientTtl. A secret it is issued expires after
 * config.dynamicClientSecretTtl (default never; RFC 7591 §3.2.1 client_secret_expires_at). Management needs `Authorization: Bearer
 * <registration_access_token>`; a missing or wrong one is 401 invalid_token whether or not the
 * client exists (never 404, OIDC Registration §4.4), and so is a client the operator disabled.
 *
 * Metadata is validated by the one validator the operator API also uses (src/clients/register.ts),
 * as a "dynamic" registration: the operator-only extensions (first_party, allow_plain_pkce,
 * plain_oauth2, allowed_cors_origins, a chosen client_id or client_secret) are unknown members here
 * and ignored, and `scope` is limited to the OpenID Connect scopes plus config.registrationScopes.
 *
 * PUT is a full replacement: an omitted member returns to its default. Further rules:
 * - `client_id` must be present and equal the client's (else invalid_request).
 * - `registration_access_token`, `registration_client_uri`, `client_secret_expires_at` and
 *   `client_id_issued_at` may be sent back as the server gave them (clients often PUT what GET
 *   returned) and are then ignored; a different value is invalid_request (they cannot be changed).
 * - `client_secret` may be omitted or sent as the current secret (checked against the stored hash);
 *   any other value is invalid_request. The secret is kept across PUTs.
 * - Extension: `"rotate_client_secret": true` issues a new secret, returned once in the response;
 *   the old one stops working at once (after the client cache time in other isolates, 30 s).
 * - The registration access token stays the same; the response repeats it.
 * - Operator-only settings and the disabled flag are kept.
 *
 * Secrets are shown once: GET never returns client_secret (only its hash is stored).
 */

/** Where a client manages its registration (RFC 7592 §3 registration_client_uri). */
export const registrationClientUri = (config: Config, clientId: string): string =>
  `${config.issuer}/register/${encodeURIComponent(clientId)}`;

/** The registration response (RFC 7591 §3.2.1, RFC 7592 §3). */
function registrationResponse(c: AppContext, client: Client, token: string, clientSecret: string | undefined) {
  return {
    ...selfRegisteredMetadata(client),
    ...(clientSecret !== undefined && { client_secret: clientSecret }),
    registration_access_token: token,
    registration_client_uri: registrationClientUri(c.get("config"), client.clientId),
  };
}

// ── steps ────────────────────────────────────────────────────────────────────────────────────

/** RFC 7591 §3: open registration, or a Bearer initial access token that is known, unexpired and not used up. */
export const requireInitialAccessToken: Step = async function requireInitialAccessToken(c, next) {
  if (c.get("config").registrationPolicy === "initial_access_token") {
    const token = bearerCredential(c.req.header("authorization"));
    ensure(token !== undefined, "initial_access_token_missing");
    c.set("initialAccessTokenHash", await checkInitialAccessToken(database(c), token, c.get("now")));
  }
  await next();
};

/** RFC 7591 §3.1: one JSON object, application/json. */
export const readRegistrationBody: Step = async function readRegistrationBody(c, next) {
  c.set("registrationBody", await readJsonObject(c.req.raw, c.get("config").maxBodyBytes));
  await next();
};

/**
 * RFC 7591 §3.2: validate, store, count the initial access token's use, answer 201. The use is
 * counted last, so a registration that fails on the way (D1 fails) spends none of a token that may
 * allow one: the registrant retries with it (docs/storage.md). Should counting fail — the token
 * was used up by a racing registration, or D1 fails — the client just stored goes again; were that
 * to fail too, the client left behind was never answered, so nobody holds its id or secret.
 */
export const registerNewClient: Step = async function registerNewClient(c) {
  const deps = registrationDeps(c, "dynamic");
  const now = c.get("now");
  const valid = await validateClientMetadata(c.get("registrationBody"), deps);
  const clientId = randomToken(16);
  // The token first: should storing the client fail, an orphan token names no client and opens nothing.
  const token = await issueRegistrationToken(database(c), clientId, now);
  // Its row next (src/registration/usage.ts): a client stored without one would never be counted as unused.
  await recordRegistration(database(c), clientId, c.req.raw, now);
  const { client, clientSecret } = await saveRegistration(deps, valid, { clientId, existing: null });
  const hash = c.get("initialAccessTokenHash");
  if (hash !== undefined) {
    await useInitialAccessToken(database(c), hash, now).catch(async (error: unknown) => {
      await deleteClient(database(c), clientId, now).catch((cause: unknown) =>
        log("warn", "registration_undo_failed", { client_id: clientId, message: String(cause).slice(0, 200) }));
      throw error;
    });
  }
  return c.json(registrationResponse(c, client, token, clientSecret), 201, NO_STORE);
};

/**
 * RFC 7592 §2: the Bearer registration access token must be this client's. Unknown client, wrong
 * token, no token and a disabled client all look the same (401). A token whose client is gone
 * (deleted by the operator) is revoked on sight (§2).
 */
export const requireRegistrationToken: Step = async function requireRegistrationToken(c, next) {
  const token = bearerCredential(c.req.header("authorization"));
  ensure(token !== undefined, "registration_access_token_missing");
  const clientId = c.req.param("client_id") ?? "";
  const valid = await isRegistrationToken(database(c), clientId, token);
  const client = valid ? await uncachedClientStore(c).get(clientId) : null;
  if (valid && client === null) await revokeRegistrationToken(database(c), clientId);
  ensure(client !== null && !client.disabled, "registration_access_token_invalid");
  c.set("managedClient", client);
  c.set("registrationAccessToken", token);
  await next();
};

/** RFC 7592 §2.1. */
export const readRegistration: Step = async function readRegistration(c) {
  return c.json(registrationResponse(c, c.get("managedClient"), c.get("registrationAccessToken"), undefined), 200, NO_STORE);
};

/** RFC 7592 §2.2: full replacement, with the rules in this file's header. */
export const replaceRegistration: Step = async function replaceRegistration(c) {
  const current = c.get("managedClient");
  const {
    client_id, client_secret, rotate_client_secret,
    registration_access_token, registration_client_uri, client_secret_expires_at, client_id_issued_at,
    ...metadata
  } = c.get("registrationBody");
  ensure(client_id === current.clientId, "registration_client_id_mismatch");
  const unchanged: Record<string, [unknown, unknown]> = {
    registration_access_token: [registration_access_token, c.get("registrationAccessToken")],
    registration_client_uri: [registration_client_uri, registrationClientUri(c.get("config"), current.clientId)],
    client_secret_expires_at: [client_secret_expires_at, current.secretHash === null ? undefined : current.secretExpiresAt],
    client_id_issued_at: [client_id_issued_at, current.createdAt],
  };
  for (const [member, [sent, actual]] of Object.entries(unchanged)) {
    ensure(sent === undefined || sent === null || sent === actual, "registration_read_only_field", `${member} cannot be changed.`);
  }
  let currentSecret: string | undefined;
  if (client_secret !== undefined && client_secret !== null) {
    const matches = typeof client_secret === "string" && current.secretHash !== null &&
      timingSafeEqual(await hashForStorage(client_secret), current.secretHash);
    ensure(matches, "registration_client_secret_mismatch");
    currentSecret = client_secret;
  }
  ensure(rotate_client_secret === undefined || typeof rotate_client_secret === "boolean", "registration_body_malformed",
    "rotate_client_secret must be true or false.");

  // A client its operator put under FAPI 2.0 stays under it when it replaces its registration.
  const deps = { ...registrationDeps(c, "dynamic"), fapi2: underFapi2(c.get("config"), current) };
  const valid = await validateClientMetadata(metadata, deps);
  const { client, clientSecret } = await saveRegistration(deps, valid, {
    clientId: current.clientId,
    existing: current,
    secret: rotate_client_secret === true ? "rotate" : "keep",
    ...(currentSecret !== undefined && { currentSecret }),
  });
  return c.json(registrationResponse(c, client, c.get("registrationAccessToken"), clientSecret), 200, NO_STORE);
};

/**
 * RFC 7592 §2.3: 204. The client goes with everything granted to it and its registration access
 * token, in one D1 batch, exactly as when the operator deletes it (src/clients/lifecycle.ts
 * deleteClient): consents, so UserInfo refuses its access tokens at once; refresh tokens and their
 * families; CORS origins. Access tokens verified locally by resource servers stay valid until they
 * expire (config.accessTokenTtl, 600 s).
 */
export const deleteRegistration: Step = async function deleteRegistration(c) {
  await deleteClient(database(c), c.get("managedClient").clientId, c.get("now"));
  return c.body(null, 204, NO_STORE);
};

const methodNotAllowed = (allow: string): Step =>
  async function registrationMethodNotAllowed() {
    throw new OAuthError("method_not_allowed", `Allowed here: ${allow}.`, { headers: { allow } });
  };

export const registerEndpoint = [requireInitialAccessToken, limitRegistrations, readRegistrationBody, registerNewClient] as const;
export const readEndpoint = [requireRegistrationToken, readRegistration] as const;
export const updateEndpoint = [requireRegistrationToken, readRegistrationBody, replaceRegistration] as const;
export const deleteEndpoint = [requireRegistrationToken, deleteRegistration] as const;

/** The routes, for `app.route("/register", registration)`. */
export const registration = new Hono<AppEnv>()
  .post("/", ...registerEndpoint)
  .all("/", methodNotAllowed("POST"))
  .get("/:client_id", ...readEndpoint)
  .put("/:client_id", ...updateEndpoint)
  .delete("/:client_id", ...deleteEndpoint)
  .all("/:client_id", methodNotAllowed("GET, PUT, DELETE"));
