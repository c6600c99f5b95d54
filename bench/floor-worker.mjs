// The "floor" Worker for `npm run bench`: the smallest Worker that does the same signature work
// as each Latchkey token flow, and nothing else (no routing framework, no storage, no parsing
// beyond what the signature needs). Latchkey's throughput divided by the floor's, measured in the
// same run on the same machine, says how much of Latchkey's per-request CPU is unavoidable crypto.
//
//   POST /sign          one ES256 signature over a JWT access token of Latchkey's size
//                       (the floor of client_credentials + client_secret_basic).
//   POST /verify-sign   one ES256 verification of the compact JWS in the request body (a client
//                       assertion) plus the /sign work (the floor of private_key_jwt).
//
// Plain JavaScript module, Web Crypto only. Keys are set up once per isolate, on the first
// request (Workers forbid generating random values at module scope).
//
// Bindings: FLOOR_CLIENT_JWK — the client's public ES256 JWK (JSON text), to verify assertions;
//           ISSUER — Latchkey's issuer in this run, so the floor's tokens are the same size.

const encoder = new TextEncoder();
const ES256 = { name: "ECDSA", hash: "SHA-256" };

/** @type {Promise<{ signingKey: CryptoKey, clientKey: CryptoKey, kid: string }> | undefined} */
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
    // A kid as long as Latchkey's (a base64url SHA-256 JWK thumbprint, 43 characters).
    const kid = base64url(crypto.getRandomValues(new Uint8Array(32)));
    return { signingKey: pair.privateKey, clientKey, kid };
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
async function signAccessToken({ signingKey, kid }, issuer, clientId) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64json({ alg: "ES256", kid, typ: "at+jwt" });
  const payload = b64json({
    client_id: clientId,
    scope: "read write",
    iss: issuer,
    sub: clientId,
    aud: issuer,
    iat: now,
    exp: now + 600,
    jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
  });
  const input = `${header}.${payload}`;
  const signature = new Uint8Array(await crypto.subtle.sign(ES256, signingKey, encoder.encode(input)));
  return `${input}.${base64url(signature)}`;
}

function tokenResponse(token) {
  return Response.json(
    { access_token: token, token_type: "Bearer", expires_in: 600, scope: "read write" },
    { headers: { "cache-control": "no-store", pragma: "no-cache" } },
  );
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method !== "POST") return new Response("POST only\n", { status: 405 });
    if (pathname === "/sign") {
      await request.arrayBuffer();
      return tokenResponse(await signAccessToken(await setup(env), env.ISSUER, "bench-basic"));
    }
    if (pathname === "/verify-sign") {
      const k = await setup(env);
      const jws = (await request.text()).trim();
      const parts = jws.split(".");
      if (parts.length !== 3) return new Response("not a compact JWS\n", { status: 400 });
      const ok = await crypto.subtle.verify(ES256, k.clientKey, fromBase64url(parts[2]), encoder.encode(`${parts[0]}.${parts[1]}`));
      if (!ok) return new Response("bad signature\n", { status: 401 });
      return tokenResponse(await signAccessToken(k, env.ISSUER, "bench-jwt"));
    }
    return new Response("not found\n", { status: 404 });
  },
};
