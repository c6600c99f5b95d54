/** Types of test/webauthn-authenticator.mjs (shared with the benchmark, hence plain JavaScript). */
export declare const FLAGS: { readonly UP: 1; readonly UV: 4; readonly BE: 8; readonly BS: 16; readonly AT: 64 };

/** What a response may get wrong (each defaults to right). */
export interface Tweaks {
  origin?: string;
  rpId?: string;
  /** Flags (UP, UV, BE, BS); default UP|UV plus the authenticator's BE/BS. */
  flags?: number;
  type?: string;
  userHandle?: string;
}

export declare class SoftAuthenticator {
  readonly credentialId: Uint8Array;
  counter: number;
  userHandle: string;
  static create(options?: { synced?: boolean; counter?: number; origin?: string }): Promise<SoftAuthenticator>;
  get id(): string;
  register(options: { challenge: string; rp: { id: string }; user: { id: string } }, tweaks?: Tweaks): Promise<string>;
  assert(options: { challenge: string; rpId: string }, tweaks?: Tweaks): Promise<string>;
}
