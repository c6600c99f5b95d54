/** A signed-in browser session (server-side record; the cookie carries only a random handle). */
export interface Session {
  /** Public session id, the ID token's `sid` (OIDC Front/Back-Channel Logout). */
  sid: string;
  userId: string;
  /** When the person last authenticated (OIDC `auth_time`), Unix seconds. */
  authTime: number;
  /** Authentication methods references (RFC 8176), e.g. ["pwd"]. */
  amr: string[];
  expiresAt: number;
}

/** Storage port for sessions (D1 adapter in src/sessions/store.ts). */
export interface SessionStore {
  /** Creates a session and returns the cookie value that names it. */
  create(input: { userId: string; authTime: number; amr: string[] }, now: number): Promise<{ cookieValue: string; session: Session }>;
  /** The live (not ended, not expired) session the cookie value names. */
  get(cookieValue: string, now: number): Promise<Session | null>;
  end(sid: string, now: number): Promise<void>;
}
