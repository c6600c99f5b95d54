import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import { seal } from "../crypto/aead";
import { SERVER_SIGNING_ALGS, type SigningAlg } from "./algorithms";
import { invalidateKeyring } from "./keyring";
import type { KeyStore, SigningKeyRow } from "./store";

/**
 * Operator path: make sure every server algorithm has a current signing key. Called by the admin
 * API (`POST /admin/keys`), by `npm run dev`'s seeding and by test setup — never by a request that
 * needs a key. Returns the kids it created.
 */
export async function ensureSigningKeys(
  store: KeyStore,
  encryptionKey: string,
  now: number,
  algs: readonly SigningAlg[] = SERVER_SIGNING_ALGS,
): Promise<string[]> {
  const existing = await store.published(now);
  const created: string[] = [];
  for (const alg of algs) {
    if (existing.some((row) => row.alg === alg && row.state === "current")) continue;
    created.push(await createSigningKey(store, encryptionKey, now, alg, "current"));
  }
  if (created.length) invalidateKeyring();
  return created;
}

export async function createSigningKey(
  store: KeyStore,
  encryptionKey: string,
  now: number,
  alg: SigningAlg,
  state: "next" | "current",
): Promise<string> {
  const row = await newSigningKey(encryptionKey, now, alg, state);
  await store.insert(row);
  return row.kid;
}

/** Generates a key pair for `alg` and returns its row (private JWK sealed, kid = RFC 7638 thumbprint), not yet stored. */
export async function newSigningKey(encryptionKey: string, now: number, alg: SigningAlg, state: "next" | "current"): Promise<SigningKeyRow> {
  const options = alg === "RS256" ? { modulusLength: 2048, extractable: true } : { extractable: true };
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const publicJwk: JWK = await exportJWK(publicKey);
  const privateJwk: JWK = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  return {
    kid,
    alg,
    state,
    public_jwk: JSON.stringify(publicJwk),
    private_jwk_sealed: await seal(encryptionKey, "signing-key", kid, JSON.stringify(privateJwk)),
    created_at: now,
    activated_at: state === "current" ? now : null,
    retired_at: null,
    expires_at: null,
  };
}
