import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { keyPair, nowSeconds } from "./helpers";
import { REDIRECT_URI } from "./oidc-helpers";
import { OPEN, expectRegistrationError, register, registered, webClient } from "./rfc7591-helpers";

/**
 * RFC 7591 §2.3 software statements: a JWT signed by an issuer the operator trusts
 * (SOFTWARE_STATEMENT_KEYS). §3.1.1: its claims take precedence over the same plain JSON members.
 * §3.2.1: it is returned unmodified. §3.2.2: invalid_software_statement / unapproved_software_statement.
 */

const trusted = await keyPair("ES256", "issuer-key-1");
const stranger = await keyPair("ES256", "stranger-key");
const TRUSTING = { ...OPEN, SOFTWARE_STATEMENT_KEYS: JSON.stringify({ keys: [{ ...trusted.publicJwk, alg: "ES256" }] }) };

async function statement(claims: Record<string, unknown>, key = trusted, header: Record<string, unknown> = { kid: key.publicJwk.kid }) {
  const now = nowSeconds();
  return new SignJWT({ iss: "https://software-publisher.example", iat: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: "ES256", ...header })
    .sign(key.privateKey);
}

describe("RFC 7591 §2.3 / §3.1.1 software statements", () => {
  it("a trusted statement registers; its claims take precedence over the JSON members; it is echoed unmodified (§3.2.1)", async () => {
    const ss = await statement({ software_id: "publisher-app", client_name: "Name From Statement", redirect_uris: [REDIRECT_URI], logo_uri: "https://publisher.example/logo.png" });
    const body = await registered(
      { software_statement: ss, client_name: "Name From Body", redirect_uris: ["https://other.example/cb"], client_uri: "https://rp.example/" },
      { env: TRUSTING },
    );
    expect(body).toMatchObject({
      software_statement: ss,
      software_id: "publisher-app",
      client_name: "Name From Statement",
      redirect_uris: [REDIRECT_URI],
      logo_uri: "https://publisher.example/logo.png",
      client_uri: "https://rp.example/",
    });
    for (const claim of ["iss", "iat", "exp"]) expect(body).not.toHaveProperty(claim);
  });

  it("the statement's metadata goes through the same rules (a fragment in its redirect URI → invalid_redirect_uri)", async () => {
    const ss = await statement({ redirect_uris: [`${REDIRECT_URI}#x`] });
    await expectRegistrationError(await register({ software_statement: ss }, { env: TRUSTING }), "invalid_redirect_uri", "redirect_uri_fragment");
  });

  it("no trusted keys configured → unapproved_software_statement", async () => {
    const ss = await statement(webClient());
    await expectRegistrationError(await register({ software_statement: ss, ...webClient() }, { env: OPEN }), "unapproved_software_statement", "software_statement_unapproved");
  });

  it("signed by a key the operator does not trust → unapproved_software_statement", async () => {
    for (const header of [{ kid: "stranger-key" }, {}]) {
      const ss = await statement(webClient(), stranger, header);
      await expectRegistrationError(await register({ software_statement: ss }, { env: TRUSTING }), "unapproved_software_statement", "software_statement_unapproved");
    }
  });

  it("a trusted kid whose signature does not verify (altered claims) → invalid_software_statement", async () => {
    const ss = await statement(webClient({ client_name: "Original" }));
    const [header, , signature] = ss.split(".");
    const altered = btoa(JSON.stringify({ iss: "https://software-publisher.example", client_name: "Altered", redirect_uris: [REDIRECT_URI] }))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    await expectRegistrationError(await register({ software_statement: `${header}.${altered}.${signature}` }, { env: TRUSTING }),
      "invalid_software_statement", "software_statement_signature_invalid");
  });

  it("expired, or not yet valid → invalid_software_statement", async () => {
    const now = nowSeconds();
    for (const claims of [{ exp: now - 120 }, { nbf: now + 3600 }]) {
      const ss = await statement(webClient(claims));
      await expectRegistrationError(await register({ software_statement: ss }, { env: TRUSTING }), "invalid_software_statement", "software_statement_expired");
    }
  });

  it("not a JWT, unsigned (alg none), an HMAC, or without iss → invalid_software_statement", async () => {
    const unsigned = new UnsecuredJWT({ iss: "x", ...webClient() }).encode();
    const hmac = await new SignJWT({ iss: "x", ...webClient() }).setProtectedHeader({ alg: "HS256" }).sign(new Uint8Array(32));
    const noIss = await new SignJWT(webClient()).setProtectedHeader({ alg: "ES256", kid: "issuer-key-1" }).sign(trusted.privateKey);
    for (const ss of ["not-a-jwt", 42, unsigned, hmac, noIss]) {
      await expectRegistrationError(await register({ software_statement: ss, ...webClient() }, { env: TRUSTING }), "invalid_software_statement", "software_statement_malformed");
    }
  });

  it("a bad SOFTWARE_STATEMENT_KEYS (a private key) is a configuration error, not trust in anything", async () => {
    const res = await register(webClient(), { env: { ...OPEN, SOFTWARE_STATEMENT_KEYS: JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }) } });
    expect(res.status).toBe(500);
  });
});
