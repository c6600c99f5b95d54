import { importJWK, type JWK } from "jose";
import { open } from "../crypto/aead";
import type { SigningAlg } from "./algorithms";
import type { KeyStore, SigningKeyRow } from "./store";

/**
 * The isolate's view of the signing keys. Loaded from D1 at most once per `REFRESH_SECONDS` per
 * isolate (single-flight), private keys decrypted and imported only when first used to sign. No
 * request ever generates a key: keys are provisioned by the operator path (src/keys/provision.ts).
 */
/** A current signing key, made once per keyring load; never changed (signJwt caches its encoded header). */
export interface Signer {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly key: CryptoKey;
}

export interface Keyring {
  /** The public JWK Set (RFC 7517 §5), serialized once per load. */
  readonly jwksJson: string;
  /** The current signing key for `alg`; throws if none is provisioned. */
  signer(alg: SigningAlg): Promise<Signer>;
  /** The public key with this `kid` (any published state), for verifying our own tokens. */
  verifier(kid: string): Promise<{ alg: SigningAlg; key: CryptoKey } | undefined>;
}

const REFRESH_SECONDS = 60;
let cached: { loadedAt: number; ring: Promise<Keyring> } | undefined;

export function invalidateKeyring(): void {
  cached = undefined;
}

export function keyring(store: KeyStore, encryptionKey: string, now: number): Promise<Keyring> {
  if (!cached || now - cached.loadedAt >= REFRESH_SECONDS) {
    const ring = load(store, encryptionKey, now);
    cached = { loadedAt: now, ring };
    ring.catch(() => {
      if (cached?.ring === ring) cached = undefined;
    });
  }
  return cached.ring;
}

async function load(store: KeyStore, encryptionKey: string, now: number): Promise<Keyring> {
  const rows = await store.published(now);
  const keys: JWK[] = rows.map((row) => ({ ...(JSON.parse(row.public_jwk) as JWK), kid: row.kid, alg: row.alg, use: "sig" }));
  const current = new Map<SigningAlg, SigningKeyRow>();
  for (const row of rows) if (row.state === "current") current.set(row.alg, row);
  const signers = new Map<SigningAlg, Promise<Signer>>();
  const verifiers = new Map<string, Promise<{ alg: SigningAlg; key: CryptoKey }>>();
  const byKid = new Map(rows.map((row) => [row.kid, row]));
  return {
    jwksJson: JSON.stringify({ keys }),
    signer(alg) {
      let signer = signers.get(alg);
      if (!signer) {
        const row = current.get(alg);
        if (!row) return Promise.reject(new Error(`no current ${alg} signing key is provisioned`));
        signer = (async () => {
          const jwk = JSON.parse(await open(encryptionKey, "signing-key", row.kid, row.private_jwk_sealed)) as JWK;
          const key = (await importJWK(jwk, row.alg)) as CryptoKey;
          return { kid: row.kid, alg: row.alg, key };
        })();
        signers.set(alg, signer);
      }
      return signer;
    },
    verifier(kid) {
      const row = byKid.get(kid);
      if (!row) return Promise.resolve(undefined);
      let verifier = verifiers.get(kid);
      if (!verifier) {
        verifier = (importJWK(JSON.parse(row.public_jwk) as JWK, row.alg) as Promise<CryptoKey>).then((key) => ({ alg: row.alg, key }));
        verifiers.set(kid, verifier);
      }
      return verifier;
    },
  };
}
