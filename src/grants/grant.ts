import type { AuthenticatedClient } from "../client-auth";
import type { Config } from "../config";
import type { Params } from "../http/form";
import type { Keyring } from "../keys/keyring";
import type { ConsentStore } from "../consent/store";
import type { ReplayCache } from "../replay/replay-cache";
import type { UserStore } from "../users/model";

/** Storage a grant may use. */
export interface GrantServices {
  db: D1Database;
  kv: KVNamespace;
  users: UserStore;
  consents: ConsentStore;
  replay: ReplayCache;
  encryptionKey: string;
}

/** What a grant sees: the parsed parameters, the authenticated client, and the services it may use. */
export interface GrantContext {
  params: Params;
  client: AuthenticatedClient;
  config: Config;
  keys: Keyring;
  now: number;
  services: GrantServices;
}

/** The token response members (RFC 6749 §5.1); the endpoint adds the headers. */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

/** Every grant module has this shape and is registered in src/grants/index.ts. */
export interface Grant {
  /** The `grant_type` value. */
  readonly type: string;
  /** Public clients may use it. */
  readonly allowPublic: boolean;
  handle(ctx: GrantContext): Promise<TokenResponse>;
}
