import { hashForStorage, timingSafeEqual } from "../../crypto/hash";
import { OAuthError } from "../../errors/oauth-error";
import type { Client } from "../../clients/model";
import type { ClientAuthMethod, ClientAuthRequest, ClientAuthDeps } from "../types";

/**
 * client_secret_basic and client_secret_post (RFC 6749 §2.3.1): the secret is compared, in
 * constant time, as SHA-256 digests against the stored hash. Secrets are ≥ 256-bit random
 * values, so a fast hash is the right tool (no password-stretching needed).
 */
export async function verifySecret(secret: string, client: Client, now: number): Promise<void> {
  const presented = await hashForStorage(secret);
  const ok = client.secretHash !== null && timingSafeEqual(presented, client.secretHash);
  if (!ok) throw new OAuthError("invalid_client_secret");
  if (client.secretExpiresAt !== 0 && client.secretExpiresAt <= now) throw new OAuthError("client_secret_expired");
}

function secretMethod(name: "client_secret_basic" | "client_secret_post", carrier: "basic" | "post"): ClientAuthMethod {
  return {
    name,
    carrier,
    async verify({ presented }: ClientAuthRequest, client: Client, deps: ClientAuthDeps) {
      if (presented.carrier !== carrier) throw new OAuthError("invalid_token_endpoint_auth_method");
      await verifySecret(presented.secret, client, deps.now);
    },
  };
}

export const clientSecretBasic = secretMethod("client_secret_basic", "basic");
export const clientSecretPost = secretMethod("client_secret_post", "post");
