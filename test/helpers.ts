import { env, exports } from "cloudflare:workers";
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";
import { expect } from "vitest";
import type { UserClaims } from "../src/users/model";

export const ISSUER = "https://latchkey.test";
export const TOKEN_ENDPOINT = `${ISSUER}/token`;
export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Sends a request to the Worker under test (its real fetch handler, in workerd). */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(new URL(path, ISSUER), init));
}

/** A token request with a form body; extra headers (Authorization …) as given. */
export function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return call("/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** RFC 6749 Appendix B: form-encode id and secret, then base64 `id:secret`. */
export function basic(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  const bytes = new TextEncoder().encode(`${enc(clientId)}:${enc(secret)}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

let counter = 0;
export const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** Registers a client through the operator API, as an operator (or npm run dev) would. */
export async function createClient(input: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string } & Record<string, unknown>> {
  const id = (input.client_id as string | undefined) ?? uniqueId("client");
  const res = await call(`/admin/clients/${encodeURIComponent(id)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ grant_types: ["client_credentials"], scope: "read write", ...input, client_id: undefined }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

export interface KeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function keyPair(alg: string, kid?: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  if (kid) publicJwk.kid = kid;
  return { privateKey, publicJwk };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A client assertion (RFC 7523 §3) with sensible defaults; any claim or header may be overridden (undefined removes it). */
export async function assertion(
  clientId: string,
  key: CryptoKey | Uint8Array,
  opts: { alg?: string; header?: Record<string, unknown>; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const now = nowSeconds();
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    iat: now,
    exp: now + 60,
    jti: crypto.randomUUID(),
    ...opts.claims,
  };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  return new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? "ES256", ...opts.header } as never).sign(key);
}

/** Every error response: JSON, no-store, the catalog's error and code, only RFC 6749 §5.2 characters. */
export async function expectError(res: Response, status: number, error: string, code?: string): Promise<Record<string, string>> {
  const body = (await res.json()) as Record<string, string>;
  expect({ status: res.status, error: body.error, code: body.error_code }).toEqual({ status, error, code: code ?? body.error_code });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("pragma")).toBe("no-cache");
  for (const text of [body.error, body.error_description]) expect(text).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
  return body;
}

/** A person with every standard claim (OIDC Core §5.1), for the UserInfo and scope tests. */
export const FULL_CLAIMS = {
  name: "Ada Lovelace",
  given_name: "Ada",
  family_name: "Lovelace",
  middle_name: "Augusta",
  nickname: "Ada",
  preferred_username: "ada",
  profile: "https://example.com/ada",
  picture: "https://example.com/ada.png",
  website: "https://ada.example",
  gender: "female",
  birthdate: "1815-12-10",
  zoneinfo: "Europe/London",
  locale: "en-GB",
  phone_number: "+44 20 7946 0000",
  phone_number_verified: true,
  address: { street_address: "12 St James's Square", locality: "London", postal_code: "SW1Y 4JH", country: "GB" },
} satisfies UserClaims;
