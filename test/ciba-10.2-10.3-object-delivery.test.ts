import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashForStorage } from "../src/crypto/hash";
import { backchannelRequest, cibaClient, decideOnApprovalPage, mailedApproval, pollCiba, startCiba } from "./ciba-helpers";
import { expectError } from "./helpers";
import { Browser, person } from "./oidc-helpers";
import { serveRpDocuments } from "./rfc7591-helpers";

/**
 * CIBA ping (§10.2) and push (§10.3, §12) end to end inside the Worker: POST /bc-authorize with the
 * client_notification_token (§7.1), the person's approval or denial through the mailed page, the
 * request's object calling the delivery (src/ciba/delivery.ts) and its alarm retrying a failed
 * callback; the poll unaffected by a failed ping; push clients refused at the token endpoint.
 */

afterEach(() => vi.restoreAllMocks());

const ENDPOINT = "https://rp.example/ciba/object-notify";
const TOKEN = "c8e1f1b0-5a7e-4f5e-9d1c-ping-token";

interface Received {
  auth: string | null;
  body: Record<string, unknown>;
}

function notificationEndpoint(answer: () => Response = () => new Response(null, { status: 204 })) {
  const received: Received[] = [];
  serveRpDocuments({
    [ENDPOINT]: async (req) => {
      received.push({ auth: req.headers.get("authorization"), body: (await req.json()) as Record<string, unknown> });
      return answer();
    },
  });
  return received;
}

/** The object's callback runs after the decision (waitUntil): wait for it. */
async function arrived(received: Received[], n = 1): Promise<void> {
  for (let i = 0; i < 100 && received.length < n; i++) await new Promise((r) => setTimeout(r, 20));
  expect(received).toHaveLength(n);
}

async function started(mode: "ping" | "push") {
  const client = await cibaClient({ backchannel_token_delivery_mode: mode, backchannel_client_notification_endpoint: ENDPOINT, scope: "openid offline_access" });
  const user = await person();
  const { auth_req_id } = await startCiba(client, user.email, { client_notification_token: TOKEN });
  const { path } = await mailedApproval(user.email);
  return { client, user, authReqId: auth_req_id, path };
}

describe("CIBA §7.1 client_notification_token at the backchannel authentication endpoint", () => {
  it("required for ping and push clients (invalid_request)", async () => {
    for (const mode of ["ping", "push"] as const) {
      const client = await cibaClient({ backchannel_token_delivery_mode: mode, backchannel_client_notification_endpoint: ENDPOINT });
      const user = await person();
      const res = await backchannelRequest(client, { scope: "openid", login_hint: user.email });
      await expectError(res, 400, "invalid_request", "client_notification_token_missing");
    }
  });

  it("a bearer token of at most 1024 characters (RFC 6750 b64token)", async () => {
    const client = await cibaClient({ backchannel_token_delivery_mode: "ping", backchannel_client_notification_endpoint: ENDPOINT });
    const user = await person();
    for (const bad of ["has space", "a".repeat(1025), "quote\"d"]) {
      const res = await backchannelRequest(client, { scope: "openid", login_hint: user.email, client_notification_token: bad });
      await expectError(res, 400, "invalid_request", "client_notification_token_malformed");
    }
  });
});

describe("CIBA §10.2 ping through the request's object", () => {
  it("the approval pings {auth_req_id} with the Bearer token; the client then polls its tokens", async () => {
    const received = notificationEndpoint();
    const { client, user, authReqId, path } = await started("ping");
    await decideOnApprovalPage(new Browser(), path, user);
    await arrived(received);
    expect(received[0]).toEqual({ auth: `Bearer ${TOKEN}`, body: { auth_req_id: authReqId } });
    const res = await pollCiba(client, authReqId);
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("a failed ping (503) never breaks the poll, and the object's alarm retries it", async () => {
    let status = 503;
    const received = notificationEndpoint(() => new Response(null, { status }));
    const { client, user, authReqId, path } = await started("ping");
    await decideOnApprovalPage(new Browser(), path, user);
    await arrived(received);
    expect((await pollCiba(client, authReqId)).status).toBe(200);

    // The retry is due 10 s later; the test moves the kept callback's time to now and runs the alarm.
    const stub = env.CIBA_REQUESTS.get(env.CIBA_REQUESTS.idFromName(`ciba/${await hashForStorage(authReqId)}`));
    await runInDurableObject(stub, async (_instance, state) => {
      const kept = await state.storage.get<{ at: number }>("ciba_callback");
      expect(kept).toBeDefined();
      await state.storage.put("ciba_callback", { ...kept, at: 0 });
    });
    status = 204;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(received).toHaveLength(2);
    expect(received[1]).toEqual(received[0]);
    await runInDurableObject(stub, async (_instance, state) => expect(await state.storage.get("ciba_callback")).toBeUndefined());
  });
});

describe("CIBA §10.3 push through the request's object", () => {
  it("the approval pushes the tokens with auth_req_id; the push client may not poll (unauthorized_client)", async () => {
    const received = notificationEndpoint();
    const { client, user, authReqId, path } = await started("push");
    await decideOnApprovalPage(new Browser(), path, user);
    await arrived(received);
    expect(received[0]!.auth).toBe(`Bearer ${TOKEN}`);
    expect(received[0]!.body).toMatchObject({ auth_req_id: authReqId, token_type: "Bearer" });
    expect(Object.keys(received[0]!.body)).toEqual(expect.arrayContaining(["access_token", "id_token", "refresh_token", "expires_in"]));
    await expectError(await pollCiba(client, authReqId), 400, "unauthorized_client", "ciba_push_client_polled");
  });

  it("§12: a denial is pushed as access_denied", async () => {
    const received = notificationEndpoint();
    const { user, authReqId, path } = await started("push");
    await decideOnApprovalPage(new Browser(), path, user, "deny");
    await arrived(received);
    expect(received[0]!.body).toEqual({ error: "access_denied", error_description: expect.any(String), auth_req_id: authReqId });
  });
});
