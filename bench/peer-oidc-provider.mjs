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
//
// What it does not do like Latchkey, by its defaults: client secrets are compared as stored (Latchkey
// hashes the presented one first: one SHA-256, microseconds); an assertion's `jti` is remembered in
// the in-memory adapter's LRU of 1000 entries shared with every other stored object (Latchkey
// reserves it durably in a Durable Object until the assertion expires). Production deployments of
// oidc-provider replace that adapter with Redis or a database, which costs each request a round trip.
//
// Input: the environment variable PEER_CONFIG, JSON { port, basicSecret, jwtPublicJwk }. Output: one
// line `ready <issuer>` on stdout when it listens.

import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const { port, basicSecret, jwtPublicJwk } = JSON.parse(process.env.PEER_CONFIG ?? "{}");
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = `${issuer}/api`;
const ACCESS_TOKEN_TTL = 600;
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
  ],
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
        return { scope: "read write", audience: RESOURCE, accessTokenTTL: ACCESS_TOKEN_TTL, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } };
      },
    },
  },
});
provider.on("server_error", (_ctx, error) => console.error(`peer: server_error: ${error?.stack ?? error}`));

const server = provider.listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));
// The load generator keeps its connections open between slices; Node's default would close them after 5 s.
server.keepAliveTimeout = 60_000;
process.on("SIGTERM", () => server.close(() => process.exit(0)));
