// The operator CLI's commands (scripts/admin.mjs): what each one sends to the admin API and how
// its answer is shown. A command is { summary, args?, options?, help?, run(ctx, args, options) };
// `ctx.out(data, render)` prints `render(data)`, or `data` as JSON with --json.
import { readFile } from "node:fs/promises";
import { ApiError, UsageError, listPages } from "./api.mjs";
import { fields, table, time } from "./output.mjs";

// ── input helpers ─────────────────────────────────────────────────────────────────────────────

/** A JSON object given inline or as @file. */
async function jsonOption(value, flag) {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = await readFile(value.slice(1), "utf8");
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${value.slice(1)}: ${error.code ?? error.message}`);
    }
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} must be a JSON object (or @file.json): ${value.slice(0, 60)}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`${flag} must be a JSON object`);
  return parsed;
}

async function clientInput(opts) {
  const input = opts.metadata !== undefined ? await jsonOption(opts.metadata, "--metadata") : {};
  if (opts.name !== undefined) input.client_name = opts.name;
  if (opts.method !== undefined) input.token_endpoint_auth_method = opts.method;
  if (opts["redirect-uri"]) input.redirect_uris = opts["redirect-uri"];
  if (opts["grant-type"]) input.grant_types = opts["grant-type"];
  if (opts.scope !== undefined) input.scope = opts.scope;
  if (opts.native) input.application_type = "native";
  if (opts["first-party"]) input.first_party = true;
  return input;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

/** A user named by id or by email address (anything with an @). */
async function findUser(api, ref) {
  return ref.includes("@") ? api("GET", `/admin/users?email=${encodeURIComponent(ref)}`) : api("GET", `/admin/users/${encodeURIComponent(ref)}`);
}

const enc = encodeURIComponent;

// ── how things are shown ──────────────────────────────────────────────────────────────────────

const CLIENT_TIMES = new Set(["client_id_issued_at", "client_secret_expires_at"]);
const CLIENT_FIRST = ["client_id", "client_name", "disabled", "token_endpoint_auth_method", "grant_types", "response_types", "redirect_uris", "scope", "application_type"];

function showClient(client) {
  const names = [...CLIENT_FIRST, ...Object.keys(client).filter((k) => !CLIENT_FIRST.includes(k) && k !== "client_secret")];
  return fields(client, names.map((name) => [name, (c) => (CLIENT_TIMES.has(name) ? time(c[name], { zeroIsNever: true }) : c[name])]));
}

const clientTable = (clients) => table(clients, [
  ["CLIENT_ID", (c) => c.client_id], ["NAME", (c) => c.client_name], ["AUTH METHOD", (c) => c.token_endpoint_auth_method],
  ["GRANT TYPES", (c) => c.grant_types], ["DISABLED", (c) => c.disabled], ["CREATED", (c) => time(c.client_id_issued_at)],
  ["REDIRECT URIS", (c) => c.redirect_uris],
]);

const showUser = (user) => fields(user, [
  ["id", (u) => u.id], ["email", (u) => u.email], ["email_verified", (u) => u.email_verified], ["disabled", (u) => u.disabled],
  ["has_password", (u) => u.has_password], ["claims", (u) => (Object.keys(u.claims ?? {}).length ? u.claims : undefined)],
  ["created_at", (u) => time(u.created_at)], ["updated_at", (u) => time(u.updated_at)],
]);

const userTable = (users) => table(users, [
  ["ID", (u) => u.id], ["EMAIL", (u) => u.email], ["VERIFIED", (u) => u.email_verified], ["DISABLED", (u) => u.disabled],
  ["PASSWORD", (u) => u.has_password], ["CREATED", (u) => time(u.created_at)],
]);

const keyTable = (keys) => table(keys, [
  ["KID", (k) => k.kid], ["ALG", (k) => k.alg], ["STATE", (k) => k.state], ["CREATED", (k) => time(k.created_at)],
  ["SIGNS SINCE", (k) => time(k.activated_at)], ["RETIRED", (k) => time(k.retired_at)], ["LEAVES JWKS", (k) => time(k.expires_at)],
  ["IN JWKS", (k) => k.published],
]);

const secretNote = (secret) => `\nclient_secret: ${secret}\n(shown once: store it now; the server keeps only a hash)`;

/** `client-documents block|unblock <client_id URL>`: PATCH { blocked }. */
function documentBlock(blocked, verb, effect) {
  return {
    summary: `${blocked ? "block" : "unblock"} a client ID metadata document's client`, args: ["client_id"],
    async run({ api, out }, [clientId]) {
      const doc = await api("PATCH", `/admin/client-metadata-documents/${enc(clientId)}`, { blocked });
      return out(doc, (d) => `${verb} ${d.client_id}: ${effect}.`);
    },
  };
}

// ── commands ──────────────────────────────────────────────────────────────────────────────────

export const COMMANDS = {
  clients: {
    list: {
      summary: "list clients", options: ["limit", "after"],
      async run({ api, out }, [], opts) {
        const { items, next } = await listPages(api, "/admin/clients", "clients", opts);
        return out({ clients: items, next }, () => clientTable(items) + (next ? `\n(more: --after ${next})` : ""));
      },
    },
    show: {
      summary: "show a client's registration", args: ["client_id"],
      run: async ({ api, out }, [id]) => out(await api("GET", `/admin/clients/${enc(id)}`), showClient),
    },
    create: {
      summary: "register a client (a secret-based one gets a secret, shown once)",
      options: ["id", "name", "method", "redirect-uri", "grant-type", "scope", "native", "first-party", "metadata"],
      async run({ api, out }, [], opts) {
        const input = await clientInput(opts);
        let client;
        if (opts.id !== undefined) {
          const exists = await api("GET", `/admin/clients/${enc(opts.id)}`).then(() => true, (e) => (e.status === 404 ? false : Promise.reject(e)));
          if (exists) throw new ApiError(`client ${opts.id} already exists; change it with \`clients update ${opts.id}\``);
          client = await api("PUT", `/admin/clients/${enc(opts.id)}`, input);
        } else {
          client = await api("POST", "/admin/clients", input);
        }
        return out(client, (c) => `Created client ${c.client_id}.\n\n${showClient(c)}${c.client_secret ? secretNote(c.client_secret) : ""}`);
      },
    },
    update: {
      summary: "change some of a client's metadata (the rest stays)", args: ["client_id"],
      options: ["name", "method", "redirect-uri", "grant-type", "scope", "native", "first-party", "metadata", "enable", "disable"],
      async run({ api, out }, [id], opts) {
        if (opts.enable && opts.disable) throw new UsageError("--enable and --disable contradict each other");
        const patch = await clientInput(opts);
        if (opts.enable || opts.disable) patch.disabled = Boolean(opts.disable);
        if (Object.keys(patch).length === 0) throw new UsageError("nothing to change: give at least one option (see --help)");
        const client = await api("PATCH", `/admin/clients/${enc(id)}`, patch);
        return out(client, (c) => `Updated client ${c.client_id}.\n\n${showClient(c)}${c.client_secret ? secretNote(c.client_secret) : ""}`);
      },
    },
    delete: {
      summary: "delete a client, revoking every grant and refresh token it holds", args: ["client_id"], options: ["yes"],
      help: "Access tokens it already holds cannot be recalled from resource servers that verify them\nlocally: they stay valid there until they expire (10 minutes by default).",
      async run({ api, out }, [id], opts) {
        if (!opts.yes) throw new UsageError(`deleting ${id} revokes every grant and refresh token it holds; add --yes to confirm`);
        await api("DELETE", `/admin/clients/${enc(id)}`);
        return out({ deleted: id }, () => `Deleted client ${id}; its grants and refresh tokens are revoked.`);
      },
    },
    "rotate-secret": {
      summary: "replace a client's secret (the old one stops working)", args: ["client_id"],
      async run({ api, out }, [id]) {
        const client = await api("POST", `/admin/clients/${enc(id)}/secret`);
        return out(client, (c) => `New secret for ${c.client_id}; the old one no longer works (other server instances follow within 30 s).${secretNote(c.client_secret)}`);
      },
    },
  },
  users: {
    create: {
      summary: "create a user", args: ["email"], options: ["password", "password-stdin", "verified", "name", "claims"],
      async run({ api, out }, [email], opts) {
        if (opts.password !== undefined && opts["password-stdin"]) throw new UsageError("give --password or --password-stdin, not both");
        const password = opts["password-stdin"] ? await readStdin() : opts.password;
        const claims = opts.claims !== undefined ? await jsonOption(opts.claims, "--claims") : {};
        if (opts.name !== undefined) claims.name = opts.name;
        const body = { email, email_verified: Boolean(opts.verified), ...(password !== undefined && { password }), ...(Object.keys(claims).length && { claims }) };
        return out(await api("POST", "/admin/users", body), (u) => `Created user ${u.email}.\n\n${showUser(u)}`);
      },
    },
    show: {
      summary: "show a user", args: ["user"],
      run: async ({ api, out }, [ref]) => out(await findUser(api, ref), showUser),
    },
    list: {
      summary: "list users", options: ["limit", "after"],
      async run({ api, out }, [], opts) {
        const { items, next } = await listPages(api, "/admin/users", "users", opts);
        return out({ users: items, next }, () => userTable(items) + (next ? `\n(more: --after ${next})` : ""));
      },
    },
    "verify-email": userChange({ email_verified: true }, "email address marked verified"),
    disable: userChange({ disabled: true }, "disabled; their sessions are ended"),
    enable: userChange({ disabled: false }, "enabled"),
  },
  grants: {
    list: {
      summary: "list what a user granted to clients", args: ["user"],
      async run({ api, out }, [ref]) {
        const user = await findUser(api, ref);
        const { grants } = await api("GET", `/admin/users/${enc(user.id)}/grants`);
        return out({ user: user.id, grants }, () => `Grants of ${user.email}:\n\n${table(grants, [
          ["CLIENT_ID", (g) => g.client_id], ["NAME", (g) => g.client_name], ["GRANTED", (g) => time(g.created_at)],
          ["UPDATED", (g) => time(g.updated_at)], ["SCOPE", (g) => g.scope],
        ])}`);
      },
    },
    revoke: {
      summary: "withdraw a user's grant to a client", args: ["user", "client_id"],
      help: "The grant's refresh tokens stop working at once and its access tokens are refused at UserInfo;\nresource servers that verify access tokens locally accept them until they expire.",
      async run({ api, out }, [ref, clientId]) {
        const user = await findUser(api, ref);
        await api("DELETE", `/admin/users/${enc(user.id)}/grants/${enc(clientId)}`);
        return out({ user: user.id, revoked: clientId }, () => `Withdrew ${user.email}'s grant to ${clientId}; its refresh tokens are revoked.`);
      },
    },
  },
  "client-documents": {
    list: {
      summary: "list clients known by their client ID metadata document (an https URL as client_id)", options: ["limit", "after"],
      async run({ api, out }, [], opts) {
        const { items, next } = await listPages(api, "/admin/client-metadata-documents", "documents", opts);
        return out({ documents: items, next }, () => table(items, [
          ["CLIENT_ID", (d) => d.client_id], ["NAME", (d) => d.client_name], ["FIRST SEEN", (d) => time(d.first_seen)],
          ["LAST SEEN", (d) => time(d.last_seen)], ["BLOCKED", (d) => d.blocked],
        ]) + (next ? `\n(more: --after ${next})` : ""));
      },
    },
    block: documentBlock(true, "Blocked", "it is refused everywhere (other server instances follow within 30 s)"),
    unblock: documentBlock(false, "Unblocked", "it may be used again"),
  },
  registration: {
    "create-token": {
      summary: "make an initial access token for dynamic client registration (shown once)", options: ["ttl", "max-uses"],
      help: "With REGISTRATION_POLICY=initial_access_token (a deployment's default), a client registers at\n" +
        "/register only with `Authorization: Bearer <token>`. Hand the token to the developer.",
      async run({ api, out }, [], opts) {
        const body = { ...(opts.ttl !== undefined && { ttl: limit(opts.ttl, "--ttl", "never") }), ...(opts["max-uses"] !== undefined && { max_uses: limit(opts["max-uses"], "--max-uses", "unlimited") }) };
        return out(await api("POST", "/admin/initial-access-tokens", body), (t) => [
          `initial access token: ${t.token}`,
          "(shown once: the server keeps only a hash)",
          `expires: ${t.expires_at === null ? "never" : time(t.expires_at)}   registrations: ${t.max_uses ?? "unlimited"}`,
        ].join("\n"));
      },
    },
    list: {
      summary: "list recent self-registered clients and whether each was ever used", options: ["since", "limit", "after"],
      help: "Clients that registered themselves at /register (RFC 7591), newest first, with the network they\n" +
        "registered from (IPv4 /24, IPv6 /48). USED is whether a token was ever issued to one; an unused one\n" +
        "is removed by maintenance UNUSED_CLIENT_TTL after it registered (default a day).",
      async run({ api, out }, [], opts) {
        const since = sinceTime(opts.since ?? "7d");
        const { items, next } = await listPages(api, `/admin/registrations?since=${since}`, "registrations", opts);
        return out({ registrations: items, next }, () => table(items, [
          ["CLIENT_ID", (r) => r.client_id], ["NAME", (r) => r.client_name], ["REGISTERED", (r) => time(r.created_at)],
          ["NETWORK", (r) => r.network ?? "-"], ["USED", (r) => (r.first_used_at === 0 ? "yes (before tracking)" : r.used ? `yes, ${time(r.first_used_at)}` : "no")],
          ["AUTH METHOD", (r) => r.token_endpoint_auth_method], ["REDIRECT HOSTS", (r) => r.redirect_hosts],
        ]) + (next ? `\n(more: --after ${next})` : ""));
      },
    },
  },
  keys: {
    init: {
      summary: "give every algorithm a current signing key (a new deployment; changes nothing when they have one)",
      help: "Run it once after the first deploy, before anyone signs in: it makes the ES256, RS256 and EdDSA\n" +
        "keys that sign tokens (sealed under ENCRYPTION_KEY) and publishes them in /jwks. Safe to repeat.",
      async run({ api, out }) {
        const { created } = await api("POST", "/admin/keys");
        const { keys } = await api("GET", "/admin/keys");
        return out({ created, keys }, () =>
          `${created.length ? `Created ${created.length} signing keys.` : "Every algorithm already has a current signing key."}\n\n${keyTable(keys)}`);
      },
    },
    list: {
      summary: "list signing keys and their states",
      run: async ({ api, out }) => out(await api("GET", "/admin/keys"), ({ keys }) => keyTable(keys)),
    },
    rotate: {
      summary: "one rotation step: publish a next key, or promote it once published long enough", options: ["force"],
      help: "Each algorithm's next key is published in /jwks first and signs only 600 s later (the JWKS\n" +
        "cache time plus margin); the old key is retired and stays published until its last token expires.\n" +
        "--force promotes now: verifiers holding a cached JWKS without the new key (up to about 6 minutes)\n" +
        "refuse tokens it signs until they refetch. Use it when a key must stop signing at once.",
      async run({ api, out, warn }, [], opts) {
        if (opts.force) warn("--force: the new keys sign at once; verifiers with a cached JWKS may refuse their tokens for a few minutes.");
        const report = await api("POST", "/admin/keys/rotate", { force: Boolean(opts.force) });
        return out(report, (r) => [
          table(r.algs, [
            ["ALG", (a) => a.alg], ["PROMOTED", (a) => a.promoted ?? "-"], ["RETIRED", (a) => (a.retired.length ? a.retired : "-")],
            ["NEW NEXT KEY", (a) => (a.created.length ? a.created.at(-1) : "-")], ["NEXT SIGNS FROM", (a) => (a.next ? time(a.next.promotable_at) : "")],
          ]),
          ...(r.deleted.length ? [`\nDeleted expired keys: ${r.deleted.join(", ")}`] : []),
          `\n${keyTable(r.keys)}`,
        ].join("\n"));
      },
    },
  },
};

/** A whole number for --ttl/--max-uses, or null for the word that means "no limit". */
function limit(value, flag, none) {
  if (value === none) return null;
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`${flag} must be a positive whole number or "${none}"`);
  return Number(value);
}

/** --since: a duration back from now (30m, 24h, 7d) or a Unix time in seconds. */
function sinceTime(value) {
  const ago = /^(\d+)([mhd])$/.exec(value);
  if (ago) return Math.floor(Date.now() / 1000) - Number(ago[1]) * { m: 60, h: 3600, d: 86400 }[ago[2]];
  if (/^\d+$/.test(value)) return Number(value);
  throw new UsageError(`--since must be a duration such as 24h or 7d, or a Unix time in seconds: ${value}`);
}

function userChange(patch, done) {
  return {
    summary: `${Object.keys(patch)[0] === "disabled" ? (patch.disabled ? "disable" : "enable") + " a user" : "mark a user's email address verified"}`,
    args: ["user"],
    async run({ api, out }, [ref]) {
      const user = await findUser(api, ref);
      return out(await api("PATCH", `/admin/users/${enc(user.id)}`, patch), (u) => `${u.email}: ${done}.\n\n${showUser(u)}`);
    },
  };
}
