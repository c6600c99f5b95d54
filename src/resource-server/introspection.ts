import { IssuerUnavailable, type IssuerClient } from "./issuer";
import { ExpiringMap } from "./memory";

/**
 * The optional revocation check (RFC 7662 §2): the kit asks the issuer's introspection endpoint
 * (from its metadata, on the issuer's origin) whether a token is still active, authenticating as a
 * confidential client with client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded, then
 * base64). Latchkey lets a client introspect the tokens issued to it, or any token when the
 * operator set `"introspection": "any"` on it (src/endpoints/introspection.ts) — a resource server's
 * credential needs that. Answers are remembered per token `jti` for `cacheSeconds` (never past the
 * token's `exp`), so a revoked token stops working within that time, and a busy resource server
 * does not ask once per request.
 */
export interface IntrospectionOptions {
  clientId: string;
  clientSecret: string;
  /** How long an answer is reused, seconds. Default 30; 0 asks on every request. */
  cacheSeconds?: number;
}

const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");

export class Introspector {
  private readonly answers = new ExpiringMap<boolean>(10_000);
  private readonly authorization: string;
  private readonly cacheSeconds: number;

  constructor(
    private readonly issuer: IssuerClient,
    options: IntrospectionOptions,
    private readonly now: () => number,
  ) {
    const pair = new TextEncoder().encode(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`);
    this.authorization = `Basic ${btoa(String.fromCharCode(...pair))}`;
    this.cacheSeconds = options.cacheSeconds ?? 30;
  }

  /** Whether the issuer says the token is active (RFC 7662 §2.2 `active`); IssuerUnavailable when it cannot say. */
  async isActive(token: string, jti: string, exp: number): Promise<boolean> {
    const now = this.now();
    const known = this.answers.get(jti, now);
    if (known !== undefined) return known;
    const { introspection_endpoint: endpoint } = await this.issuer.metadata();
    if (endpoint === undefined) throw new IssuerUnavailable("the issuer's metadata names no introspection_endpoint");
    const form = new URLSearchParams({ token, token_type_hint: "access_token" });
    const { body } = await this.issuer.getJson(endpoint, { form, authorization: this.authorization });
    if (typeof body.active !== "boolean") throw new IssuerUnavailable("the introspection answer has no boolean active");
    if (this.cacheSeconds > 0) this.answers.set(jti, body.active, Math.min(now + this.cacheSeconds, exp), now);
    return body.active;
  }
}
