import { mintTokens } from "../tokens/minter";
import type { Grant } from "./grant";
import { grantableScope, parseScope } from "./scope";
import { ensureResourcesAllowed, resourceValues } from "../authorize/resource";
import type { Client } from "../clients/model";
import type { Config } from "../config";
import { ensure } from "../errors/oauth-error";
import type { Params } from "../http/form";

/**
 * client_credentials (RFC 6749 §4.4): a confidential client gets an access token for itself.
 * No refresh token (§4.4.3). `sub` is the client_id (RFC 9068 §2.2). A client cannot make that
 * equal a person's `sub` (RFC 9700 §4.15): self-registered clients get server-issued ids (128
 * random bits, src/clients/register-save.ts), and only the operator may choose a client_id (the
 * admin API), where it is the operator's care not to reuse a person's id (also 128 random bits).
 */
/**
 * RFC 8707 §2: the one resource a client-credentials token is for — a resource server the operator
 * lists and the client may have — or undefined (the configured default audience) when none is named.
 */
function clientResource(params: Params, client: Client, config: Config): string | undefined {
  const resources = resourceValues(params);
  if (resources === undefined) return undefined;
  ensure(resources.length === 1, "resource_one_per_token");
  ensureResourcesAllowed(resources, client, config);
  return resources[0];
}

export const clientCredentials: Grant = {
  type: "client_credentials",
  allowPublic: false,
  async handle({ params, client: { client }, config, keys, now, services, binding }) {
    const scope = grantableScope(parseScope(params.get("scope")), client.scope);
    const audience = clientResource(params, client, config);
    const { response } = await mintTokens(
      { client, subject: client.clientId, scope, ...(binding !== undefined && { binding }), ...(audience !== undefined && { audience }) },
      { config, keys, now, db: services.db },
    );
    return response;
  },
};
