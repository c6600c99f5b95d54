import { MAX_URI_LENGTH } from "../clients/register-uris";
import { sealedLength } from "../crypto/aead";
import { utf8 } from "../crypto/encoding";
import type { ErrorCode } from "../errors/catalog";
import { ensure } from "../errors/oauth-error";
import type { CodePayload } from "./codes";
import type { ClaimsRequest } from "./claims-request";
import { USER_CLAIM_NAMES } from "../tokens/claims";
import { MAX_RESOURCES, RESOURCE_BYTES } from "./resource";
import type { AuthorizationRequest, BackchannelCompletion, CompletionKind, DeviceCompletion, RedirectCompletion, Transaction } from "./request";

/**
 * What an authorization request may carry, and the arithmetic that makes every code issued for it
 * redeemable: the values below end up sealed in the transaction the sign-in pages carry in their
 * URLs (src/authorize/request.ts) and in the authorization code (src/authorize/codes.ts), so their
 * bounds decide how long both can be, and those lengths are the bounds `openTransaction` and
 * `openCode` accept.
 *
 * A value is counted in the bytes it takes once sealed: the UTF-8 bytes of its JSON string form,
 * without the quotes. For any ordinary value that is its UTF-8 length ("😀" is 4 bytes, though 2
 * UTF-16 units); a `"` or `\` counts 2 and a control character 6, because that is what JSON makes
 * of them.
 */
export const sealedBytes = (value: string): number => utf8(JSON.stringify(value)).byteLength - 2;

interface Bound {
  readonly bytes: number;
  readonly code: ErrorCode;
}

export const REQUEST_BOUNDS = {
  /**
   * The longest redirect URI registration accepts (printable ASCII). Checked on the URI once it
   * matched a registered one, so the error is a page (RFC 6749 §4.1.2.1).
   */
  redirect_uri: { bytes: MAX_URI_LENGTH, code: "authorize_redirect_uri_too_long" },
  /** Echoed in the redirect back to the client, where each byte may take 3 characters (%XX). */
  state: { bytes: 1024, code: "state_too_long" },
  /** FAPI 2.0: a 64-character nonce must work, a 384-character one work or be refused. */
  nonce: { bytes: 512, code: "nonce_too_long" },
  /** An email address is at most 254 bytes (RFC 5321 §4.5.3.1); room for other identifiers. */
  login_hint: { bytes: 512, code: "login_hint_too_long" },
  /** All the scopes a client may ask for at once; a client with more asks in several requests. */
  scope: { bytes: 512, code: "scope_too_long" },
  /**
   * OIDC Core §3.1.2.1 acr_values, and the acr values of a claims request once kept to the operator's
   * table (src/authorize/claims-request.ts): a few values in order of preference ("phrh phr" is 8 bytes).
   */
  acr_values: { bytes: 128, code: "acr_values_too_long" },
  /**
   * RFC 9396 authorization_details, counted as its compact JSON (src/authorize/authorization-details.ts
   * re-serializes what it parsed), not as a JSON string: room for two or three details of the RFC's
   * examples; a client with more pushes several requests.
   */
  authorization_details: { bytes: 1024, code: "authorization_details_too_long" },
} as const satisfies Record<string, Bound>;

export type BoundedParameter = keyof typeof REQUEST_BOUNDS;

/** Refuses a value longer than its bound, with the bound's own catalog code. */
export function ensureWithinBound(name: BoundedParameter, value: string | undefined): void {
  if (value === undefined) return;
  const { bytes, code } = REQUEST_BOUNDS[name];
  // Every UTF-16 unit is at least one byte, so a longer string is refused without encoding it.
  ensure(value.length <= bytes && sealedBytes(value) <= bytes, code, `${name} must be at most ${bytes} bytes (UTF-8).`);
}

// ── The worst case ──────────────────────────────────────────────────────────────────────────────
//
// Sealed JSON, in bytes: the members' names and punctuation (a skeleton with every member present,
// strings empty, arrays empty, numbers at their longest) plus the longest value of each member.
// AES-GCM then adds a 16-byte tag, and base64url makes 4 characters of every 3 bytes (sealedLength).
//
//   code        = skeleton + redirect_uri 2048 + nonce 512 + scope 2·512+1 = 1025
//               + client_id 256 + code_challenge 128 + dpop_jkt 43
//               + jti, sub, sid, grantId 4·64 + amr 64
//               + the extras: resources 4·(256+2)+3 = 1035, authorization_details 1024−2,
//                 claims (every claim name, twice), acr_values 2·128+1        = 7454 bytes
//               → sealedLength(7454) = 20 + ⌈(7454 + 16)·4/3⌉                 = 9980 characters
//   transaction = skeleton + the longest completion (redirect: 4011 bytes, with state 1024 and
//                 a pushed request's id) + login_hint 512 + scope 1025 + client_id 256
//               + authenticatedSid 64 + subject 64 + the same extras         = 9056 bytes
//               → sealedLength(9056) = 20 + ⌈(9056 + 16)·4/3⌉                 = 12116 characters
//
// The longest interaction URL, "/verify-email/needed?txn=" + 12116, is 12141 characters: within
// MAX_INTERACTION_TARGET (12 KiB) and the 16 KB URL Cloudflare accepts, but over the 8 KiB request
// line some proxies stop at. Only a request that fills every extra at once (4 resources of 256
// characters, 1 KiB of authorization details, a claims request naming every claim twice) gets
// there; without the extras the worst case stays near 8 KiB, as before they existed. The redirect
// back to the client, redirect_uri 2048 + code 9980 + state 3·1024 (%XX) + iss, stays under 15.5 KB
// at the very worst (form_post has no such bound). test/rfc6749-4.1.1-request-bounds.test.ts
// asserts these numbers and redeems a request built from the worst values.

/** Server-chosen values, bounded generously: ids are randomToken(16) (22 characters), amr is ["pwd"]. */
const SERVER_ID = 64;
const AMR = 64;
/** client_id: at most 128 printable ASCII characters (identifyClient), each at most 2 bytes sealed. */
const CLIENT_ID = 2 * 128;
/** code_challenge: at most 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.2), none escaped. */
const CODE_CHALLENGE = 128;
/** dpop_jkt: a SHA-256 JWK thumbprint, 43 base64url characters (RFC 9449 §10, the dpop_jkt step). */
const DPOP_JKT = 43;
/** scope as a JSON array: n bytes hold at most (n + 1) / 2 values, each quoted: 2n + 1 bytes within the brackets. */
const SCOPE_ARRAY = 2 * REQUEST_BOUNDS.scope.bytes + 1;
/**
 * RFC 8707 resources as a JSON array: MAX_RESOURCES URIs of RESOURCE_BYTES, quoted, with commas
 * (URI characters are never escaped in JSON: src/authorize/resource.ts admits no `"` or `\`).
 */
const RESOURCES_ARRAY = MAX_RESOURCES * (RESOURCE_BYTES + 2) + MAX_RESOURCES - 1;
/** RFC 9396 authorization_details: their compact JSON, brackets included, is the bound; the skeleton has the brackets. */
const AUTHORIZATION_DETAILS = REQUEST_BOUNDS.authorization_details.bytes - "[]".length;
/** What the request's extras (resources, authorization details) add to both the code and the transaction. */
const EXTRAS = RESOURCES_ARRAY + AUTHORIZATION_DETAILS;
const TIME = Number.MAX_SAFE_INTEGER;

const json = (value: unknown): number => utf8(JSON.stringify(value)).byteLength;

/**
 * OIDC Core §5.5 claims by name: each list holds names of USER_CLAIM_NAMES, once each
 * (src/authorize/claims-request.ts), so at most all of them, quoted, with commas.
 */
const CLAIMS_SKELETON = { idToken: [], userinfo: [] } satisfies Record<keyof ClaimsRequest, unknown>;
const CLAIM_NAMES = 2 * (json(USER_CLAIM_NAMES) - json([]));
/** acr values as a JSON array, bounded like the scope (acr_values). */
const ACR_ARRAY = 2 * REQUEST_BOUNDS.acr_values.bytes + 1;

const CODE_SKELETON = {
  jti: "", clientId: "", redirectUri: "", redirectUriSent: false, scope: [], nonce: "", codeChallenge: "",
  codeChallengeMethod: "plain", dpopJkt: "", resources: [], authorizationDetails: [], claims: CLAIMS_SKELETON, acrValues: [],
  sub: "", authTime: TIME, sid: "", amr: [], grantId: "", exp: TIME,
} satisfies Record<keyof CodePayload, unknown>;

const REQUEST_SKELETON = {
  clientId: "", scope: [], prompt: "consent", maxAge: TIME, loginHint: "", resources: [], authorizationDetails: [],
  claims: CLAIMS_SKELETON, acrValues: [], acrEssential: true, subject: "",
} satisfies Record<keyof AuthorizationRequest, unknown>;

const REDIRECT_COMPLETION_SKELETON = {
  kind: "redirect", redirectUri: "", responseMode: "form_post", state: "", redirectUriSent: false, nonce: "", codeChallenge: "",
  codeChallengeMethod: "plain", dpopJkt: "", pushedRequestId: "",
} satisfies Record<keyof RedirectCompletion, unknown>;

const DEVICE_COMPLETION_SKELETON = { kind: "device", deviceRequestId: "" } satisfies Record<keyof DeviceCompletion, unknown>;

const BACKCHANNEL_COMPLETION_SKELETON = {
  kind: "backchannel", cibaRequestId: "", handle: "", sub: "", confirmed: false,
} satisfies Record<keyof BackchannelCompletion, unknown>;

const TRANSACTION_SKELETON = {
  request: REQUEST_SKELETON, completion: {}, createdAt: TIME, expiresAt: TIME, authenticatedSid: "", consented: true,
} satisfies Record<keyof Transaction, unknown>;

const { redirect_uri, state, nonce, login_hint } = REQUEST_BOUNDS;

export const MAX_CODE_PLAINTEXT =
  json(CODE_SKELETON) + redirect_uri.bytes + nonce.bytes + SCOPE_ARRAY + CLIENT_ID + CODE_CHALLENGE + DPOP_JKT + 4 * SERVER_ID + AMR + EXTRAS +
  CLAIM_NAMES + ACR_ARRAY;
/** The longest code issueCode can produce: the longest openCode accepts. */
export const MAX_CODE_LENGTH = sealedLength(MAX_CODE_PLAINTEXT);

/** The longest completion of each kind, sealed in a transaction (a transaction holds one; a new kind adds its line). */
export const MAX_COMPLETION_PLAINTEXT = {
  redirect: json(REDIRECT_COMPLETION_SKELETON) + redirect_uri.bytes + state.bytes + nonce.bytes + CODE_CHALLENGE + DPOP_JKT + SERVER_ID,
  device: json(DEVICE_COMPLETION_SKELETON) + SERVER_ID,
  backchannel: json(BACKCHANNEL_COMPLETION_SKELETON) + 3 * SERVER_ID,
} as const satisfies Record<CompletionKind, number>;

export const MAX_TRANSACTION_PLAINTEXT =
  json(TRANSACTION_SKELETON) - json({}) + Math.max(...Object.values(MAX_COMPLETION_PLAINTEXT)) +
  login_hint.bytes + SCOPE_ARRAY + CLIENT_ID + SERVER_ID + EXTRAS + CLAIM_NAMES + ACR_ARRAY + SERVER_ID;
/** The longest sealed transaction sealTransaction can produce: the longest openTransaction accepts. */
export const MAX_SEALED_TRANSACTION = sealedLength(MAX_TRANSACTION_PLAINTEXT);

/**
 * Longest request-target (path and query) of a URL carrying a transaction: 12 KiB, under the 16 KB
 * URL Cloudflare accepts (the worst case above says who goes beyond the common 8 KiB).
 */
export const MAX_INTERACTION_TARGET = 12288;
