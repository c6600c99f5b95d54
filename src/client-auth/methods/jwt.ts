import type { Client } from "../../clients/model";
import { HMAC_ASSERTION_ALGS, isAsymmetricAlg, isHmacAlg } from "../../keys/algorithms";
import { open } from "../../crypto/aead";
import { utf8 } from "../../crypto/encoding";
import { OAuthError, ensure } from "../../errors/oauth-error";
import { verifyAssertion } from "../assertion";
import { clientVerificationKey } from "../client-keys";
import type { ClientAuthMethod, ClientAuthRequest, Presented } from "../types";

type AssertionPresented = Extract<Presented, { carrier: "assertion" }>;

/** The assertion, once its alg is of the method's family and is the client's registered one (if any). */
function assertionFor(
  { presented }: ClientAuthRequest,
  client: Client,
  family: (alg: string) => boolean,
  familyName: string,
): AssertionPresented & { header: { alg: string } } {
  if (presented.carrier !== "assertion") throw new OAuthError("invalid_token_endpoint_auth_method");
  const alg = presented.header.alg ?? "";
  ensure(family(alg), "client_assertion_invalid_signature_algorithm",
    `${client.authMethod} clients must sign assertions with ${familyName}.`);
  ensure(client.authSigningAlg === null || client.authSigningAlg === alg, "client_assertion_invalid_signature_algorithm",
    `This client is registered for ${client.authSigningAlg} assertions.`);
  return presented as AssertionPresented & { header: { alg: string } };
}

/** client_secret_jwt (OIDC Core §9): an HMAC assertion keyed with the UTF-8 octets of the client secret. */
export const clientSecretJwt: ClientAuthMethod = {
  name: "client_secret_jwt",
  carrier: "assertion",
  async verify(request, client, deps) {
    const presented = assertionFor(request, client, isHmacAlg, "HS256, HS384 or HS512");
    const alg = presented.header.alg as keyof typeof HMAC_ASSERTION_ALGS;
    ensure(client.secretSealed !== null, "client_assertion_invalid_no_secret");
    if (client.secretExpiresAt !== 0 && client.secretExpiresAt <= deps.now) throw new OAuthError("client_secret_expired");
    const secret = utf8(await open(deps.encryptionKey, "client-secret", client.clientId, client.secretSealed));
    ensure(secret.byteLength >= HMAC_ASSERTION_ALGS[alg], "client_assertion_invalid_secret_length",
      `${alg} needs a secret of at least ${HMAC_ASSERTION_ALGS[alg]} bytes.`);
    const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: `SHA-${alg.slice(2)}` }, false, ["verify"]);
    await verifyAssertion(presented, client, key, request.audience, deps);
  },
};

/**
 * private_key_jwt (RFC 7523 §2.2, OIDC Core §9): an asymmetric assertion verified with a key the
 * client registered (`jwks` or `jwks_uri`). HMAC algs are refused here, so a public key can never
 * be used as an HMAC secret (RFC 8725 §2.1 algorithm confusion).
 */
export const privateKeyJwt: ClientAuthMethod = {
  name: "private_key_jwt",
  carrier: "assertion",
  async verify(request, client, deps) {
    const presented = assertionFor(request, client, isAsymmetricAlg, "an asymmetric algorithm");
    const key = await clientVerificationKey(client, presented.header, deps);
    await verifyAssertion(presented, client, key, request.audience, deps);
  },
};
