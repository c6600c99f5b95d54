/**
 * End to end: the built Worker in workerd (scripts/local-worker.mjs), an OpenID Certified client
 * library (oauth4webapi) as the client, and every token endpoint authentication method Latchkey
 * advertises, through the client_credentials grant (RFC 6749 §4.4). Each access token is checked
 * as a resource server would: signature against the advertised jwks_uri, then RFC 9068 claims.
 */
import { X509Certificate, createHash, randomBytes } from "node:crypto";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { DEMO_MTLS_SUBJECT_DN, DEMO_SECRETS, seedDemo } from "../../scripts/seed.mjs";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;
type DemoClient = { client_id: string; method: string; private_key_file?: string; certificate_file?: string };

let worker: Worker;
let stateDir: string;
let demo: Map<string, DemoClient>;
let as: oauth.AuthorizationServer;
let jwksServer: Server;
let jwksRequests = 0;

/** http on loopback is fine here; oauth4webapi insists on https unless told. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

async function adminPut(clientId: string, metadata: Record<string, unknown>): Promise<void> {
  const res = await worker.admin(`/admin/clients/${clientId}`, "PUT", metadata);
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Serves `jwks` at http://127.0.0.1:PORT/jwks.json, as a client's own jwks_uri (RFC 7591 §2). */
async function serveJwks(jwks: { keys: JWK[] }): Promise<string> {
  jwksServer = createServer((req, res) => {
    jwksRequests++;
    if (req.url !== "/jwks.json") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((listening) => jwksServer.listen(0, "127.0.0.1", listening));
  const address = jwksServer.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}/jwks.json`;
}

/**
 * What Cloudflare's edge puts in `request.cf.tlsClientAuth` after a TLS handshake in which the
 * client presented `der` (see the Workers runtime's IncomingRequestCfPropertiesTLSClientAuth).
 */
function tlsClientAuth(der: Uint8Array, cert: { subject: string; issuer: string; serial: string; notBefore: string; notAfter: string }, verified: string) {
  const legacy = (rfc2253: string) => `/${rfc2253.split(",").reverse().join("/")}`;
  return {
    certPresented: "1",
    certVerified: verified,
    certRevoked: "0",
    certSubjectDN: cert.subject,
    certSubjectDNRFC2253: cert.subject,
    certSubjectDNLegacy: legacy(cert.subject),
    certIssuerDN: cert.issuer,
    certIssuerDNRFC2253: cert.issuer,
    certIssuerDNLegacy: legacy(cert.issuer),
    certSerial: cert.serial,
    certIssuerSerial: "",
    certSKI: "",
    certIssuerSKI: "",
    certNotBefore: cert.notBefore,
    certNotAfter: cert.notAfter,
    certFingerprintSHA1: createHash("sha1").update(der).digest("hex"),
    certFingerprintSHA256: createHash("sha256").update(der).digest("hex"),
  };
}

/** Node's X509Certificate lists RDNs in certificate order, one per line; RFC 2253 reverses them. */
const rfc2253 = (nodeDn: string) => nodeDn.split("\n").reverse().join(",");

/** oauth4webapi's customFetch, sending through Miniflare with the given TLS client certificate. */
function withClientCertificate(cf: ReturnType<typeof tlsClientAuth>) {
  return {
    ...insecure,
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<"POST", URLSearchParams>) =>
      // Miniflare types cf strictly; this object carries the fields Latchkey reads.
      worker.mf.dispatchFetch(url, { ...init, cf: { tlsClientAuth: cf } as never }) as Promise<Response>,
  };
}

async function clientCredentials(
  clientId: string,
  auth: oauth.ClientAuth,
  options: oauth.TokenEndpointRequestOptions = insecure,
): Promise<oauth.TokenEndpointResponse> {
  const client: oauth.Client = { client_id: clientId };
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: "read" }), options);
  return oauth.processClientCredentialsResponse(as, client, response);
}

/** Checks the token as a resource server would (RFC 9068 §4), against the advertised jwks_uri. */
async function expectAccessToken(result: oauth.TokenEndpointResponse, clientId: string): Promise<void> {
  expect(result.token_type.toLowerCase()).toBe("bearer");
  expect(result.scope).toBe("read");
  expect(result.expires_in).toBeGreaterThan(0);
  const keys = createRemoteJWKSet(new URL(as.jwks_uri!));
  const { payload, protectedHeader } = await jwtVerify(result.access_token, keys, {
    issuer: as.issuer,
    audience: as.issuer,
    typ: "at+jwt",
    requiredClaims: ["exp", "iat", "jti", "sub", "client_id"],
  });
  expect(protectedHeader.kid).toEqual(expect.any(String));
  expect(payload).toMatchObject({ iss: worker.url, aud: worker.url, sub: clientId, client_id: clientId, scope: "read" });
}

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  stateDir = await mkdtemp(join(tmpdir(), "latchkey-e2e-"));
  const rows: DemoClient[] = await seedDemo({ url: worker.url, adminToken: worker.adminToken, stateDir, print: false });
  demo = new Map(rows.map((row) => [row.client_id, row]));
  const issuer = new URL(worker.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
});

afterAll(async () => {
  await worker?.dispose();
  jwksServer?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("discovery (RFC 8414)", () => {
  it("is accepted by oauth4webapi and names this server", () => {
    expect(as.issuer).toBe(worker.url);
    expect(as.token_endpoint).toBe(`${worker.url}/token`);
    expect(as.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining([
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "tls_client_auth",
        "self_signed_tls_client_auth",
      ]),
    );
  });
});

describe("client_credentials with each client authentication method", () => {
  it("client_secret_basic", async () => {
    await expectAccessToken(await clientCredentials("demo-basic", oauth.ClientSecretBasic(DEMO_SECRETS["demo-basic"])), "demo-basic");
  });

  it("client_secret_post", async () => {
    await expectAccessToken(await clientCredentials("demo-post", oauth.ClientSecretPost(DEMO_SECRETS["demo-post"])), "demo-post");
  });

  it("client_secret_jwt", async () => {
    const auth = oauth.ClientSecretJwt(DEMO_SECRETS["demo-secret-jwt"]);
    await expectAccessToken(await clientCredentials("demo-secret-jwt", auth), "demo-secret-jwt");
  });

  it("private_key_jwt, registered jwks", async () => {
    const jwk = JSON.parse(await readFile(demo.get("demo-private-key-jwt")!.private_key_file!, "utf8")) as JWK;
    const key = (await importJWK(jwk, jwk.alg)) as CryptoKey;
    const auth = oauth.PrivateKeyJwt({ key, kid: jwk.kid });
    await expectAccessToken(await clientCredentials("demo-private-key-jwt", auth), "demo-private-key-jwt");
  });

  it("private_key_jwt, keys fetched from the client's jwks_uri", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: "e2e-rs256", alg: "RS256", use: "sig" };
    const jwksUri = await serveJwks({ keys: [publicJwk] });
    await adminPut("e2e-jwks-uri", {
      token_endpoint_auth_method: "private_key_jwt",
      jwks_uri: jwksUri,
      grant_types: ["client_credentials"],
      scope: "read write",
    });
    const auth = oauth.PrivateKeyJwt({ key: privateKey, kid: "e2e-rs256" });
    await expectAccessToken(await clientCredentials("e2e-jwks-uri", auth), "e2e-jwks-uri");
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it("tls_client_auth (RFC 8705 §2.1)", async () => {
    // The edge has validated a CA-issued certificate; tls_client_auth relies on that verdict and the
    // subject DN only, so the DER here is a stand-in that just feeds the fingerprints.
    const der = randomBytes(512);
    const cf = tlsClientAuth(
      der,
      { subject: DEMO_MTLS_SUBJECT_DN, issuer: "CN=Latchkey Demo CA,O=Latchkey Demo", serial: "1001", notBefore: "Jan  1 00:00:00 2026 GMT", notAfter: "Jan  1 00:00:00 2036 GMT" },
      "SUCCESS",
    );
    await expectAccessToken(await clientCredentials("demo-mtls", oauth.TlsClientAuth(), withClientCertificate(cf)), "demo-mtls");
  });

  it("self_signed_tls_client_auth (RFC 8705 §2.2)", async (ctx) => {
    const row = demo.get("demo-self-signed-mtls");
    if (!row) return ctx.skip("the openssl CLI is missing, so seedDemo made no self-signed certificate");
    const cert = new X509Certificate(await readFile(row.certificate_file!));
    // Self-signed: not chained to the zone's CA, so the edge reports a failed verification.
    const cf = tlsClientAuth(
      cert.raw,
      { subject: rfc2253(cert.subject), issuer: rfc2253(cert.issuer), serial: cert.serialNumber, notBefore: cert.validFrom, notAfter: cert.validTo },
      "FAILED:self signed certificate",
    );
    expect(cf.certFingerprintSHA256).toBe(cert.fingerprint256.replaceAll(":", "").toLowerCase());
    await expectAccessToken(
      await clientCredentials("demo-self-signed-mtls", oauth.TlsClientAuth(), withClientCertificate(cf)),
      "demo-self-signed-mtls",
    );
  });
});

/**
 * How oauth4webapi reports a rejected token request. A 401 carries a WWW-Authenticate challenge
 * (RFC 6749 §5.2, RFC 9110 §15.5.2), which oauth4webapi checks before the body: it throws
 * WWWAuthenticateChallengeError (not ResponseBodyError) and leaves the error body unread.
 */
async function rejection(attempt: Promise<unknown>) {
  const error = await attempt.then(
    () => expect.unreachable("the token request succeeded"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
  const { status, cause, response } = error as oauth.WWWAuthenticateChallengeError;
  return { status, challenges: cause, body: (await response.json()) as Record<string, string> };
}

describe("failures surface as OAuth errors in the client library", () => {
  it("a wrong client secret is invalid_client: 401 with a Basic challenge", async () => {
    const { status, challenges, body } = await rejection(
      clientCredentials("demo-basic", oauth.ClientSecretBasic(`${DEMO_SECRETS["demo-basic"]}-wrong`)),
    );
    expect(status).toBe(401);
    expect(challenges).toEqual([expect.objectContaining({ scheme: "basic", parameters: expect.objectContaining({ realm: worker.url }) })]);
    expect(body.error).toBe("invalid_client");
  });

  it("tls_client_auth with a certificate the edge did not verify is invalid_client", async () => {
    const cf = tlsClientAuth(
      randomBytes(512),
      { subject: DEMO_MTLS_SUBJECT_DN, issuer: DEMO_MTLS_SUBJECT_DN, serial: "01", notBefore: "Jan  1 00:00:00 2026 GMT", notAfter: "Jan  1 00:00:00 2036 GMT" },
      "FAILED:self signed certificate",
    );
    const { status, body } = await rejection(clientCredentials("demo-mtls", oauth.TlsClientAuth(), withClientCertificate(cf)));
    expect({ status, error: body.error }).toEqual({ status: 401, error: "invalid_client" });
  });

  it("self_signed_tls_client_auth with a certificate other than the registered one is invalid_client", async (ctx) => {
    if (!demo.has("demo-self-signed-mtls")) return ctx.skip("no openssl, no self-signed demo client");
    const other = randomBytes(512);
    const cf = tlsClientAuth(
      other,
      { subject: "CN=demo-self-signed-mtls,O=Latchkey Demo", issuer: "CN=demo-self-signed-mtls,O=Latchkey Demo", serial: "02", notBefore: "Jan  1 00:00:00 2026 GMT", notAfter: "Jan  1 00:00:00 2036 GMT" },
      "FAILED:self signed certificate",
    );
    const { status, body } = await rejection(clientCredentials("demo-self-signed-mtls", oauth.TlsClientAuth(), withClientCertificate(cf)));
    expect({ status, error: body.error }).toEqual({ status: 401, error: "invalid_client" });
  });

  it("a non-401 OAuth error arrives as ResponseBodyError: scope the client may not have", async () => {
    const client: oauth.Client = { client_id: "demo-post" };
    const auth = oauth.ClientSecretPost(DEMO_SECRETS["demo-post"]);
    const response = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: "admin" }), insecure);
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 400, error: "invalid_scope" });
  });
});
