import type { ClientAuthDeps } from "./client-auth/types";
import { metadataDocumentClientStore } from "./clients/metadata-document";
import { cachedClientStore, d1ClientStore, type ClientStore } from "./clients/store";
import { d1ConsentStore, type ConsentStore } from "./consent/store";
import { d1GrantStateStore, type GrantStateStore } from "./consent/grant-state";
import type { Env } from "./env";
import type { GrantServices } from "./grants/grant";
import type { AppContext } from "./http/context";
import { keyring, type Keyring } from "./keys/keyring";
import { d1KeyStore, type KeyStore } from "./keys/store";
import { mailerFrom, type Mailer } from "./mail";
import { durableDeviceRequests, type DeviceRequests } from "./device/requests";
import { durableCibaRequests, type CibaRequests } from "./ciba/requests";
import { durableReplayCache, type ReplayCache } from "./replay/replay-cache";
import { d1SessionStore, type D1SessionStore } from "./sessions/store";
import type { UserStore } from "./users/model";
import { d1UserStore } from "./users/store";
import { durableLoginThrottle, type Throttle } from "./users/throttle";

/**
 * The one place that turns a request's bindings (src/env.ts) into the stores and ports the rest of
 * the code uses. Endpoints and domain modules take what they need from here and never read `c.env`
 * themselves (test/architecture-services.test.ts checks it). The adapters are thin; building them
 * per call is cheap. Only src/app.ts and src/config.ts read the bindings besides this file.
 */

// ── Bindings and secrets, for modules whose functions take them as they are ────────────────────

/** The root secret (src/env.ts ENCRYPTION_KEY): encryption at rest, CSRF tokens, sealed transactions. */
export const encryptionKey = (c: AppContext): string => c.env.ENCRYPTION_KEY;

/** D1, for modules whose functions take the database (token families, registration tokens, listings). */
export const database = (c: AppContext): D1Database => c.env.DB;

/** KV: the access-token revocation list (src/tokens/revocation.ts). */
export const revocationKv = (c: AppContext): KVNamespace => c.env.KV;

/** The operator API's bearer credential; undefined → the admin API is off. */
export const adminToken = (c: AppContext): string | undefined => c.env.ADMIN_TOKEN;

/** Whether the local mail outbox may be shown (SHOW_DEV_OUTBOX, development only). */
export const devOutboxShown = (c: AppContext): boolean => c.env.SHOW_DEV_OUTBOX === "true";

/** Every binding, only to hand a request on to the Worker itself (src/dev/demo-app.tsx). */
export const bindings = (c: AppContext): Env => c.env;

// ── Stores and ports ────────────────────────────────────────────────────────────────────────────

export function replayCache(c: AppContext): ReplayCache {
  return durableReplayCache(c.env.REPLAY_GUARD, c.get("now"));
}

/**
 * Client registrations through the isolate cache (src/clients/store.ts cachedClientStore), and
 * client ID metadata documents (an https URL as client_id, src/clients/metadata-document.ts).
 */
export function clientStore(c: AppContext): ClientStore {
  return cachedClientStore(documentClientStore(c, false), c.get("now"), c.get("config").clientCacheTtl);
}

/** Client registrations, and client ID metadata documents fetched when not fresh (src/clients/metadata-document.ts). */
function documentClientStore(c: AppContext, offline: boolean) {
  return metadataDocumentClientStore(d1ClientStore(c.env.DB), { db: c.env.DB, config: c.get("config"), now: c.get("now"), offline });
}

/**
 * Client registrations read straight from D1, past the isolate cache (operator API, interaction
 * pages); a client ID metadata document's client as last fetched, never fetching (the endpoint
 * that started the interaction resolved it).
 */
export function uncachedClientStore(c: AppContext): ClientStore {
  return documentClientStore(c, true);
}

export function userStore(c: AppContext): UserStore {
  return d1UserStore(c.env.DB);
}

/** Browser sessions, with the configured lifetime. */
export function sessionStore(c: AppContext): D1SessionStore {
  return d1SessionStore(c.env.DB, { ttl: c.get("config").sessionTtl });
}

export function consentStore(c: AppContext): ConsentStore {
  return d1ConsentStore(c.env.DB);
}

/** A person and their consent for one client, in one read. */
export function grantStateStore(c: AppContext): GrantStateStore {
  return d1GrantStateStore(c.env.DB);
}

/** The signing-key rows (operator API); requests sign and verify through `requestKeyring`. */
export function keyStore(c: AppContext): KeyStore {
  return d1KeyStore(c.env.DB);
}

export function requestKeyring(c: AppContext): Promise<Keyring> {
  return keyring(d1KeyStore(c.env.DB), c.env.ENCRYPTION_KEY, c.get("now"));
}

/** Sign-in attempt budgets (per account, per IP) with the configured policy. */
export function loginThrottle(c: AppContext): Throttle {
  return durableLoginThrottle(c.env.LOGIN_THROTTLE, c.get("config").loginThrottle, c.get("now"));
}

/**
 * POST /register budgets (config.registrationLimits; src/registration/limits.ts): scope "register"
 * for the whole server, "register-ip" per network; a limit turned off has no scope.
 */
export function registrationBudget(c: AppContext): Throttle {
  const { ip, global } = c.get("config").registrationLimits;
  return durableLoginThrottle(c.env.LOGIN_THROTTLE, { ...(global && { register: global }), ...(ip && { "register-ip": ip }) }, c.get("now"));
}

/** Sign-up / verification mail budget per address. */
export function signUpMailBudget(c: AppContext): Throttle {
  return durableLoginThrottle(c.env.LOGIN_THROTTLE, { mail: c.get("config").signUpMailThrottle }, c.get("now"));
}

export function mailer(c: AppContext): Mailer {
  return mailerFrom(c.env);
}

// ── What whole subsystems take ───────────────────────────────────────────────────────────────────

export function clientAuthDeps(c: AppContext): ClientAuthDeps {
  const { env } = c;
  return {
    config: c.get("config"),
    clients: clientStore(c),
    replay: replayCache(c),
    encryptionKey: env.ENCRYPTION_KEY,
    now: c.get("now"),
  };
}

export function grantServices(c: AppContext): GrantServices {
  const { env } = c;
  return {
    db: env.DB,
    kv: env.KV,
    grants: d1GrantStateStore(env.DB),
    replay: replayCache(c),
    devices: deviceRequests(c),
    ciba: cibaRequests(c),
    encryptionKey: env.ENCRYPTION_KEY,
  };
}

/** Device authorization requests and their user codes (RFC 8628; src/device/requests.ts). */
export function deviceRequests(c: AppContext): DeviceRequests {
  return durableDeviceRequests(c.env.DEVICE_AUTHORIZATIONS, c.get("now"));
}

/** CIBA authentication requests and their approval page handles (src/ciba/requests.ts). */
export function cibaRequests(c: AppContext): CibaRequests {
  return durableCibaRequests(c.env.CIBA_REQUESTS, c.get("now"));
}
