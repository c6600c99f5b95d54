import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearClientKeyCaches } from "../src/client-auth/client-keys";
import { clearClientCache } from "../src/clients/store";
import { JWT_BEARER, assertion, call, createClient, expectError, keyPair, tokenRequest } from "./helpers";
import { deferredWorker, logoutClient, logoutPath, signedIn, POST_LOGOUT_URI, expectPostLogoutRedirect } from "./logout-helpers";
import { Browser, REDIRECT_URI } from "./oidc-helpers";
import { FORBIDDEN_HOSTS } from "./outbound-helpers";
import { expectRegistrationError, manage, register, registered, webClient } from "./rfc7591-helpers";

/**
 * ASVS 5.0 V1.3.6 (server-side request forgery), through the endpoints: every URL a client
 * supplies that the server fetches (jwks_uri, sector_identifier_uri, backchannel_logout_uri) goes
 * through one outbound policy (src/http/outbound.ts). Registration refuses a URL the policy would
 * not fetch, with invalid_client_metadata and a specific code (POST and PUT /register and the
 * operator API share the one validator), and the fetch itself is refused for a URL stored before
 * the policy existed. Every outbound fetch is recorded here; the refused ones must make none.
 */

/** Records every outbound fetch the Worker makes and answers each with `answer`. */
function recordFetches(answer: (url: string) => Response = () => new Response("not found", { status: 404 })): string[] {
  const fetched: string[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    fetched.push(url);
    return answer(url);
  });
  return fetched;
}

afterEach(() => vi.restoreAllMocks());
beforeEach(() => {
  clearClientKeyCaches();
  clearClientCache();
});

/** What a client registers for each fetched member. */
const MEMBERS: Record<string, (uri: string) => Record<string, unknown>> = {
  jwks_uri: (uri) => webClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: uri }),
  sector_identifier_uri: (uri) => webClient({ sector_identifier_uri: uri }),
  backchannel_logout_uri: (uri) => webClient({ backchannel_logout_uri: uri }),
};

describe("registration refuses a URL the server would fetch at a non-public host (client_uri_forbidden_host)", () => {
  for (const [member, metadata] of Object.entries(MEMBERS)) {
    it(`${member}: every address and name of the list, POST /register, without a fetch`, async () => {
      const fetched = recordFetches(() => Response.json([REDIRECT_URI]));
      for (const uri of FORBIDDEN_HOSTS) {
        const res = await register(metadata(uri));
        const body = await res.clone().json() as Record<string, string>;
        expect({ uri, status: res.status, code: body.error_code }).toEqual({ uri, status: 400, code: "client_uri_forbidden_host" });
        await expectRegistrationError(res, "invalid_client_metadata", "client_uri_forbidden_host", member);
      }
      expect(fetched).toEqual([]);
    });
  }

  it("PUT /register/{id} (RFC 7592 §2.2) applies the same rule", async () => {
    const reg = await registered(webClient());
    const res = await manage("PUT", reg.registration_client_uri, reg.registration_access_token, {
      ...webClient(), client_id: reg.client_id, token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://169.254.169.254/keys",
    });
    await expectRegistrationError(res, "invalid_client_metadata", "client_uri_forbidden_host", "jwks_uri");
  });

  it("the operator API applies the same rule", async () => {
    const res = await call("/admin/clients", {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["client_credentials"], backchannel_logout_uri: "https://[::ffff:7f00:1]/bcl" }),
    });
    await expectRegistrationError(res, "invalid_client_metadata", "client_uri_forbidden_host", "backchannel_logout_uri");
  });

  it("credentials in the URL (RFC 9110 §4.2.4) → client_uri_credentials; a fragment → the member's own code", async () => {
    for (const [member, metadata] of Object.entries(MEMBERS)) {
      await expectRegistrationError(await register(metadata("https://user:secret@rp.example/doc")), "invalid_client_metadata",
        "client_uri_credentials", member);
      await expectRegistrationError(await register(metadata("https://rp.example/doc#frag")), "invalid_client_metadata",
        `${member}_malformed`, member);
    }
  });

  it("public hosts stay accepted, and URLs only shown to people (logo_uri …) are not held to the fetch rules", async () => {
    recordFetches(() => Response.json([REDIRECT_URI]));
    const body = await registered(webClient({
      token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://8.8.8.8/jwks",
      sector_identifier_uri: "https://[2606:4700:4700::1111]/sector", backchannel_logout_uri: "https://rp.example/bcl",
      logo_uri: "https://127.0.0.1/logo.png",
    }));
    expect(body).toMatchObject({ jwks_uri: "https://8.8.8.8/jwks", logo_uri: "https://127.0.0.1/logo.png" });
  });
});

describe("ALLOW_INSECURE_CLIENT_URIS=true (local development): http and loopback, nothing else", () => {
  const DEV = { env: { REGISTRATION_POLICY: "open", ALLOW_INSECURE_CLIENT_URIS: "true" } };

  it("loopback http and https are accepted", async () => {
    for (const uri of ["http://127.0.0.1:8080/jwks", "http://localhost:8080/jwks", "http://[::1]:8080/jwks", "https://127.0.0.1/jwks"]) {
      const body = await registered(webClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: uri }), DEV);
      expect(body.jwks_uri).toBe(uri);
    }
  });

  it("private, link-local and other non-loopback addresses stay refused", async () => {
    for (const uri of ["http://10.0.0.1/jwks", "https://169.254.169.254/", "http://192.168.1.1/", "https://[fd00::1]/", "https://printer.local/"]) {
      await expectRegistrationError(await register(webClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: uri }), DEV),
        "invalid_client_metadata", "client_uri_forbidden_host", "jwks_uri");
    }
  });

  it("without it, loopback is refused even over https", async () => {
    await expectRegistrationError(await register(webClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://127.0.0.1/jwks" })),
      "invalid_client_metadata", "client_uri_forbidden_host", "jwks_uri");
  });
});

describe("a client row stored before the policy: its URL is refused at fetch time, and never fetched", () => {
  /** A client_credentials request authenticated with private_key_jwt (key id k1). */
  const authenticate = async (clientId: string, key: CryptoKey) => tokenRequest({
    grant_type: "client_credentials", client_id: clientId, client_assertion_type: JWT_BEARER,
    client_assertion: await assertion(clientId, key, { header: { kid: "k1" } }),
  });

  it("jwks_uri at a loopback address: client authentication fails (jwks_uri_forbidden) without a fetch", async () => {
    const key = await keyPair("ES256", "k1");
    const client = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://rp.example/jwks" });
    for (const stored of ["https://127.0.0.1/jwks", "https://2130706433/jwks", "http://169.254.169.254/keys"]) {
      await env.DB.prepare("UPDATE clients SET jwks_uri = ? WHERE client_id = ?").bind(stored, client.client_id).run();
      clearClientCache();
      const fetched = recordFetches(() => Response.json({ keys: [key.publicJwk] }));
      await expectError(await authenticate(client.client_id, key.privateKey), 401, "invalid_client", "jwks_uri_forbidden");
      expect(fetched).toEqual([]);
      vi.restoreAllMocks();
    }
  });

  it("jwks_uri that redirects: the redirect is not followed (jwks_uri_error)", async () => {
    const key = await keyPair("ES256", "k1");
    const client = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://rp.example/moved" });
    const fetched = recordFetches((url) => url === "https://rp.example/moved"
      ? new Response(null, { status: 302, headers: { location: "https://169.254.169.254/keys" } })
      : Response.json({ keys: [key.publicJwk] }));
    await expectError(await authenticate(client.client_id, key.privateKey), 401, "invalid_client", "jwks_uri_error");
    expect(fetched).toEqual(["https://rp.example/moved"]);
  });

  it("backchannel_logout_uri at a loopback address: the logout completes, nothing is POSTed, the refusal is logged", async () => {
    const worker = deferredWorker();
    const client = await logoutClient({ backchannel_logout_uri: "https://rp.example/bcl" });
    const { browser, idToken } = await signedIn({ client, browser: new Browser(worker.send) });
    const row = await env.DB.prepare("SELECT metadata FROM clients WHERE client_id = ?").bind(client.client_id).first<{ metadata: string }>();
    const metadata = { ...JSON.parse(row!.metadata), backchannel_logout_uri: "https://[::ffff:a9fe:a9fe]/bcl" };
    await env.DB.prepare("UPDATE clients SET metadata = ? WHERE client_id = ?").bind(JSON.stringify(metadata), client.client_id).run();
    clearClientCache();
    const fetched = recordFetches(() => new Response(null, { status: 200 }));
    const warn = vi.spyOn(console, "warn");
    expectPostLogoutRedirect(await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI })));
    await worker.settled();
    expect(fetched).toEqual([]);
    const line = warn.mock.calls.map(([text]) => JSON.parse(String(text))).find((l) => l.event === "backchannel_logout");
    expect(line).toMatchObject({ level: "warn", client_id: client.client_id, delivered: false });
    expect(line.reason).toMatch(/refused: its host is not a public one/);
  });
});
