/**
 * What the MCP browser test needs besides ./harness.ts: the example MCP server (examples/mcp-server)
 * built the way `wrangler deploy` would bundle it and run in workerd through Miniflare, and an
 * in-memory OAuthClientProvider for the MCP SDK's client whose "redirect to the authorization
 * server" is a real Chromium tab (the test signs the person in there and catches the redirect back).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { Miniflare } from "miniflare";
import type { Page } from "playwright-core";
import { compatibilityDate, freePort } from "../../scripts/local-worker.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const EXAMPLE_CONFIG = join(ROOT, "examples", "mcp-server", "wrangler.toml");

export interface McpExample {
  /** The MCP endpoint: the resource URI. */
  url: string;
  dispose(): Promise<void>;
}

/** A loopback port and the MCP endpoint URL on it, known before the server starts (Latchkey's RESOURCES names it). */
export async function mcpEndpoint(): Promise<{ port: number; url: string }> {
  const port = await freePort();
  return { port, url: `http://127.0.0.1:${port}/mcp` };
}

/** Bundles examples/mcp-server with wrangler (no upload) and runs it on `port`, its settings pointing at `issuer`. */
export async function startMcpExample(issuer: string, endpoint: { port: number; url: string }): Promise<McpExample> {
  const out = await mkdtemp(join(tmpdir(), "latchkey-mcp-example-"));
  try {
    await promisify(execFile)(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", out, "-c", EXAMPLE_CONFIG], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      maxBuffer: 16 * 1024 * 1024,
    });
    const mf = new Miniflare({
      host: "127.0.0.1",
      port: endpoint.port,
      cf: false,
      // The shape of scripts/local-worker.mjs's workerConfig: the bundle as one module, text vars.
      workers: [{
        config: {
          name: "latchkey-example-mcp",
          manifest: { mainModule: "index.js", modulesRoot: out, modules: { "index.js": { type: "esm", contents: await readFile(join(out, "index.js"), "utf8") } } },
          env: { LATCHKEY_ISSUER: { type: "text", value: issuer }, MCP_RESOURCE: { type: "text", value: endpoint.url } },
          compatibilityDate: await compatibilityDate(),
          compatibilityFlags: ["nodejs_compat"],
        },
      }],
    } as ConstructorParameters<typeof Miniflare>[0]);
    await mf.ready;
    return { url: endpoint.url, dispose: async () => { await mf.dispose(); await rm(out, { recursive: true, force: true }); } };
  } catch (error) {
    await rm(out, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The MCP SDK's OAuthClientProvider for the test: everything kept in memory, the redirect URI a
 * loopback URL nothing listens on (the Chromium tab's navigation to it is intercepted by the test),
 * `redirectToAuthorization` only records the URL. With `clientMetadataUrl` the SDK uses a client ID
 * metadata document when the server advertises support; without, it registers dynamically.
 */
export class TestOAuthProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  clientMetadataUrl?: string;

  constructor(readonly redirectUrl: string, options: { clientMetadataUrl?: string } = {}) {
    if (options.clientMetadataUrl !== undefined) this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "MCP SDK test client",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/**
 * In `page`: opens the authorization URL, signs `person` in on Latchkey's page (unless signed in
 * already), allows on the consent page, and returns the query of the redirect back to `redirectUrl` (caught, never sent).
 */
export async function signInAndAllow(page: Page, authorizationUrl: URL, redirectUrl: string, person: { email: string; password: string }): Promise<URLSearchParams> {
  let callback: URL | undefined;
  const prefix = redirectUrl.split("?")[0]!;
  const isCallback = (url: URL) => url.href.startsWith(prefix);
  await page.route(isCallback, async (route) => {
    callback = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>MCP client</title><h1>Signed in</h1>" });
  });
  try {
    await page.goto(authorizationUrl.href);
    // Signed in already (an earlier flow in this browser): straight to consent.
    await page.waitForURL((url) => url.pathname === "/login" || url.pathname === "/consent");
    if (new URL(page.url()).pathname === "/login") {
      await page.getByLabel("Email address").fill(person.email);
      await page.getByLabel("Password").fill(person.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL((url) => url.pathname === "/consent");
    }
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL((url) => url.href.startsWith(prefix));
  } finally {
    await page.unroute(isCallback);
  }
  if (callback === undefined) throw new Error("the authorization server never redirected back");
  return callback.searchParams;
}
