import type { Client } from "../clients/model";
import type { Config } from "../config";
import { open, seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import type { AuthorizationDetail } from "../authorize/authorization-details";
import type { Confirmation } from "./minter";
import { allAttempted, revokeAccessToken } from "./revocation";

/**
 * Refresh tokens (RFC 6749 §1.5, §6; RFC 9700 §4.14): opaque, 256 random bits, stored only as
 * SHA-256, bound to client, user, grant (consent), scope, auth_time and session, and to the
 * resources and authorization details granted (RFC 8707, RFC 9396).
 *
 * Every use rotates: the token is marked rotated and a successor issued. The tokens descending from
 * one authorization code form a *family* (`refresh_token_families`); presenting a token that was
 * already rotated is reuse and revokes the whole family — its refresh tokens, and the access
 * tokens issued with them through the KV revocation list (src/tokens/revocation.ts) — except that
 * the same request again within a short grace window gets the same answer (see `rotate`).
 *
 * Storage (schema.sql): `refresh_tokens` (one row per token, with its binding), `refresh_token_rotations` (its
 * rotation state, same `token_hash`) and `refresh_token_families`.
 */
export interface RefreshBinding {
  grantId: string;
  clientId: string;
  userId: string;
  scope: string[];
  authTime: number;
  sid: string | null;
  /**
   * The key the tokens are bound to (RFC 7800 `cnf`: DPoP `jkt`, mTLS `x5t#S256`), null when they
   * are Bearer tokens; every successor keeps it (a rotation does not change the binding).
   */
  cnf: Confirmation | null;
  /**
   * RFC 8707 §2.2: the resources granted (null: none), any one of which a refresh may name as its
   * access token's `aud`; RFC 9396 §7: the authorization details granted (null: none). Every
   * successor keeps both.
   */
  resources: string[] | null;
  authorizationDetails: AuthorizationDetail[] | null;
  /** The access token issued together with the refresh token: revoked with its family. */
  accessToken?: { jti: string; exp: number };
}

/**
 * The lifetimes that apply to one client's refresh tokens, in seconds (defaults and reasons in
 * src/config.ts). A client may carry its own values in its registration metadata:
 * `refresh_token_absolute_lifetime`, `refresh_token_idle_lifetime` (60 s to 1 year) and
 * `refresh_token_reuse_grace` (0 to 300 s, below the access-token lifetime).
 */
export interface RefreshPolicy {
  /** Absolute lifetime of a family, from the code's redemption. */
  absolute: number;
  /** Idle lifetime: a token unused for this long expires. */
  idle: number;
  /** Reuse grace window; 0 = none. */
  grace: number;
}

const YEAR = 365 * 24 * 3600;

export function refreshPolicy(config: Config, client: Client): RefreshPolicy {
  const metadata = client.metadata;
  const setting = (name: string, fallback: number, min: number, max: number): number => {
    const value = metadata[name];
    if (value === undefined || value === null) return fallback;
    // Registration validates these; a bad stored value is a server-side inconsistency (server_error, logged).
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`client ${client.clientId}: ${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
  return {
    absolute: setting("refresh_token_absolute_lifetime", config.refreshTokenTtl, 60, YEAR),
    idle: setting("refresh_token_idle_lifetime", config.refreshTokenIdleTtl, 60, YEAR),
    grace: setting("refresh_token_reuse_grace", config.refreshTokenReuseGrace, 0, Math.min(300, config.accessTokenTtl - 1)),
  };
}

/** A refresh token as stored, with its family and rotation state. */
export interface StoredRefreshToken extends Omit<RefreshBinding, "accessToken"> {
  hash: string;
  familyId: string;
  createdAt: number;
  /** Idle expiry of this token (never beyond the family's). */
  expiresAt: number;
  revokedAt: number | null;
  family: { createdAt: number; expiresAt: number; revokedAt: number | null };
  /** Set once the token was rotated. */
  rotation: { rotatedAt: number; scope: string; retrySealed: string | null } | null;
}

interface Row {
  token_hash: string;
  grant_id: string;
  client_id: string;
  user_id: string;
  scope: string;
  auth_time: number;
  sid: string | null;
  cnf: string | null;
  resources: string | null;
  authorization_details: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  family_id: string;
  family_created_at: number;
  family_expires_at: number;
  family_revoked_at: number | null;
  rotated_at: number | null;
  rotation_scope: string | null;
  retry_sealed: string | null;
}

/** What decides whether a token is alive, in one place: expiry under the client's current policy. */
export function isExpired(stored: StoredRefreshToken, policy: RefreshPolicy, now: number): boolean {
  return expiryOf(stored, policy) <= now;
}

/** When the token expires: its own idle expiry and its family's absolute one, each shortened by the current policy. */
export function expiryOf(stored: StoredRefreshToken, policy: RefreshPolicy): number {
  return Math.min(
    stored.expiresAt,
    stored.createdAt + policy.idle,
    stored.family.expiresAt,
    stored.family.createdAt + policy.absolute,
  );
}

/**
 * The stored token for a presented value, or null when there is none. Tokens issued before
 * rotation existed (no rotation row; local development databases only) are not found: their
 * holders sign in again.
 */
export async function findRefreshToken(db: D1Database, token: string): Promise<StoredRefreshToken | null> {
  // Our tokens are 43 base64url characters; anything far longer is not one (and is not hashed).
  if (token.length > 512) return null;
  const row = await db
    .prepare(
      `SELECT t.*, r.family_id, r.rotated_at, r.rotation_scope, r.retry_sealed,
              f.created_at AS family_created_at, f.expires_at AS family_expires_at, f.revoked_at AS family_revoked_at
       FROM refresh_tokens t
       JOIN refresh_token_rotations r ON r.token_hash = t.token_hash
       JOIN refresh_token_families f ON f.family_id = r.family_id
       WHERE t.token_hash = ?`,
    )
    .bind(await hashForStorage(token))
    .first<Row>();
  if (row === null) return null;
  return {
    hash: row.token_hash,
    familyId: row.family_id,
    grantId: row.grant_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: row.scope ? row.scope.split(" ") : [],
    authTime: row.auth_time,
    sid: row.sid,
    cnf: row.cnf === null ? null : (JSON.parse(row.cnf) as Confirmation),
    resources: row.resources === null ? null : (JSON.parse(row.resources) as string[]),
    authorizationDetails: row.authorization_details === null ? null : (JSON.parse(row.authorization_details) as AuthorizationDetail[]),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    family: { createdAt: row.family_created_at, expiresAt: row.family_expires_at, revokedAt: row.family_revoked_at },
    rotation: row.rotated_at === null ? null : { rotatedAt: row.rotated_at, scope: row.rotation_scope ?? "", retrySealed: row.retry_sealed },
  };
}

const insertToken = (db: D1Database, hash: string, b: RefreshBinding, now: number, expiresAt: number) =>
  db
    .prepare(
      `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, auth_time, sid, cnf, resources, authorization_details, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(hash, b.grantId, b.clientId, b.userId, b.scope.join(" "), b.authTime, b.sid, ...storedJson(b), now, expiresAt);

/** The binding's JSON columns, in table order: cnf, resources, authorization_details (NULL when absent). */
const storedJson = (b: RefreshBinding): (string | null)[] =>
  [b.cnf, b.resources, b.authorizationDetails].map((value) => (value === null ? null : JSON.stringify(value)));

/**
 * Issues the first refresh token of a new family (authorization_code grant). Its expiry is the
 * idle lifetime, capped by the family's absolute one.
 */
export async function issueRefreshToken(
  db: D1Database,
  binding: RefreshBinding,
  deps: { now: number; policy: Pick<RefreshPolicy, "absolute" | "idle">; token?: string },
): Promise<{ token: string; hash: string; familyId: string }> {
  const { now, policy } = deps;
  // The minter may draw the token first (a CIBA push ID token carries its rt_hash).
  const token = deps.token ?? randomToken(32);
  const hash = await hashForStorage(token);
  const familyId = randomToken(16);
  const familyExpiresAt = now + policy.absolute;
  await db.batch([
    db
      .prepare(
        `INSERT INTO refresh_token_families (family_id, grant_id, client_id, user_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .bind(familyId, binding.grantId, binding.clientId, binding.userId, now, familyExpiresAt),
    insertToken(db, hash, binding, now, Math.min(now + policy.idle, familyExpiresAt)),
    db
      .prepare("INSERT INTO refresh_token_rotations (token_hash, family_id, access_jti, access_exp) VALUES (?, ?, ?, ?)")
      .bind(hash, familyId, binding.accessToken?.jti ?? null, binding.accessToken?.exp ?? null),
  ]);
  return { token, hash, familyId };
}

/**
 * Deletes a family whose first token was never handed out: the code exchange that issued it failed
 * before answering (src/replay/issue-once.ts undoes it so), so nobody holds the token and nothing
 * needs revoking — the rows go, and the tables are as before the attempt.
 */
export async function discardFamily(db: D1Database, familyId: string): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM refresh_token_rotations WHERE family_id = ?)").bind(familyId),
    db.prepare("DELETE FROM refresh_token_rotations WHERE family_id = ?").bind(familyId),
    db.prepare("DELETE FROM refresh_token_families WHERE family_id = ?").bind(familyId),
  ]);
}

/** A successor ready to replace a token: its value, the answer to give, and what it binds. */
export interface Successor {
  token: string;
  /** The access token issued with it. */
  accessToken: { jti: string; exp: number };
  /** What a retry of the same request within the grace window gets (the token response, sealed at rest). */
  retryAnswer: object;
  /** The rotating request's scope parameter, normalized ('' when none was sent). */
  requestScope: string;
}

/**
 * Rotates `current` into `successor`, atomically: one D1 batch (a transaction) marks `current`
 * rotated — only if it is not rotated or revoked yet, and its family is alive — and, only if that
 * mark was written by this batch, inserts the successor and clears the predecessor's retry answer
 * (its successor, `current`, is now used). D1 runs writes one at a time, so of N concurrent
 * rotations of one token exactly one writes the mark; true for that one. The others re-read the
 * token and find it rotated, with the winner's answer sealed beside it.
 */
export async function rotateRefreshToken(
  db: D1Database,
  current: StoredRefreshToken,
  successor: Successor,
  deps: { now: number; policy: Pick<RefreshPolicy, "idle">; encryptionKey: string },
): Promise<boolean> {
  const { now } = deps;
  const hash = await hashForStorage(successor.token);
  const sealed = await seal(deps.encryptionKey, "refresh-retry", current.hash, JSON.stringify(successor.retryAnswer));
  const won = `EXISTS (SELECT 1 FROM refresh_token_rotations WHERE token_hash = ? AND successor_hash = ?)`;
  const binding: RefreshBinding = { ...current, accessToken: successor.accessToken };
  const expiresAt = Math.min(now + deps.policy.idle, current.family.expiresAt);
  const [mark] = await db.batch([
    db
      .prepare(
        `UPDATE refresh_token_rotations SET rotated_at = ?, successor_hash = ?, rotation_scope = ?, retry_sealed = ?
         WHERE token_hash = ? AND rotated_at IS NULL
           AND EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ? AND revoked_at IS NULL)
           AND EXISTS (SELECT 1 FROM refresh_token_families WHERE family_id = ? AND revoked_at IS NULL)`,
      )
      .bind(now, hash, successor.requestScope, sealed, current.hash, current.hash, current.familyId),
    db
      .prepare(
        `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, auth_time, sid, cnf, resources, authorization_details, created_at, expires_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${won}`,
      )
      .bind(
        hash, binding.grantId, binding.clientId, binding.userId, binding.scope.join(" "), binding.authTime, binding.sid, ...storedJson(binding),
        now, expiresAt, current.hash, hash,
      ),
    db
      .prepare(`INSERT INTO refresh_token_rotations (token_hash, family_id, access_jti, access_exp) SELECT ?, ?, ?, ? WHERE ${won}`)
      .bind(hash, current.familyId, successor.accessToken.jti, successor.accessToken.exp, current.hash, hash),
    db
      .prepare(`UPDATE refresh_token_rotations SET retry_sealed = NULL WHERE successor_hash = ? AND ${won}`)
      .bind(current.hash, current.hash, hash),
  ]);
  return mark!.meta.changes === 1;
}

/**
 * Uses `current` again without rotating it, for a client under FAPI 2.0 (§5.3.2.1 item 9,
 * src/profiles/fapi2.ts rotatesRefreshTokens): one batch renews its idle expiry (never beyond the
 * family's) and records the access token issued with it as one more row of the family in
 * `refresh_token_rotations` (keyed `access:<jti>`, never a refresh token: no `refresh_tokens` row
 * matches it, findRefreshToken joins on that table), so revoking the family lists every access
 * token issued from the token, not only the last. Both writes only while the token and its family
 * are alive; false when they were revoked meanwhile.
 */
export async function keepRefreshToken(
  db: D1Database,
  current: StoredRefreshToken,
  accessToken: { jti: string; exp: number },
  deps: { now: number; policy: Pick<RefreshPolicy, "idle"> },
): Promise<boolean> {
  const alive = `EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ? AND revoked_at IS NULL)
    AND EXISTS (SELECT 1 FROM refresh_token_families WHERE family_id = ? AND revoked_at IS NULL)`;
  const expiresAt = Math.min(deps.now + deps.policy.idle, current.family.expiresAt);
  const [renewed] = await db.batch([
    db.prepare(`UPDATE refresh_tokens SET expires_at = ? WHERE token_hash = ? AND ${alive}`)
      .bind(expiresAt, current.hash, current.hash, current.familyId),
    db.prepare(`INSERT INTO refresh_token_rotations (token_hash, family_id, access_jti, access_exp, rotated_at) SELECT ?, ?, ?, ?, ? WHERE ${alive}`)
      .bind(`access:${accessToken.jti}`, current.familyId, accessToken.jti, accessToken.exp, deps.now, current.hash, current.familyId),
  ]);
  return renewed!.meta.changes === 1;
}

/** The answer the rotation of `stored` gave, for a retry within the grace window; null when there is none to give. */
export async function openRetryAnswer(stored: StoredRefreshToken, encryptionKey: string): Promise<Record<string, unknown> | null> {
  const sealed = stored.rotation?.retrySealed;
  if (!sealed) return null;
  return JSON.parse(await open(encryptionKey, "refresh-retry", stored.hash, sealed)) as Record<string, unknown>;
}

export type FamilyRevocationReason = "reuse" | "revocation" | "code_reuse";

/**
 * Revokes a family: the family row, every refresh token in it, the sealed retry answers, and —
 * through the KV list — every access token issued with its tokens that has not expired yet.
 *
 * D1 and KV cannot change together, so the order is chosen for what a failure leaves behind:
 * 1. The family's live access tokens are read and put on the KV list first. Should D1 then fail,
 *    the access tokens are listed and the refresh tokens still valid: the caller got an error
 *    (server_error) and nothing pretends to be done.
 * 2. One D1 batch marks the family and its tokens revoked and reads the access tokens again: a
 *    rotation racing it either committed first (its access token is found here) or finds the
 *    family revoked and writes nothing. The mark is written even when step 1's KV write failed:
 *    leaving the long-lived refresh tokens valid because the short-lived access tokens could not
 *    be listed would be the worse half.
 * 3. Access tokens found only in step 2 (a racing rotation's) are listed; then a step-1 failure is
 *    thrown, so the caller answers server_error.
 * Every step is idempotent, so running it again completes a revocation a failure interrupted:
 * /revoke finds a revoked token still and revokes its family again (RFC 7009 §2.2: 200).
 */
export async function revokeFamily(
  db: D1Database,
  kv: KVNamespace,
  familyId: string,
  deps: { now: number; reason: FamilyRevocationReason },
): Promise<void> {
  const { now } = deps;
  const liveAccessTokens = db
    .prepare("SELECT access_jti, access_exp FROM refresh_token_rotations WHERE family_id = ? AND access_jti IS NOT NULL AND access_exp > ?")
    .bind(familyId, now);
  const known = (await liveAccessTokens.all<LiveAccessToken>()).results;
  const listing = await listAccessTokens(kv, known, now).then(() => null, (failure: unknown) => ({ failure }));
  const results = await db.batch([
    db.prepare("UPDATE refresh_token_families SET revoked_at = ?, revoked_reason = ? WHERE family_id = ? AND revoked_at IS NULL")
      .bind(now, deps.reason, familyId),
    db.prepare(
      `UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL
         AND token_hash IN (SELECT token_hash FROM refresh_token_rotations WHERE family_id = ?)`,
    ).bind(now, familyId),
    db.prepare("UPDATE refresh_token_rotations SET retry_sealed = NULL WHERE family_id = ? AND retry_sealed IS NOT NULL").bind(familyId),
    liveAccessTokens,
  ]);
  const tried = new Set(known.map((t) => t.access_jti));
  await listAccessTokens(kv, ((results[3]!.results ?? []) as LiveAccessToken[]).filter((t) => !tried.has(t.access_jti)), now);
  if (listing !== null) throw listing.failure;
}

interface LiveAccessToken {
  access_jti: string;
  access_exp: number;
}

const listAccessTokens = (kv: KVNamespace, tokens: LiveAccessToken[], now: number) =>
  allAttempted(tokens.map((t) => revokeAccessToken(kv, t.access_jti, t.access_exp, now)));

/** Revokes the family of the refresh token with this hash (code reuse, RFC 6749 §4.1.2). */
export async function revokeRefreshToken(db: D1Database, kv: KVNamespace, hash: string, now: number): Promise<void> {
  const row = await db.prepare("SELECT family_id FROM refresh_token_rotations WHERE token_hash = ?").bind(hash).first<{ family_id: string }>();
  if (row !== null) await revokeFamily(db, kv, row.family_id, { now, reason: "code_reuse" });
}
