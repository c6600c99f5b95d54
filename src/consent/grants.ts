import type { Client } from "../clients/model";
import type { ClientStore } from "../clients/store";
import type { Consent, ConsentStore } from "./store";

/** One client a person granted access to: the consent, and the client's registration (null once it is gone). */
export interface GrantedClient {
  consent: Consent;
  client: Client | null;
}

/**
 * Everything a person granted, one entry per client in ConsentStore.listForUser's order, each with
 * its client: what the account page shows the person and the operator API shows the operator.
 */
export async function grantedClients(userId: string, stores: { consents: ConsentStore; clients: ClientStore }): Promise<GrantedClient[]> {
  const consents = await stores.consents.listForUser(userId);
  return Promise.all(consents.map(async (consent) => ({ consent, client: await stores.clients.get(consent.clientId) })));
}
