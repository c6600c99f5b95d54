import type { User } from "../users/model";
import { userFromRow, type UserRow } from "../users/store";
import { consentFromRow, type Consent } from "./store";

/**
 * What a token issued to a person rests on: the person (still there, enabled, verified) and their
 * consent to the client (still the grant the token carries). The code exchange, the refresh grant,
 * UserInfo and introspection all check both on every request.
 */
export interface GrantState {
  user: User | null;
  /** Null when the user is gone too. */
  consent: Consent | null;
}

/** Storage port: both read together. */
export interface GrantStateStore {
  get(userId: string, clientId: string): Promise<GrantState>;
}

interface Row extends UserRow {
  consent_grant_id: string | null;
  consent_scope: string | null;
  consent_resources: string | null;
  consent_created_at: number | null;
  consent_updated_at: number | null;
}

/** D1 adapter: one query (the user joined with their consent to the client) instead of two reads. */
export function d1GrantStateStore(db: D1Database): GrantStateStore {
  const statement = db.prepare(
    `SELECT u.*, c.grant_id AS consent_grant_id, c.scope AS consent_scope, c.resources AS consent_resources,
            c.created_at AS consent_created_at, c.updated_at AS consent_updated_at
     FROM users u LEFT JOIN consents c ON c.user_id = u.id AND c.client_id = ?
     WHERE u.id = ?`,
  );
  return {
    async get(userId, clientId) {
      const row = await statement.bind(clientId, userId).first<Row>();
      if (row === null) return { user: null, consent: null };
      const consent =
        row.consent_grant_id === null
          ? null
          : consentFromRow({
              user_id: userId,
              client_id: clientId,
              grant_id: row.consent_grant_id,
              scope: row.consent_scope ?? "",
              resources: row.consent_resources,
              created_at: row.consent_created_at ?? 0,
              updated_at: row.consent_updated_at ?? 0,
            });
      return { user: userFromRow(row), consent };
    },
  };
}
