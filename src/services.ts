import type { ClientAuthDeps } from "./client-auth/types";
import { d1ClientStore } from "./clients/store";
import type { AppContext } from "./http/context";
import { keyring, type Keyring } from "./keys/keyring";
import { d1KeyStore } from "./keys/store";
import { durableReplayCache } from "./replay/replay-cache";

/** Wires the storage ports to this request's bindings. The adapters are thin; building them is cheap. */
export function clientAuthDeps(c: AppContext): ClientAuthDeps {
  const { env, var: v } = c;
  return {
    config: v.config,
    clients: d1ClientStore(env.DB),
    replay: durableReplayCache(env.REPLAY_GUARD, env.KV, v.now, (work) => c.executionCtx.waitUntil(work)),
    encryptionKey: env.ENCRYPTION_KEY,
    now: v.now,
  };
}

export function requestKeyring(c: AppContext): Promise<Keyring> {
  return keyring(d1KeyStore(c.env.DB), c.env.ENCRYPTION_KEY, c.var.now);
}
