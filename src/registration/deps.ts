import type { RegisterDeps, RegistrationOrigin } from "../clients/register";
import { clientStore, encryptionKey } from "../services";
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
    store: clientStore(c),
    encryptionKey: encryptionKey(c),
    now,
    allowInsecureUris: config.allowInsecureClientUris,
    origin,
    registrationScopes: config.registrationScopes,
    softwareStatementKeys: config.softwareStatementKeys,
    sectorIdentifierFetch: config.sectorIdentifierFetch,
    clockSkew: config.clockSkew,
    fapi2: config.fapiProfile !== null,
    authorizationDetailsTypes: config.authorizationDetailsTypes,
    ...(origin === "dynamic" && { dynamicSecretTtl: config.dynamicClientSecretTtl }),
  };
}
