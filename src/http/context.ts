import type { Context, MiddlewareHandler } from "hono";
import type { AuthenticatedClient } from "../client-auth";
import type { Client } from "../clients/model";
import type { RedirectTarget, Transaction } from "../authorize/request";
import type { AccessTokenClaims } from "../tokens/verify-access-token";
import type { Config } from "../config";
import type { Env } from "../env";
import type { Params } from "./form";
import type { SenderConstraint } from "../tokens/minter";

/**
 * Per-request state the pipeline steps hand to each other: `c.set(name, value)`, read back with
 * `c.get(name)`. Not `c.var`: Hono's getter copies every variable into a new object on each access.
 */
export interface Variables {
  config: Config;
  /** Request time, Unix seconds: one clock reading per request. */
  now: number;
  params: Params;
  /** Token endpoint: what the tokens are bound to (a DPoP proof's key, a TLS certificate), if anything (src/dpop/). */
  binding: SenderConstraint | undefined;
  client: AuthenticatedClient;
  /** Authorization endpoint: parameters sent more than once (reported after redirect validation). */
  duplicateParams: string[];
  /** Authorization endpoint: the client named by client_id (not authenticated). */
  authzClient: Client;
  /** Authorization endpoint: set once client_id and redirect_uri are validated; errors may then be redirected. */
  redirectTarget: RedirectTarget;
  /** Authorization endpoint and interaction pages: the request being served. */
  transaction: Transaction;
  /** UserInfo: the bearer token as sent (RFC 6750 §2.1 or §2.2). */
  userinfoToken: string;
  /** UserInfo: the Authorization scheme it came with (unset: the form body, Bearer). */
  userinfoScheme: "Bearer" | "DPoP";
  /** UserInfo: its verified claims. */
  userinfoClaims: AccessTokenClaims;
  /** Registration: the parsed JSON body of a registration request. */
  registrationBody: Record<string, unknown>;
  /** Registration: hash of the initial access token presented, counted once the registration is valid. */
  initialAccessTokenHash: string;
  /** Registration management: the client whose registration access token was presented, and that token. */
  managedClient: Client;
  registrationAccessToken: string;
}

export type AppEnv = { Bindings: Env; Variables: Variables };
export type AppContext = Context<AppEnv>;
export type Step = MiddlewareHandler<AppEnv>;

/** Headers on every response that carries credentials or errors (RFC 6749 §5.1). */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;
