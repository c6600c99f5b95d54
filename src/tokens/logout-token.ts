import type { Config } from "../config";
import { randomToken } from "../crypto/encoding";
import type { Keyring } from "../keys/keyring";
import { clientAlgSigner, signJwt } from "./jws";

/** The event that makes a JWT a Logout Token (OIDC Back-Channel Logout §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

export interface LogoutTokenInput {
  /** The person logged out: the `sub` of the ID tokens the client received. */
  sub: string;
  /** The session logged out: the `sid` of those ID tokens. */
  sid: string;
  /** The client notified: the token's `aud`. */
  clientId: string;
  /** The client's `id_token_signed_response_alg`: logout tokens are signed as its ID tokens are. */
  alg: string;
}

/**
 * A Logout Token (OIDC Back-Channel Logout §2.4): a JWT explicitly typed `logout+jwt`, signed by
 * the key that signs the client's ID tokens, with iss, aud (the client), iat, a short exp
 * (config.logoutTokenTtl), a unique jti, `events` naming the back-channel logout event with an
 * empty object, and both `sub` and `sid` — always `sid`, whether or not the client registered
 * `backchannel_logout_session_required`, since every ID token carries it. Never a `nonce` (§2.4
 * forbids it, so a logout token cannot pass for an ID token).
 */
export async function issueLogoutToken(input: LogoutTokenInput, deps: { config: Config; keys: Keyring; now: number }): Promise<string> {
  const signer = await clientAlgSigner(deps.keys, input.alg);
  return signJwt(signer, "logout+jwt", {
    iss: deps.config.issuer,
    sub: input.sub,
    aud: input.clientId,
    iat: deps.now,
    exp: deps.now + deps.config.logoutTokenTtl,
    jti: randomToken(16),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    sid: input.sid,
  });
}
