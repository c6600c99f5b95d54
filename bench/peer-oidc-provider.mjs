// The peer for `npm run bench`: node-oidc-provider (npm `oidc-provider`, v9; the certified reference
// OpenID Provider for Node.js, what a team would most likely pick instead of Latchkey), configured
// to do the work Latchkey does for the measured requests. Started by bench/lib/peer.mjs as a child
// process (Node 22, one process, pinned to the servers' core), on loopback only.
//
//   client_credentials with client_secret_basic (client `bench-basic`) and with private_key_jwt
//   (client `bench-jwt`, ES256 assertions, each `jti` used once), scopes `read write`, answered with
//   an ES256 JWT access token (RFC 9068 `at+jwt`, 600 s like Latchkey's): the resource indicators
//   feature with one default resource whose tokens are JWTs signed ES256, so a request without a
//   `resource` parameter is answered like Latchkey's.
//   authorization_code with PKCE S256 (client `bench-web`, client_secret_basic, `openid profile
//   email`): the code found and consumed, the grant (the consent) and the account (the person's
//   claims) looked up, an ES256 JWT access token and an RS256 ID token with at_hash.
//   refresh_token (client `bench-app`, `offline_access` too), rotated on every use like Latchkey's:
//   the token found and consumed, the grant and account looked up, a new refresh token stored, an
//   ES256 JWT access token and an RS256 ID token.
//
// What it does not do like Latchkey, by its defaults: client secrets are compared as stored (Latchkey
// hashes the presented one first: one SHA-256, microseconds); everything it stores — an assertion's
// `jti`, codes, grants, refresh tokens — lives in the process's memory (oidc-provider's in-memory
// adapter), where Latchkey writes to SQLite-backed D1 and Durable Objects. Production deployments of
// oidc-provider replace that adapter with Redis or a database, which costs each request a round trip.
// The adapter's store holds 1000 entries by default (least recently used go first), too few for the
// codes of one window: refresh tokens and grants were evicted under load. Here the same store holds
// 200,000 entries; it then also remembers assertion `jti`s for longer (closer to Latchkey).
//
// The people and consents of a code flow come from an interaction (sign-in and consent pages) in
// oidc-provider; the bench does not measure those, so a second, set-up-only listener (SETUP_PORT)
// mints codes straight from the provider's models, as its /auth endpoint would issue them for a
// signed-in person who has consented: POST /codes {"client": id, "count": n} answers
// [{ code, verifier }]. Nothing measured goes through it.
//
// Input: the environment variable PEER_CONFIG, JSON { port, setupPort, basicSecret, jwtPublicJwk,
// web, app, person } (web and app: { clientId, secret, redirectUri, scope }; person: { sub, claims }).
// Output: one line `ready <issuer>` on stdout when it listens.

import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";
import MemoryAdapter from "oidc-provider/lib/adapters/memory_adapter.js";
import LRU from "oidc-provider/lib/helpers/lru.js";

const { port, setupPort, basicSecret, jwtPublicJwk, web, app, person } = JSON.parse(process.env.PEER_CONFIG ?? "{}");
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = `${issuer}/api`;
const ACCESS_TOKEN_TTL = 600;
/** The scopes of the code flow's access tokens, as in Latchkey's (the resource server knows them too). */
const OIDC_SCOPES = "openid profile email offline_access";
/** oidc-provider's in-memory adapter over a store of 200,000 entries instead of its default 1000. */
const store = new LRU({ maxSize: 200_000 });
const codeClient = (client, grantTypes) => ({
  client_id: client.clientId,
  client_secret: client.secret,
  token_endpoint_auth_method: "client_secret_basic",
  grant_types: grantTypes,
  response_types: ["code"],
  redirect_uris: [client.redirectUri],
});
const privateJwk = (kind, options, extra) => ({ ...generateKeyPairSync(kind, options).privateKey.export({ format: "jwk" }), ...extra });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "bench-basic",
      client_secret: basicSecret,
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      scope: "read write",
    },
    {
      client_id: "bench-jwt",
      token_endpoint_auth_method: "private_key_jwt",
      token_endpoint_auth_signing_alg: "ES256",
      jwks: { keys: [jwtPublicJwk] },
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      scope: "read write",
    },
    codeClient(web, ["authorization_code"]),
    codeClient(app, ["authorization_code", "refresh_token"]),
  ],
  adapter: (model) => new MemoryAdapter(model, store),
  findAccount: (_ctx, sub) => (sub === person.sub ? { accountId: sub, claims: () => ({ sub, ...person.claims }) } : undefined),
  claims: { openid: ["sub"], profile: ["name", "given_name", "family_name"], email: ["email", "email_verified"] },
  rotateRefreshToken: true,
  // The provider's signing keys: ES256 for the access tokens, RS256 (its ID-token default) beside it.
  jwks: {
    keys: [
      privateJwk("ec", { namedCurve: "P-256" }, { alg: "ES256", use: "sig", kid: "peer-es256" }),
      privateJwk("rsa", { modulusLength: 2048 }, { alg: "RS256", use: "sig", kid: "peer-rs256" }),
    ],
  },
  scopes: ["openid", "offline_access", "read", "write"],
  clientAuthMethods: ["client_secret_basic", "private_key_jwt"],
  enabledJWA: { clientAuthSigningAlgValues: ["ES256"] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== RESOURCE) throw new Provider.errors.InvalidTarget();
        return { scope: `read write ${OIDC_SCOPES}`, audience: RESOURCE, accessTokenTTL: ACCESS_TOKEN_TTL, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } };
      },
    },
  },
});
provider.on("server_error", (_ctx, error) => console.error(`peer: server_error: ${error?.stack ?? error}`));
if (process.env.PEER_DEBUG) provider.on("grant.error", (_ctx, error) => console.error(`peer: server_error (debug): grant.error ${error?.error_detail ?? error}`));

/** The person's consent to a client, as an interaction would record it: a grant. */
async function consent(client) {
  const grant = new provider.Grant({ accountId: person.sub, clientId: client.clientId });
  grant.addOIDCScope(client.scope);
  grant.addResourceScope(RESOURCE, client.scope);
  return grant.save();
}

/**
 * Codes as /auth issues them to a signed-in person who consented: PKCE S256, a nonce, the default
 * resource. Each code gets its own grant, as if from its own sign-in (a device of its own): the
 * in-memory adapter indexes every token of a grant and walks that index on every save, so 16
 * refresh chains on one grant would make the peer slower than it is with separate sign-ins, and a
 * reused refresh token revokes its whole grant.
 */
async function mintCodes(clientId, count) {
  const client = [web, app].find((c) => c.clientId === clientId);
  const model = await provider.Client.find(clientId);
  const authTime = Math.floor(Date.now() / 1000);
  const codes = [];
  for (let i = 0; i < count; i++) {
    const grantId = await consent(client);
    const verifier = randomBytes(32).toString("base64url");
    const code = new provider.AuthorizationCode({
      accountId: person.sub,
      authTime,
      client: model,
      codeChallenge: createHash("sha256").update(verifier).digest("base64url"),
      codeChallengeMethod: "S256",
      grantId,
      nonce: randomBytes(16).toString("base64url"),
      redirectUri: client.redirectUri,
      resource: RESOURCE,
      scope: client.scope,
    });
    codes.push({ code: await code.save(), verifier });
  }
  return codes;
}

const setup = createServer(async (req, res) => {
  try {
    let body = "";
    for await (const chunk of req) body += chunk;
    if (req.method !== "POST" || req.url !== "/codes") throw new Error(`no ${req.method} ${req.url}`);
    const { client, count } = JSON.parse(body);
    res.end(JSON.stringify(await mintCodes(client, count)));
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error?.stack ?? error));
  }
});

const server = provider.listen(port, "127.0.0.1", () => setup.listen(setupPort, "127.0.0.1", () => console.log(`ready ${issuer}`)));
// The load generator keeps its connections open between slices; Node's default would close them after 5 s.
server.keepAliveTimeout = 60_000;
process.on("SIGTERM", () => {
  setup.close();
  server.close(() => process.exit(0));
});
