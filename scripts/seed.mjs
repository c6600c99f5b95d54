// Seeds the documented demo clients and the demo person through the operator API: one confidential
// client per token endpoint authentication method, a confidential web client and a public client
// for sign-in (authorization code + PKCE), the demo app's client (the dev server's own relying
// party at /dev/demo-app), and the user demo@example.com. Idempotent: every client
// is written with PUT /admin/clients/<fixed id>, generated key material is kept in `stateDir` and
// reused, and the user is looked up by email first (created once, then only kept verified).
//
//   node scripts/seed.mjs [--url http://localhost:8787] [--admin-token T] [--state-dir .wrangler/demo]
//
// (ADMIN_TOKEN defaults to $ADMIN_TOKEN, then to the value in .dev.vars.)
//
// Every secret and key below is for local demos only: they are published in this repository.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";

export const DEMO_SECRETS = {
  "demo-basic": "demo-basic-secret-not-for-production-use-000000",
  "demo-post": "demo-post-secret-not-for-production-use-000000",
  // 64 bytes, so it is long enough for every HMAC alg, HS512 included (RFC 7518 §3.2).
  "demo-secret-jwt": "demo-secret-jwt-secret-not-for-production-use-000000000000000000",
  "demo-web": "demo-web-secret-not-for-production-use-00000000",
};
export const DEMO_MTLS_SUBJECT_DN = "CN=demo-mtls,O=Latchkey Demo";
export const DEMO_PUBLIC_REDIRECT_URI = "http://127.0.0.1:8080/callback";
/** demo-web's redirect URIs (http on loopback: needs ALLOW_INSECURE_CLIENT_URIS=true, which dev sets). */
export const DEMO_WEB_REDIRECT_URIS = ["http://localhost:8080/callback", "http://127.0.0.1:8080/callback"];

/**
 * The demo app (src/dev/demo-app.tsx), served by the dev server itself under this path when
 * SHOW_DEV_OUTBOX is on: client "demo-app", a public client (PKCE, no secret to share between this
 * script and the Worker) whose redirect and post-logout URIs are on the server being seeded.
 */
export const DEMO_APP_CLIENT_ID = "demo-app";
export const demoAppUrl = (url) => `${url.replace(/\/+$/, "")}/dev/demo-app`;

/** The demo person: a verified account with profile, address and phone claims. */
export const DEMO_USER = Object.freeze({
  email: "demo@example.com",
  password: "demo-password-not-for-production",
  claims: {
    name: "Dana Demo",
    given_name: "Dana",
    family_name: "Demo",
    preferred_username: "dana",
    locale: "en-GB",
    zoneinfo: "Europe/London",
    website: "https://example.com/dana",
    phone_number: "+44 20 7946 0000",
    phone_number_verified: true,
    address: {
      street_address: "1 Example Street",
      locality: "London",
      postal_code: "EC1A 1AA",
      country: "GB",
    },
  },
});

const CONFIDENTIAL = { grant_types: ["client_credentials"], scope: "read write" };

/** The private_key_jwt demo key: an ES256 private JWK generated once into stateDir. */
async function demoPrivateKey(stateDir) {
  const file = join(stateDir, "demo-private-key-jwt.private.jwk.json");
  if (!existsSync(file)) {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk, "sha256");
    await writeFile(file, `${JSON.stringify({ ...jwk, kid, alg: "ES256", use: "sig" }, null, 2)}\n`, { mode: 0o600 });
  }
  const privateJwk = JSON.parse(await readFile(file, "utf8"));
  const { d: _private, ...publicJwk } = privateJwk;
  return { file, publicJwk };
}

function hasOpenssl() {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * The self_signed_tls_client_auth demo certificate (RFC 8705 §2.2), made once with the openssl CLI.
 * Registered as a JWK whose x5c holds the certificate's DER: the server matches its SHA-256.
 */
async function demoSelfSignedCert(stateDir) {
  const certFile = join(stateDir, "demo-self-signed-mtls.cert.pem");
  const keyFile = join(stateDir, "demo-self-signed-mtls.key.pem");
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650",
        "-subj", "/CN=demo-self-signed-mtls/O=Latchkey Demo", "-keyout", keyFile, "-out", certFile],
      { stdio: "ignore" },
    );
  }
  const cert = new X509Certificate(await readFile(certFile));
  const jwk = { ...cert.publicKey.export({ format: "jwk" }), x5c: [cert.raw.toString("base64")] };
  return { certFile, keyFile, cert, jwk };
}

async function admin(url, adminToken, method, path, body) {
  return fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

/**
 * The user with `email`, or undefined, from the list of users (GET /admin/users, page by page):
 * unlike `?email=`, a person not there yet is no 404 (and no warning in the dev server's log).
 */
async function findUser(url, adminToken, email) {
  let after = "";
  for (;;) {
    const res = await admin(url, adminToken, "GET", `/admin/users?limit=200${after && `&after=${encodeURIComponent(after)}`}`);
    if (res.status !== 200) throw new Error(`GET /admin/users answered ${res.status}: ${await res.text()}`);
    const page = await res.json();
    const user = page.users.find((u) => u.email.toLowerCase() === email.toLowerCase());
    if (user !== undefined || page.next === null) return user;
    after = page.next;
  }
}

/**
 * Makes sure DEMO_USER exists: looked up first; when missing, POST /admin/users with the
 * documented password. An existing account keeps its password (and so its sessions) and is only
 * set verified with the demo claims again. Returns the user JSON ({ id, email, … }).
 */
export async function seedDemoUser({ url, adminToken }) {
  url = url.replace(/\/+$/, "");
  const user = await findUser(url, adminToken, DEMO_USER.email);
  if (user !== undefined) {
    const res = await admin(url, adminToken, "PATCH", `/admin/users/${encodeURIComponent(user.id)}`, {
      email_verified: true,
      claims: DEMO_USER.claims,
    });
    if (res.status !== 200) throw new Error(`PATCH /admin/users/${user.id} answered ${res.status}: ${await res.text()}`);
    return { ...(await res.json()), created: false };
  }
  const res = await admin(url, adminToken, "POST", "/admin/users", { ...DEMO_USER, email_verified: true });
  if (res.status !== 201) throw new Error(`POST /admin/users answered ${res.status}: ${await res.text()}`);
  return { ...(await res.json()), created: true };
}

async function putClient(url, adminToken, clientId, metadata) {
  const res = await fetch(`${url}/admin/clients/${encodeURIComponent(clientId)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(metadata),
  });
  if (res.status !== 200) throw new Error(`PUT /admin/clients/${clientId} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/**
 * Creates (or re-creates, unchanged) the demo clients and returns one row per client:
 * { client_id, method, credential } plus what a caller needs to use it (client_secret,
 * private_key_file, certificate_file, certificate_key_file, subject_dn, redirect_uri(s)). With
 * `withUser` (default), also seeds DEMO_USER; the array then carries it as `.user`.
 */
export async function seedDemo({ url, adminToken, stateDir, print = true, withUser = true }) {
  url = url.replace(/\/+$/, "");
  stateDir = resolve(stateDir);
  await mkdir(stateDir, { recursive: true });
  const shown = (file) => (relative(process.cwd(), file).startsWith("..") ? file : relative(process.cwd(), file));
  const rows = [];
  const notes = [];

  for (const [clientId, method] of [
    ["demo-basic", "client_secret_basic"],
    ["demo-post", "client_secret_post"],
    ["demo-secret-jwt", "client_secret_jwt"],
  ]) {
    const client_secret = DEMO_SECRETS[clientId];
    await putClient(url, adminToken, clientId, { ...CONFIDENTIAL, token_endpoint_auth_method: method, client_secret });
    rows.push({ client_id: clientId, method, credential: `secret ${client_secret}`, client_secret });
  }

  const key = await demoPrivateKey(stateDir);
  await putClient(url, adminToken, "demo-private-key-jwt", {
    ...CONFIDENTIAL,
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [key.publicJwk] },
  });
  rows.push({
    client_id: "demo-private-key-jwt",
    method: "private_key_jwt",
    credential: `private JWK ${shown(key.file)}`,
    private_key_file: key.file,
  });

  await putClient(url, adminToken, "demo-mtls", {
    ...CONFIDENTIAL,
    token_endpoint_auth_method: "tls_client_auth",
    tls_client_auth_subject_dn: DEMO_MTLS_SUBJECT_DN,
  });
  rows.push({
    client_id: "demo-mtls",
    method: "tls_client_auth",
    credential: `any CA-verified client certificate with subject ${DEMO_MTLS_SUBJECT_DN}`,
    subject_dn: DEMO_MTLS_SUBJECT_DN,
  });

  if (hasOpenssl()) {
    const cert = await demoSelfSignedCert(stateDir);
    await putClient(url, adminToken, "demo-self-signed-mtls", {
      ...CONFIDENTIAL,
      token_endpoint_auth_method: "self_signed_tls_client_auth",
      jwks: { keys: [cert.jwk] },
    });
    rows.push({
      client_id: "demo-self-signed-mtls",
      method: "self_signed_tls_client_auth",
      credential: `certificate ${shown(cert.certFile)} (key ${shown(cert.keyFile)})`,
      certificate_file: cert.certFile,
      certificate_key_file: cert.keyFile,
    });
  } else {
    notes.push("demo-self-signed-mtls skipped: the openssl CLI is not installed (it makes the demo certificate).");
  }

  // Sign-in (authorization code). A confidential web app; http redirect URIs on loopback are
  // accepted for web clients only with ALLOW_INSECURE_CLIENT_URIS=true (local development).
  await putClient(url, adminToken, "demo-web", {
    client_name: "Demo Web App",
    token_endpoint_auth_method: "client_secret_basic",
    client_secret: DEMO_SECRETS["demo-web"],
    grant_types: ["authorization_code", "client_credentials"],
    response_types: ["code"],
    redirect_uris: DEMO_WEB_REDIRECT_URIS,
    scope: "read write",
  });
  rows.push({
    client_id: "demo-web",
    method: "client_secret_basic",
    credential: `secret ${DEMO_SECRETS["demo-web"]}; code flow + PKCE, redirect_uri ${DEMO_WEB_REDIRECT_URIS.join(" or ")}`,
    client_secret: DEMO_SECRETS["demo-web"],
    redirect_uris: DEMO_WEB_REDIRECT_URIS,
  });

  // A native (public) app: no secret, PKCE required; its loopback redirect URI matches on any
  // port (RFC 8252 §7.3), so a local tool may listen wherever it likes.
  await putClient(url, adminToken, "demo-public", {
    client_name: "Demo Public App",
    application_type: "native",
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: [DEMO_PUBLIC_REDIRECT_URI],
  });
  rows.push({
    client_id: "demo-public",
    method: "none",
    credential: `none (public native client, PKCE; redirect_uri ${DEMO_PUBLIC_REDIRECT_URI}, any loopback port)`,
    redirect_uri: DEMO_PUBLIC_REDIRECT_URI,
  });

  // The demo app on this server: what `npm run dev` prints as the way to sign in.
  const app = demoAppUrl(url);
  await putClient(url, adminToken, DEMO_APP_CLIENT_ID, {
    client_name: "Demo App",
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    redirect_uris: [`${app}/callback`],
    post_logout_redirect_uris: [app],
    scope: "openid profile email address phone offline_access",
  });
  rows.push({
    client_id: DEMO_APP_CLIENT_ID,
    method: "none",
    credential: `none (the demo app at ${app}: code flow + PKCE, refresh, sign-out)`,
    redirect_uri: `${app}/callback`,
  });

  const user = withUser ? await seedDemoUser({ url, adminToken }) : undefined;

  if (print) {
    console.log(formatTable(rows));
    for (const note of notes) console.log(`note: ${note}`);
    if (user) {
      console.log(`\nDemo user (${user.created ? "created" : "already present"}, email verified): ${DEMO_USER.email} / ${DEMO_USER.password}` +
        (user.created ? "" : " (unless its password was changed)"));
    }
  }
  return withUser ? Object.assign(rows, { user }) : rows;
}

export function formatTable(rows) {
  const header = { client_id: "client_id", method: "method", credential: "secret / key location" };
  const widths = ["client_id", "method"].map((k) => Math.max(...[header, ...rows].map((r) => r[k].length)));
  const line = (r) => `${r.client_id.padEnd(widths[0])}  ${r.method.padEnd(widths[1])}  ${r.credential}`;
  return [line(header), ...rows.map(line)].join("\n");
}

/** ADMIN_TOKEN from a dotenv-style file such as .dev.vars, or undefined. */
export async function readDevVar(name, file = ".dev.vars") {
  const text = await readFile(file, "utf8").catch(() => "");
  const match = new RegExp(`^\\s*${name}\\s*=\\s*"?([^"\\n]*)"?\\s*$`, "m").exec(text);
  return match?.[1];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.LATCHKEY_URL ?? "http://localhost:8787" },
      "admin-token": { type: "string" },
      "state-dir": { type: "string", default: ".wrangler/demo" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(`Usage: node scripts/seed.mjs [--url URL] [--admin-token TOKEN] [--state-dir DIR]

Creates or updates the demo clients (one per token endpoint authentication method, a web client
and a public client for sign-in) and the demo user ${DEMO_USER.email} on a running Latchkey
through its admin API, and prints their credentials.

  --url          the server (default $LATCHKEY_URL, else http://localhost:8787)
  --admin-token  the ADMIN_TOKEN secret (default $ADMIN_TOKEN, else the value in .dev.vars)
  --state-dir    where generated demo keys and certificates are kept (default .wrangler/demo)`);
    process.exit(0);
  }
  const adminToken = values["admin-token"] ?? process.env.ADMIN_TOKEN ?? (await readDevVar("ADMIN_TOKEN"));
  if (!adminToken) {
    console.error("No admin token: pass --admin-token, set ADMIN_TOKEN, or create .dev.vars (npm run dev does).");
    process.exit(1);
  }
  try {
    await seedDemo({ url: values.url, adminToken, stateDir: values["state-dir"] });
  } catch (error) {
    console.error(`seed: ${error.message}${error.cause ? ` (${error.cause.message ?? error.cause})` : ""}`);
    process.exit(1);
  }
}
