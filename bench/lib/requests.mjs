// Request makers and response checks shared by the bench's scenarios.

import { randomUUID, sign } from "node:crypto";

export const FORM = { "content-type": "application/x-www-form-urlencoded" };
export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** RFC 6749 §2.3.1 / Appendix B: form-encode id and secret, then base64 `id:secret`. */
export function basicAuth(id, secret) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString("base64")}`;
}

/** Pre-signed client assertions (RFC 7523 §3), each with its own jti, valid for the whole run. */
export function signAssertions(count, { clientId, kid, privateKey, audience }) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64json({ alg: "ES256", kid, typ: "JWT" });
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    // exp 590 s ahead, just within Latchkey's 600 s maximum assertion lifetime: the assertions are
    // signed before the rounds, and the last round's (b) runs some 400 s later with every pair at its
    // default (5 minutes was too short once the DPoP pair joined the rounds: 2,972 expired in round 3).
    const input = `${header}.${b64json({ iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 590, jti: randomUUID() })}`;
    out[i] = `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  }
  return out;
}

/** The JSON of a response with the expected status, or an error with the server's answer. */
export async function expectOk(label, response, status = 200) {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${label}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}

// Response checks for the load generator (token requests use its default: 200 with an access token).
export const expectIdToken = (status, text) =>
  status === 200 && text.includes('"access_token"') && text.includes('"id_token"') ? undefined : `${status} (expected 200 with an ID token) ${text}`;
export const expectRotation = (status, text) =>
  status === 200 && text.includes('"access_token"') && text.includes('"id_token"') && text.includes('"refresh_token"')
    ? undefined
    : `${status} (expected 200 with access, ID and refresh tokens) ${text}`;
export const expectSub = (status, text) => (status === 200 && text.includes('"sub"') ? undefined : `${status} (expected 200 with sub) ${text}`);
export const expectActive = (status, text) =>
  status === 200 && text.startsWith('{"active":true') ? undefined : `${status} (expected 200 with active: true) ${text}`;
export const expectOkStatus = (status, text) => (status === 200 ? undefined : `${status} ${text}`);
export const expectSignedIn = (status, text, headers) =>
  status === 303 && String(headers.location ?? "").startsWith("/authorize/continue?") && String(headers["set-cookie"] ?? "").includes("session")
    ? undefined
    : `${status} (expected 303 to /authorize/continue with a session cookie) location=${headers.location} ${text.slice(0, 300)}`;
