import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ISSUER } from "./helpers";
import { Browser, PASSWORD, hiddenFields, person } from "./oidc-helpers";

/**
 * A software authenticator for the WebAuthn tests (test/webauthn-l3-*.test.ts): it builds what a
 * browser and an authenticator would — clientDataJSON, authenticatorData, a 'none' attestation
 * object (CBOR) with the COSE key, and ES256 assertion signatures (DER) — with WebCrypto, so each
 * rule the server checks can be broken one at a time.
 */

const te = new TextEncoder();
const b64u = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromB64u = (text: string): Uint8Array => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
const sha256 = async (data: Uint8Array): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.digest("SHA-256", data));
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

// ── minimal CBOR (RFC 8949): unsigned/negative integers, byte and text strings, maps ──────────
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;
function head(major: number, n: number): Uint8Array {
  if (n < 24) return Uint8Array.of((major << 5) | n);
  if (n < 256) return Uint8Array.of((major << 5) | 24, n);
  if (n < 65536) return Uint8Array.of((major << 5) | 25, n >> 8, n & 255);
  return Uint8Array.of((major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
}
function cbor(value: Cbor): Uint8Array {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const bytes = te.encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  return concat(head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)]));
}

/** ECDSA's raw r||s as the ASN.1 DER signature WebAuthn's ES256 uses. */
function der(raw: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.slice(i);
    return v[0]! & 0x80 ? concat(Uint8Array.of(0x02, v.length + 1, 0), v) : concat(Uint8Array.of(0x02, v.length), v);
  };
  const body = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
  return concat(Uint8Array.of(0x30, body.length), body);
}

export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

/** What a response may get wrong (each defaults to right). */
export interface Tweaks {
  origin?: string;
  rpId?: string;
  /** Flags (UP, UV, BE, BS); default UP|UV plus the authenticator's BE/BS. */
  flags?: number;
  type?: string;
  userHandle?: string;
}

export class SoftAuthenticator {
  readonly credentialId = crypto.getRandomValues(new Uint8Array(16));
  counter: number;
  private keys!: CryptoKeyPair;
  /** The user handle the authenticator stored at registration (base64url). */
  userHandle = "";

  private constructor(readonly options: { synced: boolean; counter: number }) {
    this.counter = options.counter;
  }

  /** synced: backup eligible and backed up (a synced passkey); counter: the first counter value (0: keeps none). */
  static async create(options: { synced?: boolean; counter?: number } = {}): Promise<SoftAuthenticator> {
    const a = new SoftAuthenticator({ synced: options.synced ?? false, counter: options.counter ?? 0 });
    a.keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    return a;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  private defaultFlags(): number {
    return FLAGS.UP | FLAGS.UV | (this.options.synced ? FLAGS.BE | FLAGS.BS : 0);
  }

  private async authData(rpId: string, flags: number, extra: Uint8Array = new Uint8Array()): Promise<Uint8Array> {
    const c = this.counter;
    return concat(await sha256(te.encode(rpId)), Uint8Array.of(flags), Uint8Array.of((c >>> 24) & 255, (c >> 16) & 255, (c >> 8) & 255, c & 255), extra);
  }

  private clientData(type: string, challenge: string, origin: string): Uint8Array {
    return te.encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create() answered, as the page's script posts it (RegistrationResponseJSON). */
  async register(options: { challenge: string; rp: { id: string }; user: { id: string } }, tweaks: Tweaks = {}): Promise<string> {
    this.userHandle = options.user.id;
    const jwk = (await crypto.subtle.exportKey("jwk", this.keys.publicKey)) as JsonWebKey;
    const cose = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, fromB64u(jwk.x!)], [-3, fromB64u(jwk.y!)]]));
    const attested = concat(new Uint8Array(16), Uint8Array.of(0, this.credentialId.length), this.credentialId, cose);
    const authData = await this.authData(tweaks.rpId ?? options.rp.id, (tweaks.flags ?? this.defaultFlags()) | FLAGS.AT, attested);
    const attestationObject = cbor(new Map<Cbor, Cbor>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]));
    const clientDataJSON = this.clientData(tweaks.type ?? "webauthn.create", options.challenge, tweaks.origin ?? ISSUER);
    return JSON.stringify({
      id: this.id, rawId: this.id, type: "public-key",
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
    });
  }

  /** navigator.credentials.get() answered (AuthenticationResponseJSON); the counter steps by 1 unless it is 0. */
  async assert(options: { challenge: string; rpId: string }, tweaks: Tweaks = {}): Promise<string> {
    if (this.counter > 0) this.counter += 1;
    const authData = await this.authData(tweaks.rpId ?? options.rpId, tweaks.flags ?? this.defaultFlags());
    const clientDataJSON = this.clientData(tweaks.type ?? "webauthn.get", options.challenge, tweaks.origin ?? ISSUER);
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.keys.privateKey, signed));
    return JSON.stringify({
      id: this.id, rawId: this.id, type: "public-key",
      response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(der(raw)), userHandle: tweaks.userHandle ?? this.userHandle },
      clientExtensionResults: {},
    });
  }
}

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The ceremony a page offers: the form's options (data-options) and hidden fields. */
export function ceremonyOf(html: string, formId: "passkey-form" | "passkey-add") {
  const at = html.indexOf(`id="${formId}"`);
  expect(at, `no #${formId} on the page`).toBeGreaterThan(-1);
  const start = html.lastIndexOf("<form", at);
  const form = html.slice(start, html.indexOf("</form>", at) + 7);
  const options = JSON.parse(unescape(/data-options="([^"]*)"/.exec(form)![1]!));
  return { options, fields: hiddenFields(form) };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** POSTs a form of `browser` with `fields`. */
export const post = (browser: Browser, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  browser.fetch(path, { method: "POST", headers: { ...FORM, ...headers }, body: new URLSearchParams(fields).toString() });

/** A person signed in with their password just now (a fresh sign-in), in a browser of their own. */
export async function signedInPerson(): Promise<{ browser: Browser; user: { id: string; email: string } }> {
  const user = await person();
  const browser = new Browser();
  const page = await browser.fetch("/login?return=account");
  const res = await browser.submit(page, { email: user.email, password: PASSWORD }, "/login");
  expect(res.status).toBe(303);
  return { browser, user };
}

/** The passkeys page's registration ceremony for `browser`. */
export async function registrationPage(browser: Browser) {
  const page = await browser.fetch("/account/passkeys");
  expect(page.status).toBe(200);
  return ceremonyOf(await page.text(), "passkey-add");
}

/** Registers `authenticator` for the person signed in in `browser`: the POST's response. */
export async function addPasskey(browser: Browser, authenticator: SoftAuthenticator, tweaks: Tweaks = {}, name = "Laptop"): Promise<Response> {
  const { options, fields } = await registrationPage(browser);
  return post(browser, "/account/passkeys/add", { ...fields, name, credential: await authenticator.register(options, tweaks) });
}

/** A person with one registered passkey (`authenticator`). */
export async function personWithPasskey(options: { synced?: boolean; counter?: number } = {}) {
  const { browser, user } = await signedInPerson();
  const authenticator = await SoftAuthenticator.create(options);
  const res = await addPasskey(browser, authenticator);
  expect(res.status, await res.clone().text()).toBe(303);
  return { user, authenticator };
}

/** The sign-in page's passkey ceremony in a new browser (`path`: /login?return=account, or an authorization's sign-in page). */
export async function signInPage(browser = new Browser(), path = "/login?return=account") {
  const page = await browser.fetch(path);
  expect(page.status).toBe(200);
  return { browser, ...ceremonyOf(await page.text(), "passkey-form") };
}

/** Signs in with the passkey on the sign-in page: the POST /login/passkey response. */
export async function passkeySignIn(authenticator: SoftAuthenticator, tweaks: Tweaks = {}, headers: Record<string, string> = {}) {
  const { browser, options, fields } = await signInPage();
  const res = await post(browser, "/login/passkey", { ...fields, credential: await authenticator.assert(options, tweaks) }, headers);
  return { browser, res };
}

/** The stored credential record. */
export const storedPasskey = (credentialId: string) =>
  env.DB.prepare("SELECT * FROM passkeys WHERE credential_id = ?").bind(credentialId).first<Record<string, number | string | null>>();

/** The amr of the person's newest session. */
export async function newestSessionAmr(userId: string): Promise<string[]> {
  const row = await env.DB.prepare("SELECT amr FROM sessions WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1").bind(userId).first<{ amr: string }>();
  return JSON.parse(row!.amr) as string[];
}
