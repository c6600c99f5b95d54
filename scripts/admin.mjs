#!/usr/bin/env node
// The operator's command line: `npm run admin -- <group> <command> [arguments] [options]`.
// It talks to the admin HTTP API (/admin, src/endpoints/admin.ts) of a local Latchkey
// (`npm run dev`, http://localhost:8787) or a deployed one (--url, --token): clients, users,
// their grants and signing keys. Tables by default, the server's JSON with --json.
//
// Token: --token, else $ADMIN_TOKEN, else (for a loopback URL only) ADMIN_TOKEN in .dev.vars.
// Exit codes: 0 done; 1 the server refused or could not be reached; 2 bad command line.
// `npm run admin -- --help` lists the commands; `<group> <command> --help` explains one.
// The commands are in scripts/admin/commands.mjs, the HTTP client in scripts/admin/api.mjs.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ApiError, UsageError, apiClient } from "./admin/api.mjs";
import { COMMANDS } from "./admin/commands.mjs";
import { readDevVar } from "./seed.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const DEFAULT_URL = "http://localhost:8787";

// Every option any command takes, so one parse finds the group and command wherever options sit.
const OPTIONS = {
  url: { type: "string" }, token: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" },
  limit: { type: "string" }, after: { type: "string" },
  id: { type: "string" }, name: { type: "string" }, method: { type: "string" }, scope: { type: "string" },
  "redirect-uri": { type: "string", multiple: true }, "grant-type": { type: "string", multiple: true },
  native: { type: "boolean" }, "first-party": { type: "boolean" }, metadata: { type: "string" },
  enable: { type: "boolean" }, disable: { type: "boolean" }, yes: { type: "boolean" },
  password: { type: "string" }, "password-stdin": { type: "boolean" }, verified: { type: "boolean" }, claims: { type: "string" },
  force: { type: "boolean" }, ttl: { type: "string" }, "max-uses": { type: "string" }, since: { type: "string" },
};
const GLOBAL = ["url", "token", "json", "help"];

const OPTION_HELP = {
  limit: "--limit N           one page of N (1-200) instead of every page",
  after: "--after CURSOR      the page after CURSOR (printed when a page is not the last)",
  id: "--id CLIENT_ID      choose the client_id (default: generated)",
  name: "--name NAME         client_name (clients) or the name claim (users)",
  method: "--method METHOD     token_endpoint_auth_method, e.g. client_secret_basic, none, private_key_jwt",
  "redirect-uri": "--redirect-uri URI  a redirect URI (repeat for several)",
  "grant-type": "--grant-type TYPE   a grant type (repeat), e.g. authorization_code, client_credentials",
  scope: '--scope "A B"       the scopes the client may be granted',
  native: "--native            application_type native (RFC 8252 redirect rules)",
  "first-party": "--first-party       skip the consent page for this client",
  metadata: "--metadata JSON     more RFC 7591 metadata, as JSON or @file.json (the flags above win)",
  enable: "--enable            enable a disabled client",
  disable: "--disable           disable the client (its credentials stop working)",
  yes: "--yes               confirm the deletion",
  password: "--password PW       the password (visible in your shell history; prefer --password-stdin)",
  "password-stdin": "--password-stdin    read the password from standard input",
  verified: "--verified          mark the email address verified",
  claims: "--claims JSON       OIDC standard claims, as JSON or @file.json",
  force: "--force             promote the waiting key now instead of after its publish delay (see below)",
  ttl: "--ttl SECONDS       how long the token is valid (default 7 days; \"never\" for no expiry)",
  "max-uses": "--max-uses N        how many clients may register with it (default 1; \"unlimited\")",
  since: "--since WHEN        registered since WHEN: 30m, 24h, 7d (default) or a Unix time",
};

// ── help and the command line ─────────────────────────────────────────────────────────────────

const usageLine = (group, name, cmd) =>
  `npm run admin -- ${group} ${name}${(cmd.args ?? []).map((a) => ` <${a}>`).join("")}${cmd.options?.length ? " [options]" : ""}`;

function overview() {
  const lines = ["Usage: npm run admin -- <group> <command> [arguments] [options]", ""];
  for (const [group, commands] of Object.entries(COMMANDS)) {
    for (const [name, cmd] of Object.entries(commands)) lines.push(`  ${`${group} ${name}`.padEnd(22)} ${cmd.summary}`);
  }
  lines.push("", "Options for every command:",
    `  --url URL      the server (default $LATCHKEY_URL, else ${DEFAULT_URL})`,
    "  --token TOKEN  the operator token (default $ADMIN_TOKEN, else ADMIN_TOKEN in .dev.vars for a local URL)",
    "  --json         print the server's JSON instead of tables (for scripts: npm run -s admin -- … --json,",
    "                 so npm's banner stays out of the output)",
    "  --help         explain a command: npm run admin -- clients create --help",
    "", "A <user> is a user id or an email address. Exit codes: 0 done, 1 server error or unreachable, 2 bad command line.");
  return lines.join("\n");
}

function commandHelp(group, name, cmd) {
  return [`Usage: ${usageLine(group, name, cmd)}`, "", `${cmd.summary[0].toUpperCase()}${cmd.summary.slice(1)}.`,
    ...(cmd.options?.length ? ["", "Options:", ...cmd.options.map((o) => `  ${OPTION_HELP[o]}`)] : []),
    ...(cmd.help ? ["", cmd.help] : []), "", "Also: --url, --token, --json (npm run admin -- --help)"].join("\n");
}

/**
 * Ids are random base64url and may begin with "-" (a user id "-Yq…"): a word of that shape that is
 * not one of our options (`-h` is the only short one) is a value, not flags. parseArgs would read it
 * as short options, so it is shielded while parsing and unshielded after.
 */
const SHIELD = "\u0000";
const shield = (arg) => (/^-[^-]./.test(arg) ? SHIELD + arg : arg);
const unshield = (value) => (typeof value === "string" && value.startsWith(SHIELD) ? value.slice(1) : value);

function parse(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv.map(shield), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  const values = Object.fromEntries(Object.entries(parsed.values).map(([key, value]) => [key, unshield(value)]));
  const [group, name, ...args] = parsed.positionals.map(unshield);
  return { values, group, name, args };
}

/** Runs one command line; resolves the exit code. `io` receives output (tests pass their own). */
export async function main(argv, io = { stdout: (t) => console.log(t), stderr: (t) => console.error(t), env: process.env }) {
  try {
    const { values, group, name, args } = parse(argv);
    if (group === undefined) {
      (values.help ? io.stdout : io.stderr)(overview());
      return values.help ? 0 : 2;
    }
    const commands = COMMANDS[group];
    if (!commands) throw new UsageError(`unknown command group "${group}"; expected one of ${Object.keys(COMMANDS).join(", ")}`);
    const list = Object.keys(commands).join(", ");
    if (name === undefined) {
      if (!values.help) throw new UsageError(`${group} needs a command: ${list}`);
      io.stdout(Object.entries(commands).map(([n, c]) => `${usageLine(group, n, c).padEnd(60)} ${c.summary}`).join("\n"));
      return 0;
    }
    const cmd = commands[name];
    if (!cmd) throw new UsageError(`unknown command "${group} ${name}"; ${group} commands are ${list}`);
    if (values.help) {
      io.stdout(commandHelp(group, name, cmd));
      return 0;
    }

    const allowed = new Set([...GLOBAL, ...(cmd.options ?? [])]);
    const stray = Object.keys(values).find((o) => !allowed.has(o));
    if (stray) throw new UsageError(`${group} ${name} does not take --${stray} (see --help)`);
    const wanted = cmd.args ?? [];
    if (args.length < wanted.length) throw new UsageError(`missing <${wanted[args.length]}>: ${usageLine(group, name, cmd)}`);
    if (args.length > wanted.length) throw new UsageError(`unexpected argument "${args[wanted.length]}": ${usageLine(group, name, cmd)}`);
    if (values.limit !== undefined && !/^\d+$/.test(values.limit)) throw new UsageError("--limit must be a whole number");

    const base = (values.url ?? io.env.LATCHKEY_URL ?? DEFAULT_URL).replace(/\/+$/, "");
    let url;
    try {
      url = new URL(base);
    } catch {
      throw new UsageError(`--url must be a URL such as ${DEFAULT_URL}: ${base}`);
    }
    const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    const token = values.token ?? io.env.ADMIN_TOKEN ?? (local ? await readDevVar("ADMIN_TOKEN", resolve(ROOT, ".dev.vars")) : undefined);
    if (!token) throw new UsageError(`no operator token: pass --token or set ADMIN_TOKEN${local ? " (or run `npm run dev`, which writes .dev.vars)" : ""}`);

    const out = (data, render) => io.stdout(values.json ? JSON.stringify(data, null, 2) : render(data));
    await cmd.run({ api: apiClient(base, token, local ? " (is `npm run dev` running?)" : ""), out, warn: io.stderr }, args, values);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}`);
      return 2;
    }
    if (error instanceof ApiError) {
      io.stderr(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
