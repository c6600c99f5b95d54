import type { Step } from "../http/context";
import { requestKeyring } from "../services";

/**
 * The public signing keys (RFC 7517 §5): next, current and not-yet-expired retired keys, so a
 * verifier always finds the key a live token names. `max-age` is shorter than the time a `next` key
 * is published before it signs (docs/security.md, key rotation).
 */
export const jwks: Step = async function jwks(c) {
  const ring = await requestKeyring(c);
  return c.body(ring.jwksJson, 200, {
    "content-type": "application/jwk-set+json",
    "cache-control": "public, max-age=300",
    "access-control-allow-origin": "*",
  });
};
