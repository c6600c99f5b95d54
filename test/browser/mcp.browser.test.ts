/**
 * Issue #15's acceptance: the official MCP TypeScript SDK (@modelcontextprotocol/sdk) as the client
 * of an MCP server on Workers that uses Latchkey as its authorization server (MCP authorization,
 * revision 2026-07-28).
 *
 * Latchkey's built Worker and the example MCP server (examples/mcp-server, protected by the
 * resource-server kit) run in workerd through Miniflare on loopback ports; Latchkey lists the MCP
 * endpoint in RESOURCES (RFC 8707) and lets self-registered clients ask for `mcp:tools`. The SDK's
 * client connects, is refused with a challenge naming the resource metadata (RFC 9728 §5.1),
 * discovers the protected resource and the authorization server (RFC 8414), registers dynamically
 * (RFC 7591), and sends the person to sign in — in real headless Chromium — with PKCE and the
 * `resource` parameter; then it calls the `whoami` tool, refreshes its tokens, and a token Latchkey
 * issued for another resource is refused by the MCP server. Then the same with a client ID metadata
 * document (draft-ietf-oauth-client-id-metadata-document-00, which MCP prefers): the SDK sees
 * `client_id_metadata_document_supported` and uses its https document URL as the client_id; the
 * document is served at a public https URL through Miniflare's outbound service (Latchkey's own
 * outbound policy still applies: a public host, no redirects, bounds).
 */
import { UnauthorizedError, auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { decodeJwt } from "jose";
import type { Page } from "playwright-core";
import { Response as WorkerResponse } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { clientPost, createPerson, launchPhone, registerClient, type PhoneBrowser, type Worker } from "./harness.js";
import { mcpEndpoint, signInAndAllow, startMcpExample, TestOAuthProvider, type McpExample } from "./mcp-harness.js";

const PERSON = { email: "mcp-user@example.com", password: "correct horse battery staple mcp" };

let worker: Worker;
let mcp: McpExample;
let otherResource: string;
let phone: PhoneBrowser;
let page: Page;
let personId: string;

/** The client ID metadata document's URL (a public https URL: the SDK accepts no other) and its redirect URI. */
const DOCUMENT_URL = "https://mcp-client.latchkey-test.dev/oauth/client-metadata.json";
const DOCUMENT_REDIRECT = `http://127.0.0.1:${50_000 + Math.floor(Math.random() * 5000)}/callback`;
const documentFetches: string[] = [];

/** Latchkey's outbound fetches: the document at DOCUMENT_URL, nothing else. */
function outbound(request: Request): WorkerResponse {
  documentFetches.push(request.url);
  if (request.url !== DOCUMENT_URL) return new WorkerResponse("not here", { status: 404 });
  const document = {
    client_id: DOCUMENT_URL,
    client_name: "MCP SDK test client (metadata document)",
    redirect_uris: [DOCUMENT_REDIRECT],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    scope: "openid mcp:tools offline_access",
  };
  return new WorkerResponse(JSON.stringify(document), { headers: { "content-type": "application/json", "cache-control": "max-age=300" } });
}

beforeAll(async () => {
  const endpoint = await mcpEndpoint();
  otherResource = `http://127.0.0.1:${endpoint.port}/other`;
  worker = await startLocalWorker({
    vars: { ALLOW_INSECURE_CLIENT_URIS: "true", RESOURCES: `${endpoint.url} ${otherResource}`, REGISTRATION_SCOPES: "mcp:tools" },
    outbound,
  });
  mcp = await startMcpExample(worker.url, endpoint);
  personId = await createPerson(worker, PERSON);
  phone = await launchPhone();
  page = phone.page;
});

afterAll(async () => {
  await phone?.close();
  await mcp?.dispose();
  await worker?.dispose();
});

/** Connects a fresh SDK client with `provider`; the transport too, for finishAuth. */
async function connect(provider: TestOAuthProvider) {
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
  const client = new Client({ name: "latchkey-mcp-test", version: "1.0.0" });
  try {
    await client.connect(transport);
    return { client, transport, error: undefined };
  } catch (error) {
    return { client, transport, error };
  }
}

async function whoami(client: Client): Promise<{ sub: string; client_id: string; scope: string[] }> {
  const result = (await client.callTool({ name: "whoami" })) as { content: { type: string; text: string }[] };
  return JSON.parse(result.content[0]!.text);
}

describe("MCP authorization with the MCP SDK's OAuth client: dynamic registration (real Chromium)", () => {
  const redirectUrl = `http://127.0.0.1:${55_000 + Math.floor(Math.random() * 5000)}/callback`;
  const provider = new TestOAuthProvider(redirectUrl);

  it("the MCP server refuses the SDK without a token, pointing at its metadata; the SDK discovers, registers and asks for sign-in", async () => {
    const bare = await fetch(mcp.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(bare.status).toBe(401);
    expect(bare.headers.get("www-authenticate")).toMatch(/^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);

    const { error } = await connect(provider);
    expect(error).toBeInstanceOf(UnauthorizedError);
    // RFC 7591: registered at Latchkey, a public client.
    expect(provider.client?.client_id).toEqual(expect.any(String));
    expect(provider.client).not.toHaveProperty("client_secret");
    const url = provider.authorizationUrl!;
    expect(url.origin + url.pathname).toBe(`${worker.url}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: provider.client!.client_id,
      code_challenge_method: "S256",
      resource: mcp.url, // RFC 8707, from the protected resource's metadata
      scope: "openid mcp:tools offline_access", // its scopes_supported
    });
  });

  it("the person signs in and allows; the SDK exchanges the code and calls the tool with the token", async () => {
    const params = await signInAndAllow(page, provider.authorizationUrl!, redirectUrl, PERSON);
    expect(params.get("iss")).toBe(worker.url); // RFC 9207
    // As an MCP client does on its redirect URI: the same transport kind finishes the authorization.
    await new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }).finishAuth(params.get("code")!);
    const tokens = provider.saved!;
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: worker.url, aud: mcp.url, sub: personId, client_id: provider.client!.client_id });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const { client, error } = await connect(provider);
    expect(error).toBeUndefined();
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["whoami"]);
    expect(await whoami(client)).toEqual({ sub: personId, client_id: provider.client!.client_id, scope: ["openid", "mcp:tools", "offline_access"] });
    await client.close();
  });

  it("refreshes: a new access token for the same resource (the refresh token rotated), and the tool works with it", async () => {
    const before = provider.saved!;
    expect(await auth(provider, { serverUrl: mcp.url })).toBe("AUTHORIZED");
    const after = provider.saved!;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(decodeJwt(after.access_token).aud).toBe(mcp.url);
    const { client, error } = await connect(provider);
    expect(error).toBeUndefined();
    expect((await whoami(client)).sub).toBe(personId);
    await client.close();
  });

  it("a token Latchkey issued for another resource (another path of the same host) is refused by the MCP server: 401 invalid_token", async () => {
    const secret = "mcp-test-backend-secret-0000000000000000000000";
    await registerClient(worker, "mcp-test-backend", {
      client_name: "Backend", token_endpoint_auth_method: "client_secret_basic", client_secret: secret,
      grant_types: ["client_credentials"], scope: "mcp:tools",
    });
    const minted = await clientPost<{ access_token: string }>(worker, "/token", { id: "mcp-test-backend", secret }, {
      grant_type: "client_credentials", scope: "mcp:tools", resource: otherResource,
    });
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    expect(decodeJwt(minted.body.access_token).aud).toBe(otherResource);
    const res = await fetch(mcp.url, {
      method: "POST",
      headers: { authorization: `Bearer ${minted.body.access_token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);

    // The same client's token for the MCP server itself is accepted.
    const right = await clientPost<{ access_token: string }>(worker, "/token", { id: "mcp-test-backend", secret }, {
      grant_type: "client_credentials", scope: "mcp:tools", resource: mcp.url,
    });
    expect(decodeJwt(right.body.access_token).aud).toBe(mcp.url);
    const ok = await fetch(mcp.url, {
      method: "POST",
      headers: { authorization: `Bearer ${right.body.access_token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(ok.status).toBe(200);
  });
});

describe("MCP authorization with the MCP SDK's OAuth client: a client ID metadata document (real Chromium)", () => {
  const provider = new TestOAuthProvider(DOCUMENT_REDIRECT, { clientMetadataUrl: DOCUMENT_URL });

  it("the SDK sees client_id_metadata_document_supported and uses the document URL as its client_id, registering nothing", async () => {
    const { error } = await connect(provider);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(provider.client?.client_id).toBe(DOCUMENT_URL);
    const url = provider.authorizationUrl!;
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ client_id: DOCUMENT_URL, code_challenge_method: "S256", resource: mcp.url });
  });

  it("Latchkey fetches the document, the person signs in and allows, the tool answers", async () => {
    const params = await signInAndAllow(page, provider.authorizationUrl!, DOCUMENT_REDIRECT, PERSON);
    expect(documentFetches).toContain(DOCUMENT_URL);
    await new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }).finishAuth(params.get("code")!);
    expect(decodeJwt(provider.saved!.access_token)).toMatchObject({ aud: mcp.url, sub: personId, client_id: DOCUMENT_URL });

    const { client, error } = await connect(provider);
    expect(error).toBeUndefined();
    expect(await whoami(client)).toMatchObject({ sub: personId, client_id: DOCUMENT_URL });
    await client.close();
  });

  it("refreshes with the document's client_id, and the tool works with the new token", async () => {
    const before = provider.saved!;
    expect(await auth(provider, { serverUrl: mcp.url })).toBe("AUTHORIZED");
    expect(provider.saved!.access_token).not.toBe(before.access_token);
    const { client, error } = await connect(provider);
    expect(error).toBeUndefined();
    expect((await whoami(client)).client_id).toBe(DOCUMENT_URL);
    await client.close();
  });
});
