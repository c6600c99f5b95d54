import { authenticateClient } from "../client-auth";
import { OAuthError, ensure } from "../errors/oauth-error";
import { grantByType } from "../grants";
import { isPublic } from "../clients/model";
import { NO_STORE, type Step } from "../http/context";
import { readForm } from "../http/form";
import { clientAuthDeps, requestKeyring } from "../services";

/**
 * The token endpoint (RFC 6749 §3.2) as a pipeline of named steps. Each step either throws an
 * OAuthError (answered by the catalog) or hands over to the next.
 */
export const parseTokenRequest: Step = async function parseTokenRequest(c, next) {
  ensure(!hasCredentialsInQuery(c.req.url), "client_secret_in_query");
  c.set("params", await readForm(c.req.raw, c.var.config.maxBodyBytes));
  await next();
};

export const authenticateTokenClient: Step = async function authenticateTokenClient(c, next) {
  const cf = c.req.raw.cf as IncomingRequestCfProperties | undefined;
  c.set(
    "client",
    await authenticateClient(
      { authorization: c.req.header("authorization") ?? null, params: c.var.params, tls: cf?.tlsClientAuth },
      clientAuthDeps(c),
    ),
  );
  await next();
};

export const grantTokens: Step = async function grantTokens(c) {
  const type = c.var.params.get("grant_type");
  ensure(type !== undefined, "missing_grant_type");
  const grant = grantByType.get(type);
  ensure(grant !== undefined, "unsupported_grant_type");
  const { client } = c.var.client;
  ensure(grant.allowPublic || !isPublic(client), "public_client_not_allowed");
  ensure(client.grantTypes.includes(type), "unauthorized_client", `This client is not registered for the ${type} grant.`);
  const body = await grant.handle({
    params: c.var.params,
    client: c.var.client,
    config: c.var.config,
    keys: await requestKeyring(c),
    now: c.var.now,
  });
  return c.json(body, 200, NO_STORE);
};

export const rejectOtherMethods: Step = async function rejectOtherMethods() {
  throw new OAuthError("method_not_allowed", "The token endpoint accepts POST only.", { headers: { allow: "POST" } });
};

function hasCredentialsInQuery(url: string): boolean {
  const query = new URL(url).searchParams;
  return query.has("client_secret") || query.has("client_assertion");
}

export const tokenEndpoint = [parseTokenRequest, authenticateTokenClient, grantTokens] as const;
