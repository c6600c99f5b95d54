import { authenticateClient } from "../client-auth";
import { OAuthError, ensure } from "../errors/oauth-error";
import { grantByType } from "../grants";
import { isPublic } from "../clients/model";
import { NO_STORE, type Step } from "../http/context";
import { readForm } from "../http/form";
import { clientAuthDeps, clientStore, encryptionKey, grantServices, replayCache, requestKeyring } from "../services";
import { certificateBinding, certificateThumbprint, clientRequestProofKey, tlsClientAuthOf, nonceDeps } from "../dpop/binding";
import { fapi2CertificateBinding, underFapi2 } from "../profiles/fapi2";
import { currentNonce } from "../dpop/nonce";
import { endpointUrl } from "./discovery";
import { corsOrigins } from "../clients/store";
import { recordClientUse } from "../registration/usage";

/**
 * The token endpoint (RFC 6749 §3.2) as a pipeline of named steps. Each step either throws an
 * OAuthError (answered by the catalog) or hands over to the next.
 */
export const parseTokenRequest: Step = async function parseTokenRequest(c, next) {
  ensure(!hasCredentialsInQuery(c.req.url), "client_secret_in_query");
  c.set("params", await readForm(c.req.raw, c.get("config").maxBodyBytes));
  await next();
};

export const authenticateTokenClient: Step = async function authenticateTokenClient(c, next) {
  const request = c.req.raw;
  c.set(
    "client",
    await authenticateClient(
      {
        authorization: request.headers.get("authorization"),
        params: c.get("params"),
        // This endpoint's URL as discovery advertises it (token, revocation or introspection endpoint).
        endpoint: endpointUrl(c.get("config"), c.req.routePath),
        // Read only by the mTLS methods: request.cf is materialized on access.
        get tls() {
          return tlsClientAuthOf(request);
        },
      },
      clientAuthDeps(c),
    ),
  );
  await next();
};

/**
 * The sender constraint of the tokens (src/dpop/): a `DPoP` header is validated as RFC 9449 §4.3
 * says (its jti spent, the server nonce when required) and binds the tokens to its key (`cnf.jkt`,
 * token_type DPoP); without one, a client registered with `dpop_bound_access_tokens` is refused
 * (§5.2), and one registered with `tls_client_certificate_bound_access_tokens` gets tokens bound
 * to its TLS certificate (RFC 8705 §3). Every answer to a DPoP request carries a fresh nonce (§8).
 */
export const bindSender: Step = async function bindSender(c, next) {
  const { client } = c.get("client");
  const config = c.get("config");
  const header = c.req.raw.headers.get("dpop");
  const deps = { now: c.get("now"), encryptionKey: encryptionKey(c), replay: replayCache(c) };
  const jkt = await clientRequestProofKey(c.req.raw, client, config, deps);
  if (jkt !== undefined) {
    c.set("binding", { method: "dpop", jkt });
  } else {
    ensure(client.metadata.dpop_bound_access_tokens !== true, "dpop_proof_required");
    const tls = tlsClientAuthOf(c.req.raw);
    // FAPI 2.0 §5.3.2.1 items 4, 5: without a proof the certificate binds the tokens, or nothing is issued.
    c.set("binding", underFapi2(config, client) ? fapi2CertificateBinding(certificateThumbprint(tls)) : certificateBinding(client, tls));
  }
  await next();
  if (header !== null && !c.res.headers.has("dpop-nonce")) c.res.headers.set("dpop-nonce", await currentNonce(nonceDeps(config, deps)));
};

export const grantTokens: Step = async function grantTokens(c) {
  const type = c.get("params").get("grant_type");
  ensure(type !== undefined, "missing_grant_type");
  const grant = grantByType.get(type);
  ensure(grant !== undefined, "unsupported_grant_type");
  const { client } = c.get("client");
  ensure(grant.allowPublic || !isPublic(client), "public_client_not_allowed");
  ensure(client.grantTypes.includes(type), "unauthorized_client", `This client is not registered for the ${type} grant.`);
  const body = await grant.handle({
    params: c.get("params"),
    client: c.get("client"),
    config: c.get("config"),
    keys: await requestKeyring(c),
    now: c.get("now"),
    services: grantServices(c),
    binding: c.get("binding"),
  });
  return c.json(body, 200, NO_STORE);
};

/**
 * CORS for browser clients (SPAs) at the token endpoint: the answer carries
 * `Access-Control-Allow-Origin` only for an origin of the authenticated client's redirect URIs or
 * explicit allow-list; error answers only for an origin some client registered. Never `*`, never a
 * blindly reflected origin (RFC 9700 §2.6 permits CORS here; the authorization endpoint has none).
 * Both checks read through the isolate cache (src/clients/store.ts), like the rest of the hot path.
 */
export const tokenCors: Step = async function tokenCors(c, next) {
  await next();
  const origin = c.req.header("origin");
  if (!origin) return;
  const client = c.get("client")?.client;
  const allowed = client && !c.error ? corsOrigins(client).includes(origin) : await clientStore(c).allowsOrigin(origin);
  c.res.headers.append("vary", "Origin");
  if (allowed) {
    c.res.headers.set("access-control-allow-origin", origin);
    // RFC 9449 §8: a browser client reads the nonce of an answer.
    c.res.headers.set("access-control-expose-headers", "DPoP-Nonce");
  }
};

/**
 * CORS preflight (Fetch standard): allowed for origins registered by some client, read through the
 * isolate cache like the rest of the hot path (src/clients/store.ts). The request headers allowed are
 * the ones this endpoint reads, DPoP's proof among them (RFC 9449 §4.1).
 */
export const tokenPreflight: Step = async function tokenPreflight(c) {
  const origin = c.req.header("origin");
  const headers: Record<string, string> = { vary: "Origin", "cache-control": "no-store" };
  if (origin && (await clientStore(c).allowsOrigin(origin))) {
    Object.assign(headers, {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": "POST",
      "access-control-allow-headers": "authorization, content-type, dpop",
      "access-control-max-age": "600",
    });
  }
  return c.body(null, 204, headers);
};

export const rejectOtherMethods: Step = async function rejectOtherMethods() {
  throw new OAuthError("method_not_allowed", "The token endpoint accepts POST only.", { headers: { allow: "POST" } });
};

function hasCredentialsInQuery(url: string): boolean {
  if (!url.includes("?")) return false;
  const query = new URL(url).searchParams;
  return query.has("client_secret") || query.has("client_assertion");
}

export const tokenEndpoint = [tokenCors, parseTokenRequest, authenticateTokenClient, recordClientUse, bindSender, grantTokens] as const;
