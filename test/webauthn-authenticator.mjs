// A software WebAuthn authenticator (plain JavaScript on WebCrypto, so the workerd tests —
// test/webauthn-helpers.ts — and the benchmark — bench/lib/passkeys.mjs — share it). It builds what
// a browser and an authenticator would: clientDataJSON, authenticatorData, a 'none' attestation
// object (CBOR) with the COSE key, and ES256 assertion signatures (ASN.1 DER); each part can be
// made wrong on purpose (Tweaks, webauthn-authenticator.d.mts).

const te = new TextEncoder();
export const b64u = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromB64u = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
const sha256 = async (data) => new Uint8Array(await crypto.subtle.digest("SHA-256", data));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

// ── minimal CBOR (RFC 8949): unsigned/negative integers, byte and text strings, maps ──────────
function head(major, n) {
  if (n < 24) return Uint8Array.of((major << 5) | n);
  if (n < 256) return Uint8Array.of((major << 5) | 24, n);
  if (n < 65536) return Uint8Array.of((major << 5) | 25, n >> 8, n & 255);
  return Uint8Array.of((major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
}
function cbor(value) {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const bytes = te.encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  return concat(head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)]));
}

/** ECDSA's raw r||s as the ASN.1 DER signature WebAuthn's ES256 uses. */
function der(raw) {
  const int = (b) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.slice(i);
    return v[0] & 0x80 ? concat(Uint8Array.of(0x02, v.length + 1, 0), v) : concat(Uint8Array.of(0x02, v.length), v);
  };
  const body = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
  return concat(Uint8Array.of(0x30, body.length), body);
}

export const FLAGS = Object.freeze({ UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 });

export class SoftAuthenticator {
  credentialId = crypto.getRandomValues(new Uint8Array(16));
  /** The user handle the authenticator stored at registration (base64url). */
  userHandle = "";

  constructor(options, keys) {
    this.options = options;
    this.counter = options.counter;
    this.keys = keys;
  }

  /** synced: backup eligible and backed up; counter: the first counter value (0: keeps none); origin: the default clientDataJSON origin. */
  static async create({ synced = false, counter = 0, origin } = {}) {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    return new SoftAuthenticator({ synced, counter, origin }, keys);
  }

  get id() {
    return b64u(this.credentialId);
  }

  defaultFlags() {
    return FLAGS.UP | FLAGS.UV | (this.options.synced ? FLAGS.BE | FLAGS.BS : 0);
  }

  async authData(rpId, flags, extra = new Uint8Array()) {
    const c = this.counter;
    return concat(await sha256(te.encode(rpId)), Uint8Array.of(flags), Uint8Array.of((c >>> 24) & 255, (c >> 16) & 255, (c >> 8) & 255, c & 255), extra);
  }

  clientData(type, challenge, origin) {
    return te.encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create() answered, as the page's script posts it (RegistrationResponseJSON, as text). */
  async register(options, tweaks = {}) {
    this.userHandle = options.user.id;
    const jwk = await crypto.subtle.exportKey("jwk", this.keys.publicKey);
    const cose = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, fromB64u(jwk.x)], [-3, fromB64u(jwk.y)]]));
    const attested = concat(new Uint8Array(16), Uint8Array.of(0, this.credentialId.length), this.credentialId, cose);
    const authData = await this.authData(tweaks.rpId ?? options.rp.id, (tweaks.flags ?? this.defaultFlags()) | FLAGS.AT, attested);
    const attestationObject = cbor(new Map([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]));
    const clientDataJSON = this.clientData(tweaks.type ?? "webauthn.create", options.challenge, tweaks.origin ?? this.options.origin);
    return JSON.stringify({
      id: this.id, rawId: this.id, type: "public-key",
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
    });
  }

  /** navigator.credentials.get() answered (AuthenticationResponseJSON, as text); the counter steps by 1 unless it is 0. */
  async assert(options, tweaks = {}) {
    if (this.counter > 0) this.counter += 1;
    const authData = await this.authData(tweaks.rpId ?? options.rpId, tweaks.flags ?? this.defaultFlags());
    const clientDataJSON = this.clientData(tweaks.type ?? "webauthn.get", options.challenge, tweaks.origin ?? this.options.origin);
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.keys.privateKey, signed));
    return JSON.stringify({
      id: this.id, rawId: this.id, type: "public-key",
      response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(der(raw)), userHandle: tweaks.userHandle ?? this.userHandle },
      clientExtensionResults: {},
    });
  }
}
