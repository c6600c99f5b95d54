import type { Client } from "../clients/model";
import { ensure } from "../errors/oauth-error";
import type { Params } from "../http/form";
import { verifyOwnIdToken, type VerifyOwnIdTokenDeps } from "../tokens/verify-id-token";

/**
 * OIDC Core §3.1.2.1 `id_token_hint`: an ID token this server issued to this client, presented back
 * as a hint about the person the request is for. Checked by the one verifier of our ID tokens
 * (src/tokens/verify-id-token.ts: our key, our issuer, `typ: JWT`); an expired one is accepted
 * ("the OP SHOULD accept it even if expired"). Its `aud` must name the client, as for CIBA's hint
 * and the logout hint (a client presents its own tokens). Anything else is id_token_hint_invalid.
 *
 * Its `sub` becomes the request's subject: only that person may answer it
 * (src/authorize/decision.ts: another person's session → sign in again, or login_required with
 * prompt=none). A claims request's `sub` value (§5.5.1) names the subject too; the two must agree.
 */
export async function hintedSubject(params: Params, client: Client, current: string | undefined, deps: VerifyOwnIdTokenDeps): Promise<string | undefined> {
  const hint = params.get("id_token_hint");
  if (hint === undefined) return current;
  const claims = await verifyOwnIdToken(hint, deps);
  ensure(claims !== null && claims.aud.includes(client.clientId), "id_token_hint_invalid");
  ensure(current === undefined || current === claims.sub, "id_token_hint_subject_mismatch");
  return claims.sub;
}
