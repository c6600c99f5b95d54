import type { RegisterDeps, RegistrationOrigin } from "../clients/register";
import { cachedClientStore, d1ClientStore } from "../clients/store";
import type { AppContext } from "../http/context";

/**
 * What client registration needs from a request: storage and the registration settings. The
 * client store is the cached one, so a change drops this isolate's cached copy at once (others
 * follow within config.clientCacheTtl).
 */
export function registrationDeps(c: AppContext, origin: RegistrationOrigin): RegisterDeps {
  const config = c.get("config");
  const now = c.get("now");
  return {
    store: cachedClientStore(d1ClientStore(c.env.DB), now, config.clientCacheTtl),
    encryptionKey: c.env.ENCRYPTION_KEY,
    now,
    allowInsecureUris: config.allowInsecureClientUris,
    origin,
    registrationScopes: config.registrationScopes,
    softwareStatementKeys: config.softwareStatementKeys,
    sectorIdentifierFetch: config.sectorIdentifierFetch,
    clockSkew: config.clockSkew,
  };
}
