import { basic } from "./helpers";
import { deferredWorker } from "./logout-helpers";

/**
 * For the tests of self-registered clients' use (src/registration/usage.ts): a client_credentials
 * token request through the Worker, returned once its after-answer work (the first-use record,
 * `waitUntil`) has finished.
 */
export async function clientCredentials(client: { client_id: string; client_secret?: string }, secret = client.client_secret!): Promise<Response> {
  const worker = deferredWorker();
  const res = await worker.send("/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(client.client_id, secret) },
    body: new URLSearchParams({ grant_type: "client_credentials" }).toString(),
  });
  await worker.settled();
  return res;
}
