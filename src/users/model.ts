/** A person who signs in. `id` is the OIDC `sub`: random, stable, never reassigned. */
export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  /** "pbkdf2-sha256$<iterations>$<salt>$<hash>" (src/users/password.ts), or null when no password is set. */
  passwordHash: string | null;
  claims: UserClaims;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** OIDC Core §5.1 standard claims other than sub, email and email_verified. */
export interface UserClaims {
  name?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  nickname?: string;
  preferred_username?: string;
  profile?: string;
  picture?: string;
  website?: string;
  gender?: string;
  birthdate?: string;
  zoneinfo?: string;
  locale?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  address?: {
    formatted?: string;
    street_address?: string;
    locality?: string;
    region?: string;
    postal_code?: string;
    country?: string;
  };
}

/** Storage port for users (D1 adapter in src/users/store.ts). */
export interface UserStore {
  get(id: string): Promise<User | null>;
  getByEmail(email: string): Promise<User | null>;
  /** Inserts; resolves false (nothing written) when the email is taken. */
  create(user: User): Promise<boolean>;
  update(id: string, changes: Partial<Pick<User, "emailVerified" | "passwordHash" | "claims" | "disabled">>, now: number): Promise<void>;
}
