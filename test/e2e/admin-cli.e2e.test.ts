/**
 * End to end: the operator's command line (`npm run admin`, scripts/admin.mjs) run as a child
 * process against the built Worker in workerd (scripts/local-worker.mjs), over real HTTP. An
 * operator creates, lists, shows, updates, re-keys and deletes a client; creates a user, marks the
 * email verified and disables the account; a person signs in with a browser (cookie jar, forms) and
 * consents; the operator lists and withdraws that grant; keys rotate. Both the tables and --json.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { HttpBrowser, forms } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;
let worker: Worker;

const CLI = resolve(import.meta.dirname, "../../scripts/admin.mjs");
const REDIRECT_URI = "https://rp.example/callback";
const PASSWORD = "a person's long password";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node scripts/admin.mjs <args>` against the local Worker (unless args name their own --url/--token). */
function cli(args: string[], opts: { stdin?: string; auth?: boolean; env?: Record<string, string> } = {}): Promise<Run> {
  const target = opts.auth === false ? [] : ["--url", worker.url, "--token", worker.adminToken];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args, ...target], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", fail).on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? "");
  });
}

/** A successful run's output (exit 0, nothing on stderr). */
async function ok(args: string[], opts: { stdin?: string } = {}): Promise<string> {
  const run = await cli(args, opts);
  expect({ code: run.code, stderr: run.stderr }, run.stdout).toEqual({ code: 0, stderr: "" });
  return run.stdout;
}
const okJson = async (args: string[], opts: { stdin?: string } = {}) => JSON.parse(await ok([...args, "--json"], opts));

/** The header line of a table and the row that contains `text`, split into cells. */
function row(table: string, text: string): string[] {
  const line = table.split("\n").find((l) => l.includes(text));
  expect(line, `no row with ${text} in:\n${table}`).toBeDefined();
  return line!.split(/ {2,}/);
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
const clientCredentials = (id: string, secret: string) =>
  fetch(`${worker.url}/token`, {
    method: "POST",
    headers: { authorization: basic(id, secret), "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials&scope=read",
  });

beforeAll(async () => {
  worker = await startLocalWorker();
});
afterAll(async () => {
  await worker?.dispose();
});

describe("npm run admin: clients", () => {
  it("create → list → show → update → rotate-secret → delete, as tables and as JSON", async () => {
    const created = await ok(["clients", "create", "--id", "cli-app", "--name", "CLI App", "--redirect-uri", REDIRECT_URI,
      "--grant-type", "authorization_code", "--grant-type", "client_credentials", "--scope", "read openid"]);
    expect(created).toMatch(/^Created client cli-app\.\n/);
    expect(created).toMatch(/^client_name +CLI App$/m);
    expect(created).toMatch(/^redirect_uris +https:\/\/rp\.example\/callback$/m);
    const secret = /^client_secret: (\S+)$/m.exec(created)?.[1];
    expect(secret).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(created).toContain("shown once");
    expect((await clientCredentials("cli-app", secret!)).status).toBe(200);

    const again = await cli(["clients", "create", "--id", "cli-app"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");

    const generated = await okJson(["clients", "create", "--name", "Generated", "--grant-type", "client_credentials"]);
    expect(generated).toMatchObject({ client_name: "Generated", token_endpoint_auth_method: "client_secret_basic", client_secret: expect.any(String) });

    const list = await ok(["clients", "list"]);
    expect(list.split("\n")[0]).toMatch(/^CLIENT_ID +NAME +AUTH METHOD +GRANT TYPES +DISABLED +CREATED +REDIRECT URIS$/);
    expect(row(list, "cli-app")).toEqual(["cli-app", "CLI App", "client_secret_basic", "authorization_code, client_credentials", "no",
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/), REDIRECT_URI]);
    const listed = await okJson(["clients", "list"]);
    expect(listed.clients.map((c: { client_id: string }) => c.client_id)).toEqual(expect.arrayContaining(["cli-app", generated.client_id]));
    expect(listed.next).toBeNull();
    const paged = await okJson(["clients", "list", "--limit", "1"]);
    expect(paged.clients).toHaveLength(1);
    expect(paged.next).toEqual(expect.any(String));
    expect(await ok(["clients", "list", "--limit", "1"])).toContain(`(more: --after ${paged.next})`);

    expect(await ok(["clients", "show", "cli-app"])).toMatch(/^client_id +cli-app\nclient_name +CLI App\ndisabled +no\n/);
    const shown = await okJson(["clients", "show", "cli-app"]);
    expect(shown).toMatchObject({ client_id: "cli-app", scope: "read openid", disabled: false });
    expect(shown).not.toHaveProperty("client_secret");

    const updated = await ok(["clients", "update", "cli-app", "--name", "Renamed App", "--scope", "read openid offline_access"]);
    expect(updated).toMatch(/^client_name +Renamed App$/m);
    expect(updated).not.toContain("client_secret:");
    expect((await clientCredentials("cli-app", secret!)).status).toBe(200); // PATCH keeps the secret
    expect(await okJson(["clients", "update", "cli-app", "--disable"])).toMatchObject({ disabled: true });
    expect((await clientCredentials("cli-app", secret!)).status).toBe(401);
    expect(await okJson(["clients", "update", "cli-app", "--enable"])).toMatchObject({ disabled: false });

    const rotated = await ok(["clients", "rotate-secret", "cli-app"]);
    const newSecret = /^client_secret: (\S+)$/m.exec(rotated)?.[1];
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(newSecret).not.toBe(secret);
    expect((await clientCredentials("cli-app", secret!)).status).toBe(401);
    expect((await clientCredentials("cli-app", newSecret!)).status).toBe(200);
    const rotatedJson = await okJson(["clients", "rotate-secret", generated.client_id]);
    expect(rotatedJson.client_secret).not.toBe(generated.client_secret);

    const unconfirmed = await cli(["clients", "delete", generated.client_id]);
    expect(unconfirmed).toMatchObject({ code: 2, stdout: "" });
    expect(unconfirmed.stderr).toMatch(/^error: .*add --yes to confirm/);
    expect(await ok(["clients", "delete", generated.client_id, "--yes"])).toContain(`Deleted client ${generated.client_id}`);
    const gone = await cli(["clients", "show", generated.client_id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`error: GET /admin/clients/${generated.client_id} → 404 invalid_request (not_found): No such client.\n`);
  });

  it("explains bad input: server-side validation, unknown commands, missing arguments, bad tokens", async () => {
    const invalid = await cli(["clients", "create", "--redirect-uri", "https://rp.example/cb#fragment"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: POST \/admin\/clients → 400 invalid_redirect_uri \([a-z_]+\): .*redirect.+\n$/);
    const badJson = await cli(["clients", "create", "--metadata", "{not json"]);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("--metadata must be a JSON object");

    for (const [args, message] of [
      [["clients", "frobnicate"], 'unknown command "clients frobnicate"'],
      [["widgets", "list"], 'unknown command group "widgets"'],
      [["clients", "show"], "missing <client_id>"],
      [["grants", "revoke", "someone@example.com"], "missing <client_id>"],
      [["clients", "show", "a", "b"], 'unexpected argument "b"'],
      [["keys", "list", "--force"], "keys list does not take --force"],
      [["clients", "update", "cli-app"], "nothing to change"],
    ] as const) {
      const run = await cli([...args]);
      expect({ code: run.code, stdout: run.stdout }, run.stderr).toEqual({ code: 2, stdout: "" });
      expect(run.stderr).toContain(message);
    }

    const wrongToken = await cli(["clients", "list", "--url", worker.url, "--token", "wrong"], { auth: false });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toMatch(/→ 401 invalid_token \(invalid_token\): A valid operator token is required\. — check --token/);
    const noToken = await cli(["clients", "list", "--url", "https://auth.example.invalid"], { auth: false });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("no operator token");
    const unreachable = await cli(["keys", "list", "--url", "http://127.0.0.1:9", "--token", "x"], { auth: false });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:9/);

    // Ids are random base64url: one may begin with "-" and is still an id, not a cluster of short options.
    const dashId = await cli(["users", "show", "-Yq3nT0sWb1EjYq3nT0sWb1"]);
    expect(dashId.code, dashId.stderr).toBe(1);
    expect(dashId.stderr).toMatch(/→ 404 /);
    const dashAfter = await cli(["clients", "list", "--after", "-Yq3nT0sWb1EjYq3nT0sWb1", "--json"]);
    expect(dashAfter.code, dashAfter.stderr).toBe(0);

    const help = await cli(["clients", "create", "--help"], { auth: false });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run admin -- clients create \[options\]/);
    const overview = await cli(["--help"], { auth: false });
    expect(overview.stdout).toContain("grants revoke");
  });
});

describe("npm run admin: users and their grants", () => {
  it("create → verify-email → sign-in and consent → grants list → grants revoke → disable", async () => {
    const email = `cli-${randomBytes(4).toString("hex")}@example.com`;
    const created = await okJson(["users", "create", email, "--password-stdin", "--name", "Cli Person"], { stdin: `${PASSWORD}\n` });
    expect(created).toMatchObject({ email, email_verified: false, has_password: true, claims: { name: "Cli Person" } });
    expect(row(await ok(["users", "list"]), email)).toEqual([created.id, email, "no", "no", "yes", expect.any(String)]);

    expect(await ok(["users", "verify-email", email])).toMatch(new RegExp(`^${email}: email address marked verified\\.`));
    expect(await okJson(["users", "show", created.id])).toMatchObject({ id: created.id, email_verified: true, disabled: false });
    expect(await ok(["users", "show", email])).toMatch(/^email_verified +yes$/m);

    const client = await okJson(["clients", "create", "--name", "Grant App", "--redirect-uri", REDIRECT_URI, "--scope", "openid offline_access"]);
    const tokens = await signIn(client, email);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const userinfo = () => fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await userinfo()).status).toBe(200);

    const grants = await ok(["grants", "list", email]);
    expect(grants).toMatch(new RegExp(`^Grants of ${email}:`));
    expect(row(grants, client.client_id)).toEqual([client.client_id, "Grant App", expect.any(String), expect.any(String), "openid offline_access"]);
    expect(await okJson(["grants", "list", created.id])).toEqual({
      user: created.id,
      grants: [{ client_id: client.client_id, client_name: "Grant App", scope: "openid offline_access", resources: [], created_at: expect.any(Number), updated_at: expect.any(Number) }],
    });

    expect(await ok(["grants", "revoke", email, client.client_id])).toContain(`Withdrew ${email}'s grant to ${client.client_id}`);
    expect((await userinfo()).status).toBe(401);
    expect(await ok(["grants", "list", email])).toContain("(none)");
    const twice = await cli(["grants", "revoke", email, client.client_id]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("404 invalid_request (not_found): This user has no grant for this client.");

    expect(await ok(["users", "disable", email])).toContain(`${email}: disabled`);
    expect(await okJson(["users", "show", email])).toMatchObject({ disabled: true });
    expect(await okJson(["users", "enable", created.id])).toMatchObject({ disabled: false });
  });
});

describe("npm run admin: keys", () => {
  it("keys init gives every algorithm a current key (after the first deploy), reaching the server named by $LATCHKEY_URL with $ADMIN_TOKEN", async () => {
    const run = await cli(["keys", "init"], { auth: false, env: { LATCHKEY_URL: worker.url, ADMIN_TOKEN: worker.adminToken } });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^Every algorithm already has a current signing key\.\n\nKID +ALG +STATE/);
    for (const alg of ["ES256", "RS256", "EdDSA"]) expect(row(run.stdout, alg)[2]).toBe("current");
    expect(await okJson(["keys", "init"])).toMatchObject({ created: [], keys: expect.any(Array) });
  });

  it("keys list, keys rotate (publishes next keys), keys rotate --force (promotes them)", async () => {
    const listed = await ok(["keys", "list"]);
    expect(listed.split("\n")[0]).toMatch(/^KID +ALG +STATE +CREATED +SIGNS SINCE +RETIRED +LEAVES JWKS +IN JWKS$/);
    for (const alg of ["ES256", "RS256", "EdDSA"]) expect(row(listed, alg)).toEqual([expect.any(String), alg, "current", expect.any(String), expect.any(String), "yes"]);

    const first = await ok(["keys", "rotate"]);
    expect(first.split("\n")[0]).toMatch(/^ALG +PROMOTED +RETIRED +NEW NEXT KEY +NEXT SIGNS FROM$/);
    const es256 = row(first, "ES256");
    expect(es256.slice(0, 3)).toEqual(["ES256", "-", "-"]);
    const nextKid = es256[3]!;
    const jwks = (await (await fetch(`${worker.url}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(nextKid);

    const forced = await cli(["keys", "rotate", "--force", "--json"]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain("--force");
    const report = JSON.parse(forced.stdout);
    expect(report.algs.find((a: { alg: string }) => a.alg === "ES256")).toMatchObject({ promoted: nextKid, retired: [expect.any(String)] });
    const states = (await okJson(["keys", "list"])).keys.filter((k: { alg: string }) => k.alg === "ES256").map((k: { state: string }) => k.state);
    expect(states.sort()).toEqual(["current", "next", "retired"]);
  });
});

describe("npm run admin: registration", () => {
  it("registration create-token makes an initial access token, shown once, with its limits", async () => {
    const shown = await ok(["registration", "create-token", "--max-uses", "3"]);
    expect(shown).toMatch(/^initial access token: [A-Za-z0-9_-]{43}\n\(shown once: the server keeps only a hash\)\nexpires: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ   registrations: 3\n$/);
    expect(await okJson(["registration", "create-token", "--ttl", "never", "--max-uses", "unlimited"])).toMatchObject({ expires_at: null, max_uses: null });
    const bad = await cli(["registration", "create-token", "--max-uses", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--max-uses must be a positive whole number");
  });

  it("registration list shows recent self-registered clients, not yet used, as a table and as JSON", async () => {
    const res = await fetch(new URL("/register", worker.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: "Listed by the CLI" }),
    });
    expect(res.status).toBe(201);
    const { client_id } = (await res.json()) as { client_id: string };
    const table = await ok(["registration", "list", "--since", "1h"]);
    expect(table.split("\n")[0]).toMatch(/^CLIENT_ID +NAME +REGISTERED +NETWORK +USED +AUTH METHOD +REDIRECT HOSTS$/);
    // workerd sets CF-Connecting-IP to the loopback address the CLI's server was reached at.
    expect(row(table, client_id)).toEqual([
      client_id, "Listed by the CLI", expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/), "127.0.0.0/24", "no", "client_secret_basic", "rp.example",
    ]);
    const { registrations } = await okJson(["registration", "list", "--since", "1h"]);
    expect(registrations).toContainEqual(expect.objectContaining({ client_id, used: false, first_used_at: null, redirect_hosts: ["rp.example"] }));
    const bad = await cli(["registration", "list", "--since", "last week"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--since must be a duration");
  });
});

describe("npm run admin: client-documents (client ID metadata documents)", () => {
  it("client-documents block a URL never seen → list shows it blocked (table and JSON) → unblock; a URL that is not one is refused", async () => {
    const url = `https://app.example/oauth/${randomBytes(6).toString("hex")}.json`;
    expect(await ok(["client-documents", "block", url])).toContain(`Blocked ${url}`);
    const table = await ok(["client-documents", "list"]);
    expect(table.split("\n")[0]).toMatch(/^CLIENT_ID +NAME +FIRST SEEN +LAST SEEN +BLOCKED$/);
    const cells = row(table, url);
    expect([cells[0], cells.at(-1)]).toEqual([url, "yes"]);
    const { documents } = await okJson(["client-documents", "list"]);
    expect(documents).toContainEqual(expect.objectContaining({ client_id: url, host: "app.example", blocked: true, fetched_at: null }));
    expect(await ok(["client-documents", "unblock", url])).toContain(`Unblocked ${url}`);
    expect(row(await ok(["client-documents", "list"]), url).at(-1)).toBe("no");
    const bad = await cli(["client-documents", "block", "http://app.example/c.json"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("must use https");
  });
});

/** A person signs in and consents in a browser; the relying party redeems the code. */
async function signIn(client: { client_id: string; client_secret: string }, email: string) {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL("/authorize", worker.url);
  url.search = new URLSearchParams({
    response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT_URI, scope: "openid offline_access", prompt: "consent",
    state: "s", nonce: "n", code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
  }).toString();
  const browser = new HttpBrowser(worker.url);
  let visit = await browser.go(url.href);
  for (let step = 0; step < 4 && !visit.left; step++) {
    const actions = forms(visit.html, visit.url).map((f) => new URL(f.action).pathname);
    if (actions.includes("/login")) visit = await browser.submit(visit, "/login", { email, password: PASSWORD });
    else if (actions.includes("/consent")) visit = await browser.submit(visit, "/consent", { decision: "allow" });
    else break;
  }
  expect(visit.left, browser.history.join(", ")).toBe(true);
  const code = new URL(visit.url).searchParams.get("code")!;
  const res = await fetch(`${worker.url}/token`, {
    method: "POST",
    headers: { authorization: basic(client.client_id, client.client_secret), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token?: string };
}
