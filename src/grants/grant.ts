import type { AuthenticatedClient } from "../client-auth";
import type { Config } from "../config";
import type { Params } from "../http/form";
import type { Keyring } from "../keys/keyring";
import type { GrantStateStore } from "../consent/grant-state";
import type { DeviceRequests } from "../device/requests";
import type { CibaRequests } from "../ciba/requests";
import type { ReplayCache } from "../replay/replay-cache";
import type { SenderConstraint, TokenResponse } from "../tokens/minter";

/** Storage a grant may use. */
export interface GrantServices {
  db: D1Database;
  kv: KVNamespace;
  /** The user and their consent behind a token (one read). */
  grants: GrantStateStore;
  replay: ReplayCache;
  /** Device authorization requests (the device_code grant, src/device/requests.ts). */
  devices: DeviceRequests;
  /** CIBA authentication requests (the CIBA grant, src/ciba/requests.ts). */
  ciba: CibaRequests;
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
  /** The request's sender constraint (a valid DPoP proof's key, the TLS certificate; src/dpop/binding.ts): the tokens get it. */
  binding?: SenderConstraint;
}

/** The token response members (RFC 6749 §5.1), built by the one minter (src/tokens/minter.ts). */
export type { TokenResponse } from "../tokens/minter";

/** Every grant module has this shape and is registered in src/grants/index.ts. */
export interface Grant {
  /** The `grant_type` value. */
  readonly type: string;
  /** Public clients may use it. */
  readonly allowPublic: boolean;
  handle(ctx: GrantContext): Promise<TokenResponse>;
}
