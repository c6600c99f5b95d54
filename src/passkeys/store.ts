/**
 * Passkeys: the credential records of WebAuthn Level 3 §4, one per registered passkey, in D1
 * (migrations/0003_passkeys.sql). A person may have several, each named by them.
 */
export interface Passkey {
  /** The credential id (base64url), as the authenticator made it: the table's key. */
  credentialId: string;
  userId: string;
  /** What the person called it ("Laptop", "Phone"), at most NAME_MAX characters. */
  name: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen (0: the authenticator keeps none). */
  counter: number;
  /** BE: may the key be synced to other devices? Fixed at registration (WebAuthn L3 §6.1.3). */
  backupEligible: boolean;
  /** BS: is it backed up now? Updated at each use. */
  backedUp: boolean;
  transports: string[];
  aaguid: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export const NAME_MAX = 64;

interface PasskeyRow {
  credential_id: string;
  user_id: string;
  name: string;
  public_key: string;
  counter: number;
  backup_eligible: number;
  backed_up: number;
  transports: string;
  aaguid: string;
  created_at: number;
  last_used_at: number | null;
}

const fromRow = (r: PasskeyRow): Passkey => ({
  credentialId: r.credential_id,
  userId: r.user_id,
  name: r.name,
  publicKey: r.public_key,
  counter: r.counter,
  backupEligible: r.backup_eligible === 1,
  backedUp: r.backed_up === 1,
  transports: JSON.parse(r.transports) as string[],
  aaguid: r.aaguid,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

/** Storage port for passkeys. */
export interface PasskeyStore {
  get(credentialId: string): Promise<Passkey | null>;
  listForUser(userId: string): Promise<Passkey[]>;
  /** Inserts; false when the credential id is registered already (to anyone). */
  add(passkey: Passkey): Promise<boolean>;
  /**
   * Records a use: the new counter and backup state, and when. Conditional on the counter read
   * before the check (`seenCounter`), so of two uses racing with the same counter only one records;
   * false for the other (and for a passkey removed meanwhile).
   */
  recordUse(credentialId: string, seenCounter: number, use: { counter: number; backedUp: boolean; at: number }): Promise<boolean>;
  /** Removes one of the person's passkeys; false when they have none by that id. */
  remove(userId: string, credentialId: string): Promise<boolean>;
}

const COLUMNS = "credential_id, user_id, name, public_key, counter, backup_eligible, backed_up, transports, aaguid, created_at, last_used_at";

export function d1PasskeyStore(db: D1Database): PasskeyStore {
  return {
    async get(credentialId) {
      const row = await db.prepare(`SELECT ${COLUMNS} FROM passkeys WHERE credential_id = ?`).bind(credentialId).first<PasskeyRow>();
      return row ? fromRow(row) : null;
    },
    async listForUser(userId) {
      const { results } = await db.prepare(`SELECT ${COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY created_at, credential_id`).bind(userId).all<PasskeyRow>();
      return results.map(fromRow);
    },
    async add(p) {
      const result = await db
        .prepare(`INSERT INTO passkeys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (credential_id) DO NOTHING`)
        .bind(p.credentialId, p.userId, p.name, p.publicKey, p.counter, p.backupEligible ? 1 : 0, p.backedUp ? 1 : 0,
          JSON.stringify(p.transports), p.aaguid, p.createdAt, p.lastUsedAt)
        .run();
      return result.meta.changes === 1;
    },
    async recordUse(credentialId, seenCounter, use) {
      const result = await db
        .prepare("UPDATE passkeys SET counter = ?, backed_up = ?, last_used_at = ? WHERE credential_id = ? AND counter = ?")
        .bind(use.counter, use.backedUp ? 1 : 0, use.at, credentialId, seenCounter)
        .run();
      return result.meta.changes === 1;
    },
    async remove(userId, credentialId) {
      const result = await db.prepare("DELETE FROM passkeys WHERE user_id = ? AND credential_id = ?").bind(userId, credentialId).run();
      return result.meta.changes === 1;
    },
  };
}
