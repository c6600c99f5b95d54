// The "floor" Worker for `npm run bench`: the smallest Worker that does the same cryptographic work
// as each Latchkey request measured, and nothing else (no routing framework, no storage, no parsing
// beyond what the crypto needs). Latchkey's throughput divided by the floor's, measured in the
// same run on the same machine, says how much of Latchkey's per-request CPU is unavoidable crypto.
//
//   POST /sign          one ES256 signature over a JWT access token of Latchkey's size
//                       (the floor of client_credentials + client_secret_basic).
//   POST /verify-sign   one ES256 verification of the compact JWS in the request body (a client
//                       assertion) plus the /sign work (the floor of private_key_jwt).
//   POST /exchange      the crypto of an authorization_code exchange with PKCE S256 and an ID token:
//                       one AES-256-GCM decryption of the sealed code in the form body (and its JSON),
//                       one SHA-256 of code_verifier (compared with the sealed challenge), one ES256
//                       signature (the access token), one SHA-256 of the access token (at_hash) and
//                       one RS256 signature (the ID token, RSA 2048 like Latchkey's key).
//   POST /dpop-sign     the floor of a DPoP-bound client_credentials request: client_secret_basic's
//                       one SHA-256, then the proof in the DPoP header — its `jwk` imported, one ES256
//                       verification, one SHA-256 (the key's RFC 7638 thumbprint) — and /sign's work.
//                       The nonce check and the jti reservation are Latchkey's (no crypto, or storage).
//   GET  /code          (set-up only, not measured) a code sealed under the floor's AES key, for
//                       /exchange: ?size=N pads its plaintext to N bytes, the size of Latchkey's.
//   GET  /userinfo      one ES256 verification of the Bearer access token (from /exchange), then its
//                       `sub` as JSON (the floor of UserInfo).
//   POST /pbkdf2        one PBKDF2-HMAC-SHA-256 deriveBits, 100,000 iterations, 256 bits, of the
//                       password in the body (the floor of a sign-in).
//   POST /refresh       the crypto of a refresh_token grant with rotation and an ID token: one
//                       SHA-256 of the presented refresh_token (its storage hash), one ES256 signature
//                       (the access token), 256 random bits and their SHA-256 (the successor and its
//                       storage hash), one SHA-256 (at_hash) and one RS256 signature (the ID token,
//                       no nonce), one AES-256-GCM encryption of the answer (kept for a retry within
//                       the grace window).
//   POST /device-poll   one SHA-256 of the form's device_code (the key of its request), then RFC 8628
//                       §3.5's authorization_pending (the floor of a pending device poll).
//   POST /device-exchange  the crypto of an approved device request's poll: one SHA-256 of the
//                       device_code, one ES256 signature (the access token), one SHA-256 (at_hash) and
//                       one RS256 signature (the ID token, no nonce).
//   POST /ciba-poll     client_secret_basic's floor (one SHA-256 of the secret: Latchkey compares its
//                       storage hash), then /device-poll's work for the form's auth_req_id (the floor
//                       of a pending CIBA poll, CIBA §11).
//   POST /ciba-exchange the same client authentication, then /device-exchange's work for the
//                       auth_req_id (the floor of an approved CIBA request's poll, CIBA §10.1.1).
//   POST /introspect    one ES256 verification of the form's `token` (an access token from /exchange),
//                       then its claims as an RFC 7662 answer (the floor of introspection).
//
// Plain JavaScript module, Web Crypto only. Keys are set up once per isolate, on the first
// request (Workers forbid generating random values at module scope).
//
// Bindings: FLOOR_CLIENT_JWK — the client's public ES256 JWK (JSON text), to verify assertions;
//           ISSUER — Latchkey's issuer in this run, so the floor's tokens are the same size.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ES256 = { name: "ECDSA", hash: "SHA-256" };
const RS256 = { name: "RSASSA-PKCS1-v1_5" };
const PBKDF2_ITERATIONS = 100_000;

/**
 * @type {Promise<{ signingKey: CryptoKey, verifyKey: CryptoKey, clientKey: CryptoKey, kid: string,
 *   rsaKey: CryptoKey, rsaKid: string, codeKey: CryptoKey }> | undefined}
 */
let keys;

function setup(env) {
  keys ??= (async () => {
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const clientKey = await crypto.subtle.importKey(
      "jwk",
      JSON.parse(env.FLOOR_CLIENT_JWK),
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const rsa = await crypto.subtle.generateKey(
      { ...RS256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    const codeKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    // kids as long as Latchkey's (a base64url SHA-256 JWK thumbprint, 43 characters).
    const kid = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
    return { signingKey: pair.privateKey, verifyKey: pair.publicKey, clientKey, kid: kid(), rsaKey: rsa.privateKey, rsaKid: kid(), codeKey };
  })();
  keys.catch(() => (keys = undefined));
  return keys;
}

function base64url(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const b64json = (value) => base64url(encoder.encode(JSON.stringify(value)));

/** One ES256-signed JWT with the same header and claim set (and so the same size) as Latchkey's access token. */
async function signAccessToken({ signingKey, kid }, issuer, clientId, user) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64json({ alg: "ES256", kid, typ: "at+jwt" });
  const payload = b64json({
    client_id: clientId,
    scope: user?.scope ?? "read write",
    ...(user && { auth_time: user.authTime, gid: user.grantId }),
    iss: issuer,
    sub: user?.sub ?? clientId,
    aud: issuer,
    iat: now,
    exp: now + 600,
    jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
  });
  const input = `${header}.${payload}`;
  const signature = new Uint8Array(await crypto.subtle.sign(ES256, signingKey, encoder.encode(input)));
  return `${input}.${base64url(signature)}`;
}

/** An RS256 ID token with Latchkey's claim set for a code flow (OIDC Core §2, §3.1.3.6). */
async function signIdToken({ rsaKey, rsaKid }, issuer, code, accessToken) {
  const now = Math.floor(Date.now() / 1000);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(accessToken)));
  const claims = {
    auth_time: code.authTime,
    ...(code.nonce !== undefined && { nonce: code.nonce }),
    at_hash: base64url(digest.slice(0, 16)),
    amr: code.amr,
    sid: code.sid,
    iss: issuer,
    sub: code.sub,
    aud: code.clientId,
    iat: now,
    exp: now + 600,
  };
  const input = `${b64json({ alg: "RS256", kid: rsaKid, typ: "JWT" })}.${b64json(claims)}`;
  const signature = new Uint8Array(await crypto.subtle.sign(RS256, rsaKey, encoder.encode(input)));
  return `${input}.${base64url(signature)}`;
}

/** `v1.<iv>.<ciphertext+tag>`, Latchkey's sealed format, with additional data like Latchkey's (src/crypto/aead.ts). */
async function seal(key, additionalData, plaintext) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(additionalData) }, key, encoder.encode(plaintext));
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
}

const sealCode = (codeKey, plaintext) => seal(codeKey, "authorization-code:code", plaintext);

const sha256b64 = async (text) => base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));

/** The claims of a verified ES256 JWT signed by this floor, or null. */
async function verifyOwnToken(k, jwt) {
  const parts = jwt.split(".");
  if (parts.length !== 3) return null;
  const ok = await crypto.subtle.verify(ES256, k.verifyKey, fromBase64url(parts[2]), encoder.encode(`${parts[0]}.${parts[1]}`));
  return ok ? JSON.parse(decoder.decode(fromBase64url(parts[1]))) : null;
}

async function openCode(codeKey, sealed) {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("malformed code");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode("authorization-code:code") },
    codeKey,
    fromBase64url(ct),
  );
  return JSON.parse(decoder.decode(pt));
}

/**
 * The grant tokens stand for, as Latchkey reads it from storage (the floor has none): client, person
 * and scope from the query (?client_id, sub, scope), the rest made up.
 */
function grantOf(request, defaults) {
  const url = new URL(request.url);
  return {
    clientId: url.searchParams.get("client_id") ?? defaults.clientId,
    sub: url.searchParams.get("sub") ?? "bench-person",
    scope: url.searchParams.get("scope") ?? defaults.scope,
    authTime: Math.floor(Date.now() / 1000),
    sid: base64url(crypto.getRandomValues(new Uint8Array(16))),
    grantId: base64url(crypto.getRandomValues(new Uint8Array(16))),
  };
}

function tokenResponse(token, extra = {}) {
  return Response.json(
    { access_token: token, token_type: "Bearer", expires_in: 600, scope: extra.scope ?? "read write", ...extra },
    { headers: { "cache-control": "no-store", pragma: "no-cache" } },
  );
}

/** client_secret_basic's floor: one SHA-256 of the secret in the Authorization header (Latchkey compares its storage hash). */
async function basicClientAuth(request) {
  const header = request.headers.get("authorization") ?? "";
  const decoded = header.startsWith("Basic ") ? atob(header.slice(6)) : "";
  await sha256b64(decodeURIComponent(decoded.slice(decoded.indexOf(":") + 1).replace(/\+/g, " ")));
}

/**
 * A pending poll (the device grant's, CIBA's): the confidential client's authentication when
 * `authenticated`, one SHA-256 of the form's `field` (the key of its request), then
 * authorization_pending (RFC 8628 §3.5, CIBA §11).
 */
async function pendingPoll(request, field, authenticated) {
  if (authenticated) await basicClientAuth(request);
  const form = new URLSearchParams(await request.text());
  await sha256b64(form.get(field) ?? "");
  return Response.json(
    { error: "authorization_pending", error_description: "The user has not yet approved or denied the request; keep polling at the interval." },
    { status: 400, headers: { "cache-control": "no-store", pragma: "no-cache" } },
  );
}

/** An approved request's poll: pendingPoll's hashing, then an access token and an ID token (no nonce) for the query's grant. */
async function approvedPoll(request, env, field, authenticated, defaults) {
  const k = await setup(env);
  if (authenticated) await basicClientAuth(request);
  const form = new URLSearchParams(await request.text());
  await sha256b64(form.get(field) ?? "");
  const approval = { ...grantOf(request, defaults), amr: ["pwd"] };
  const accessToken = await signAccessToken(k, env.ISSUER, approval.clientId, approval);
  return tokenResponse(accessToken, { scope: approval.scope, id_token: await signIdToken(k, env.ISSUER, approval, accessToken) });
}

const routes = {
  "POST /sign": async (request, env) => {
    await request.arrayBuffer();
    return tokenResponse(await signAccessToken(await setup(env), env.ISSUER, "bench-basic"));
  },
  "POST /verify-sign": async (request, env) => {
    const k = await setup(env);
    const jws = (await request.text()).trim();
    const parts = jws.split(".");
    if (parts.length !== 3) return new Response("not a compact JWS\n", { status: 400 });
    const ok = await crypto.subtle.verify(ES256, k.clientKey, fromBase64url(parts[2]), encoder.encode(`${parts[0]}.${parts[1]}`));
    if (!ok) return new Response("bad signature\n", { status: 401 });
    return tokenResponse(await signAccessToken(k, env.ISSUER, "bench-jwt"));
  },
  "POST /dpop-sign": async (request, env) => {
    const k = await setup(env);
    await basicClientAuth(request);
    await request.arrayBuffer();
    const parts = (request.headers.get("dpop") ?? "").split(".");
    if (parts.length !== 3) return new Response("no DPoP proof\n", { status: 400 });
    const { jwk } = JSON.parse(decoder.decode(fromBase64url(parts[0])));
    const key = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const ok = await crypto.subtle.verify(ES256, key, fromBase64url(parts[2]), encoder.encode(`${parts[0]}.${parts[1]}`));
    if (!ok) return new Response("bad proof signature\n", { status: 401 });
    await sha256b64(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));
    return tokenResponse(await signAccessToken(k, env.ISSUER, "bench-dpop"), { token_type: "DPoP" });
  },
  "GET /code": async (request, env) => {
    const k = await setup(env);
    const url = new URL(request.url);
    const size = Number(url.searchParams.get("size") ?? 0);
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(verifier))));
    const rand = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));
    const now = Math.floor(Date.now() / 1000);
    // Latchkey's CodePayload (src/authorize/codes.ts), field for field.
    const payload = {
      jti: rand(16),
      clientId: url.searchParams.get("client_id") ?? "bench-web",
      redirectUri: url.searchParams.get("redirect_uri") ?? "https://bench.example/callback",
      redirectUriSent: true,
      scope: (url.searchParams.get("scope") ?? "openid").split(" "),
      nonce: rand(16),
      codeChallenge: challenge,
      codeChallengeMethod: "S256",
      sub: url.searchParams.get("sub") ?? rand(16),
      authTime: now,
      sid: rand(16),
      amr: ["pwd"],
      grantId: rand(16),
      exp: now + 3600,
    };
    const text = JSON.stringify(payload);
    // Pad the sid so the sealed code has exactly Latchkey's length (same AES-GCM and JSON work).
    if (size > text.length) payload.sid += "x".repeat(size - text.length);
    return Response.json({ code: await sealCode(k.codeKey, JSON.stringify(payload)), code_verifier: verifier });
  },
  "POST /exchange": async (request, env) => {
    const k = await setup(env);
    const form = new URLSearchParams(await request.text());
    const code = await openCode(k.codeKey, form.get("code") ?? "");
    const verifier = form.get("code_verifier") ?? "";
    const derived = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(verifier))));
    if (derived !== code.codeChallenge) return Response.json({ error: "invalid_grant" }, { status: 400 });
    const scope = code.scope.join(" ");
    const accessToken = await signAccessToken(k, env.ISSUER, code.clientId, { sub: code.sub, scope, authTime: code.authTime, grantId: code.grantId });
    return tokenResponse(accessToken, { scope, id_token: await signIdToken(k, env.ISSUER, code, accessToken) });
  },
  "GET /userinfo": async (request, env) => {
    const auth = request.headers.get("authorization") ?? "";
    const claims = auth.startsWith("Bearer ") ? await verifyOwnToken(await setup(env), auth.slice(7)) : null;
    if (claims === null) return new Response("no valid Bearer JWT\n", { status: 401 });
    return Response.json({ sub: claims.sub }, { headers: { "cache-control": "no-store" } });
  },
  "POST /introspect": async (request, env) => {
    const form = new URLSearchParams(await request.text());
    const claims = await verifyOwnToken(await setup(env), form.get("token") ?? "");
    if (claims === null) return Response.json({ active: false }, { headers: { "cache-control": "no-store" } });
    const { gid: _gid, ...visible } = claims;
    return Response.json({ active: true, token_type: "Bearer", ...visible }, { headers: { "cache-control": "no-store", pragma: "no-cache" } });
  },
  "POST /device-poll": (request) => pendingPoll(request, "device_code", false),
  "POST /device-exchange": (request, env) => approvedPoll(request, env, "device_code", false, { clientId: "bench-tv", scope: "openid" }),
  "POST /ciba-poll": (request) => pendingPoll(request, "auth_req_id", true),
  "POST /ciba-exchange": (request, env) => approvedPoll(request, env, "auth_req_id", true, { clientId: "bench-call-centre", scope: "openid" }),
  "POST /refresh": async (request, env) => {
    const k = await setup(env);
    const form = new URLSearchParams(await request.text());
    const presented = form.get("refresh_token") ?? "";
    const presentedHash = await sha256b64(presented);
    const grant = grantOf(request, { clientId: "bench-app", scope: "openid offline_access" });
    const accessToken = await signAccessToken(k, env.ISSUER, grant.clientId, grant);
    const successor = base64url(crypto.getRandomValues(new Uint8Array(32)));
    await sha256b64(successor);
    const answer = {
      access_token: accessToken, token_type: "Bearer", expires_in: 600, scope: grant.scope, refresh_token: successor,
      id_token: await signIdToken(k, env.ISSUER, grant, accessToken),
    };
    await seal(k.codeKey, `refresh-retry:${presentedHash}`, JSON.stringify({ ...answer, expires_at: Math.floor(Date.now() / 1000) + 600 }));
    return Response.json(answer, { headers: { "cache-control": "no-store", pragma: "no-cache" } });
  },
  "POST /pbkdf2": async (request) => {
    const password = await request.text();
    const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: PBKDF2_ITERATIONS }, key, 256);
    return Response.json({ derived: base64url(new Uint8Array(bits)) });
  },
};

export default {
  async fetch(request, env) {
    const route = routes[`${request.method} ${new URL(request.url).pathname}`];
    return route ? route(request, env) : new Response("not found\n", { status: 404 });
  },
};
