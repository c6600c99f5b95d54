import type { ClientAuthDeps } from "./client-auth/types";
import { cachedClientStore, d1ClientStore, type ClientStore } from "./clients/store";
import type { AppContext } from "./http/context";
import { keyring, type Keyring } from "./keys/keyring";
import { d1KeyStore } from "./keys/store";
import { durableReplayCache, type ReplayCache } from "./replay/replay-cache";
import { d1GrantStateStore } from "./consent/grant-state";
import type { GrantServices } from "./grants/grant";

/** Wires the storage ports to this request's bindings. The adapters are thin; building them is cheap. */
export function replayCache(c: AppContext): ReplayCache {
  return durableReplayCache(c.env.REPLAY_GUARD, c.get("now"));
}

/** Client registrations through the isolate cache (src/clients/store.ts cachedClientStore). */
export function clientStore(c: AppContext): ClientStore {
  return cachedClientStore(d1ClientStore(c.env.DB), c.get("now"), c.get("config").clientCacheTtl);
}

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
    encryptionKey: env.ENCRYPTION_KEY,
  };
}

export function requestKeyring(c: AppContext): Promise<Keyring> {
  return keyring(d1KeyStore(c.env.DB), c.env.ENCRYPTION_KEY, c.get("now"));
}
