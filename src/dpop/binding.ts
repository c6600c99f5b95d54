import type { TlsClientCert } from "../client-auth/types";
import type { Client } from "../clients/model";
import type { Config } from "../config";
import { base64url } from "../crypto/encoding";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { ReplayCache } from "../replay/replay-cache";
import { confirmationOf, type Confirmation, type SenderConstraint } from "../tokens/minter";
import type { NonceDeps } from "./nonce";
import { dpopAlgsFor } from "../profiles/fapi2";
import { validateProof, type ProofDeps, type ProofErrors } from "./proof";

/**
 * What binds a client's tokens to it (RFC 9449 DPoP, RFC 8705 §3 certificates), decided from the
 * client's metadata and the request; and the checks of a presented binding against a stored one.
 *
 * Client metadata (RFC 7591 §2, kept in `metadata`):
 * - `dpop_bound_access_tokens` (RFC 9449 §5.2): true → every token request needs a proof;
 * - `dpop_nonce_required` (ours): true → this client's proofs need a server nonce, as
 *   DPOP_NONCE_REQUIRED does for every client;
 * - `tls_client_certificate_bound_access_tokens` (RFC 8705 §3.4): true → tokens are bound to the
 *   TLS client certificate of the request (cnf.x5t#S256), unless a DPoP proof binds them.
 */
export const SENDER_CONSTRAINT_METADATA = ["dpop_bound_access_tokens", "dpop_nonce_required", "tls_client_certificate_bound_access_tokens"] as const;

/** Whether proofs of `client` (or of anyone, without one) need a server nonce. */
export const nonceRequired = (config: Config, client: Client | undefined): boolean =>
  config.dpopNonceRequired || client?.metadata.dpop_nonce_required === true;

/** The error codes of the token endpoint (400) and of UserInfo (401 challenges). */
export const TOKEN_ENDPOINT_PROOF_ERRORS: ProofErrors = { invalid: "invalid_dpop_proof", nonce: "use_dpop_nonce", replayed: "dpop_proof_replayed" };
export const RESOURCE_PROOF_ERRORS: ProofErrors = { invalid: "resource_dpop_proof_invalid", nonce: "resource_use_dpop_nonce", replayed: "resource_dpop_proof_replayed" };

export function proofDeps(config: Config, deps: { now: number; encryptionKey: string; replay: ReplayCache }, errors: ProofErrors): ProofDeps {
  return { now: deps.now, skew: config.clockSkew, maxAge: config.dpopProofMaxAge, nonce: nonceDeps(config, deps), replay: deps.replay, errors };
}

export const nonceDeps = (config: Config, deps: { now: number; encryptionKey: string }): NonceDeps =>
  ({ encryptionKey: deps.encryptionKey, now: deps.now, window: config.dpopNonceWindow });

/**
 * The DPoP proof of a request to an endpoint of this server that takes one from a client (the
 * token endpoint, §5; the pushed authorization request endpoint, §10.1): validated as §4.3 says
 * (htm and htu this request's, its jti spent, the server nonce when the client's or the server's
 * setting requires one), answered with the token endpoint's 400 codes. The proof key's
 * thumbprint, or undefined when the request has no `DPoP` header.
 */
export async function clientRequestProofKey(
  request: Request,
  client: Client,
  config: Config,
  deps: { now: number; encryptionKey: string; replay: ReplayCache },
): Promise<string | undefined> {
  const header = request.headers.get("dpop");
  if (header === null) return undefined;
  const proof = await validateProof(
    { header, method: request.method, url: request.url, nonceRequired: nonceRequired(config, client), algs: dpopAlgsFor(config, client) },
    proofDeps(config, deps, TOKEN_ENDPOINT_PROOF_ERRORS),
  );
  return proof.jkt;
}

/** The TLS client certificate data Cloudflare's edge attaches to a request (request.cf is materialized on access). */
export const tlsClientAuthOf = (request: Request): TlsClientCert | undefined =>
  (request.cf as IncomingRequestCfProperties | undefined)?.tlsClientAuth;

/**
 * The SHA-256 thumbprint of a presented TLS client certificate as `x5t#S256` (RFC 8705 §3.1:
 * base64url of the DER's SHA-256), from Cloudflare's hex `certFingerprintSHA256`; undefined when
 * no certificate was presented (or it is known revoked).
 */
export function certificateThumbprint(tls: TlsClientCert | undefined): string | undefined {
  if (tls === undefined || tls.certPresented !== "1" || tls.certRevoked === "1") return undefined;
  const fingerprint = tls.certFingerprintSHA256;
  if (typeof fingerprint !== "string" || !/^[0-9A-Fa-f]{64}$/.test(fingerprint)) return undefined;
  return base64url(Uint8Array.from(fingerprint.match(/../g)!, (byte) => parseInt(byte, 16)));
}

/**
 * RFC 8705 §3: the certificate binding of a token request without a DPoP proof, for a client that
 * registered `tls_client_certificate_bound_access_tokens` (a confidential client authenticated by
 * mTLS, or a public client presenting a certificate); undefined for other clients.
 */
export function certificateBinding(client: Client, tls: TlsClientCert | undefined): SenderConstraint | undefined {
  if (client.metadata.tls_client_certificate_bound_access_tokens !== true) return undefined;
  const x5tS256 = certificateThumbprint(tls);
  ensure(x5tS256 !== undefined, "tls_binding_certificate_missing");
  return { method: "mtls", x5tS256 };
}

/**
 * A grant bound to a key (a public client's refresh token, RFC 9449 §5; a code with `dpop_jkt`,
 * §10) is used only with a proof of that key: the request's binding must confirm the same key.
 */
export function ensureSameKey(bound: Confirmation, presented: SenderConstraint | undefined, what: string): void {
  if (presented !== undefined) {
    const cnf = confirmationOf(presented) as Record<string, string>;
    const stored = bound as Record<string, string>;
    if (Object.keys(stored).every((member) => cnf[member] === stored[member])) return;
  }
  throw new OAuthError("sender_key_mismatch", `${what} is bound to a key; the request must prove possession of that key.`);
}
