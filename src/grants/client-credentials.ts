import { mintTokens } from "../tokens/minter";
import type { Grant } from "./grant";
import { grantableScope, parseScope } from "./scope";

/**
 * client_credentials (RFC 6749 §4.4): a confidential client gets an access token for itself.
 * No refresh token (§4.4.3). `sub` is the client_id (RFC 9068 §2.2). A client cannot make that
 * equal a person's `sub` (RFC 9700 §4.15): self-registered clients get server-issued ids (128
 * random bits, src/clients/register-save.ts), and only the operator may choose a client_id (the
 * admin API), where it is the operator's care not to reuse a person's id (also 128 random bits).
 */
export const clientCredentials: Grant = {
  type: "client_credentials",
  allowPublic: false,
  async handle({ params, client: { client }, config, keys, now, services, binding }) {
    const scope = grantableScope(parseScope(params.get("scope")), client.scope);
    const { response } = await mintTokens({ client, subject: client.clientId, scope, ...(binding !== undefined && { binding }) }, { config, keys, now, db: services.db });
    return response;
  },
};
