import { backChannelLogoutUri } from "../clients/model";
import type { ClientStore } from "../clients/store";
import type { Config } from "../config";
import { OutboundError, outboundFetch } from "../http/outbound";
import type { Keyring } from "../keys/keyring";
import { log, type LogFields } from "../log";
import { takeSessionClients } from "../sessions/session-clients";
import { issueLogoutToken } from "../tokens/logout-token";

/**
 * OpenID Connect Back-Channel Logout 1.0: when a browser session ends, every client that received
 * an ID token in it (src/sessions/session-clients.ts) and registered a `backchannel_logout_uri` gets
 * a logout token (src/tokens/logout-token.ts), POSTed from the Worker (§2.5).
 *
 * Delivery never holds up or fails a logout: it runs after the response (`waitUntil`). Each POST
 * goes through the outbound-fetch policy (src/http/outbound.ts): a URI whose host is not public is
 * never POSTed to (a client registered before the policy may have one), each POST is abandoned
 * after config.backChannelLogoutTimeoutMs, redirects are not followed (a 3xx is a failed
 * delivery), and the answer's body is not read. Every outcome is one structured log line
 * (`backchannel_logout`, level warn when it failed). There is no retry (§2.8 leaves it optional).
 */

/** A session that has just ended. */
export interface EndedSession {
  sid: string;
  /** Its person: the logout token's `sub`. */
  userId: string;
}

export interface BackChannelDeps {
  db: D1Database;
  clients: ClientStore;
  config: Config;
  /** Loaded only when some client is to be notified. */
  keys: () => Promise<Keyring>;
  now: number;
}

/** Notifies the clients of these ended sessions. Never rejects: every failure is logged. */
export async function notifyBackChannel(deps: BackChannelDeps, sessions: readonly EndedSession[]): Promise<void> {
  let remembered: { sid: string; clientId: string }[];
  try {
    remembered = await takeSessionClients(deps.db, sessions.map((s) => s.sid));
  } catch (error) {
    log("error", "backchannel_logout_failed", { reason: describe(error) });
    return;
  }
  const userOf = new Map(sessions.map((s) => [s.sid, s.userId]));
  await Promise.all(remembered.map(({ sid, clientId }) => notifyOne(deps, { sid, userId: userOf.get(sid)! }, clientId)));
}

async function notifyOne(deps: BackChannelDeps, session: EndedSession, clientId: string): Promise<void> {
  const fields: LogFields = { client_id: clientId, sid: session.sid };
  try {
    const client = await deps.clients.get(clientId);
    const uri = client === null ? undefined : backChannelLogoutUri(client);
    if (client === null || uri === undefined) return; // deleted, or no longer registered for it
    Object.assign(fields, { uri });
    const token = await issueLogoutToken(
      { sub: session.userId, sid: session.sid, clientId, alg: client.idTokenSignedResponseAlg },
      { config: deps.config, keys: await deps.keys(), now: deps.now },
    );
    const { status } = await outboundFetch(uri, {
      purpose: "backchannel_logout_uri",
      accept: null,
      maxBytes: 0,
      timeoutMs: deps.config.backChannelLogoutTimeoutMs,
      // §2.8: 200 OK means logged out; some frameworks answer an empty 200 as 204.
      okStatus: [200, 204],
    }, {
      allowInsecure: deps.config.allowInsecureClientUris,
      post: { contentType: "application/x-www-form-urlencoded", body: new URLSearchParams({ logout_token: token }).toString() },
    });
    log("info", "backchannel_logout", { ...fields, delivered: true, status });
  } catch (error) {
    const reason = error instanceof OutboundError ? error.reason : describe(error);
    const status = error instanceof OutboundError ? error.extra.status : undefined;
    log("warn", "backchannel_logout", { ...fields, delivered: false, status, reason });
  }
}

const describe = (error: unknown) => String(error instanceof Error ? `${error.name}: ${error.message}` : error).slice(0, 200);
