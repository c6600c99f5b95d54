/**
 * A minimal MCP server on Cloudflare Workers that uses Latchkey as its authorization server
 * (examples/mcp-server/README.md). One tool, `whoami`, answers who the access token acts for.
 *
 * The MCP side is the official TypeScript SDK's server over its web-standard Streamable HTTP
 * transport, stateless (a server per request, JSON answers, no sessions). The OAuth side is
 * Latchkey's resource-server kit, imported as any other Worker imports it: it serves this
 * resource's metadata (RFC 9728) and checks each request's token against Latchkey's published keys
 * without calling Latchkey per request.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { protectedResource, type ProtectedResource, type VerifiedToken } from "latchkey/resource-server";

export interface Env {
  /** Latchkey's issuer, e.g. https://id.example.com (locally `npm run dev`: http://localhost:8787). */
  LATCHKEY_ISSUER: string;
  /** This server's MCP endpoint, its canonical resource URI: Latchkey's RESOURCES must list it. */
  MCP_RESOURCE: string;
}

/** The scope the tool needs; Latchkey must let clients ask for it (REGISTRATION_SCOPES, or the client's scope). */
const TOOL_SCOPE = "mcp:tools";

/** One kit per isolate (its key cache lives as long as the isolate). */
let kit: { env: Env; rs: ProtectedResource } | undefined;
function resourceServer(env: Env): ProtectedResource {
  if (kit === undefined || kit.env !== env) {
    kit = {
      env,
      rs: protectedResource({
        issuer: env.LATCHKEY_ISSUER,
        resource: env.MCP_RESOURCE,
        scopes: [TOOL_SCOPE],
        // What a client asks for: Latchkey is an OpenID provider, so its authorization requests carry
        // openid; offline_access brings a refresh token.
        scopesSupported: ["openid", TOOL_SCOPE, "offline_access"],
        resourceName: "Latchkey example MCP server",
      }),
    };
  }
  return kit.rs;
}

function mcpServer(token: VerifiedToken): McpServer {
  const server = new McpServer({ name: "latchkey-example", version: "1.0.0" });
  server.registerTool(
    "whoami",
    { title: "Who am I", description: "Who the access token acts for: its subject, client and scopes." },
    async () => ({
      content: [{ type: "text", text: JSON.stringify({ sub: token.sub, client_id: token.clientId, scope: token.scope }) }],
    }),
  );
  return server;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const rs = resourceServer(env);
    const metadata = rs.metadata(request);
    if (metadata !== undefined) return metadata;
    if (new URL(request.url).pathname !== new URL(env.MCP_RESOURCE).pathname) return new Response("Not found", { status: 404 });

    const auth = await rs.authenticate(request);
    if (!auth.ok) return auth.response;

    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await mcpServer(auth.token).connect(transport);
    return transport.handleRequest(request);
  },
} satisfies ExportedHandler<Env>;
