import { fromBase64, hex } from "../../crypto/encoding";
import { sha256, timingSafeEqual } from "../../crypto/hash";
import { OAuthError, ensure } from "../../errors/oauth-error";
import type { ClientAuthMethod, TlsClientCert } from "../types";

/**
 * RFC 8705 mutual-TLS client authentication, from the certificate data Cloudflare's edge attaches
 * to `request.cf.tlsClientAuth` when mTLS is enabled for the hostname (see docs/security.md).
 */
function presentedCert(tls: TlsClientCert | undefined): Extract<TlsClientCert, { certPresented: "1" }> {
  if (!tls || tls.certPresented !== "1") throw new OAuthError("tls_client_certificate_missing");
  return tls as Extract<TlsClientCert, { certPresented: "1" }>;
}

/**
 * Distinguished names compared after normalization (RFC 8705 §2.1.2 asks for RFC 4517
 * distinguishedNameMatch): attribute types case-insensitive, spaces around separators ignored.
 */
export function normalizeDn(dn: string): string {
  const rdns: string[] = [];
  let current = "";
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === "\\" && i + 1 < dn.length) {
      current += ch + dn[++i];
    } else if (ch === "," || ch === "+") {
      rdns.push(current);
      rdns.push(ch);
      current = "";
    } else current += ch;
  }
  rdns.push(current);
  return rdns
    .map((part) => {
      if (part === "," || part === "+") return part;
      const eq = part.indexOf("=");
      return eq === -1 ? part.trim() : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`;
    })
    .join("");
}

/** tls_client_auth (RFC 8705 §2.1): a CA-validated certificate whose subject DN is the registered one. */
export const tlsClientAuth: ClientAuthMethod = {
  name: "tls_client_auth",
  carrier: "bare",
  async verify({ tls }, client) {
    const cert = presentedCert(tls);
    ensure(cert.certVerified === "SUCCESS" && cert.certRevoked !== "1", "tls_client_certificate_untrusted");
    ensure(client.tlsSubjectDn !== null, "tls_client_certificate_mismatch");
    ensure(normalizeDn(cert.certSubjectDNRFC2253) === normalizeDn(client.tlsSubjectDn), "tls_client_certificate_mismatch");
  },
};

/**
 * self_signed_tls_client_auth (RFC 8705 §2.2): the certificate need not chain to a CA, but its
 * SHA-256 fingerprint must equal that of an `x5c` certificate in the client's registered `jwks`.
 */
export const selfSignedTlsClientAuth: ClientAuthMethod = {
  name: "self_signed_tls_client_auth",
  carrier: "bare",
  async verify({ tls }, client) {
    const cert = presentedCert(tls);
    ensure(cert.certRevoked !== "1", "tls_client_certificate_untrusted");
    const presented = cert.certFingerprintSHA256.toLowerCase();
    const registered = await Promise.all(
      (client.jwks?.keys ?? []).flatMap((jwk) => {
        const der = typeof jwk.x5c?.[0] === "string" ? fromBase64(jwk.x5c[0]) : undefined;
        return der ? [sha256(der).then(hex)] : [];
      }),
    );
    ensure(registered.some((fp) => timingSafeEqual(fp, presented)), "tls_client_certificate_mismatch");
  },
};
