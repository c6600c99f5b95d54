import { describe, expect, it } from "vitest";
import { JWT_BEARER, assertion, basic, expectError, keyPair, tokenRequest } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectTokenResponse, person, verifyIdToken,
} from "./oidc-helpers";
import { offlineTokens, refresh, refreshClient, refreshed, userinfo } from "./rfc6749-6-helpers";

/**
 * The OpenID conformance suite's refresh modules, as workerd tests:
 * - `oidcc-refresh-token` (Basic OP plan): a client registered for the refresh_token grant gets a
 *   refresh token with offline_access + prompt=consent; the refresh works (200, no-store, token
 *   characters); the refresh token used by a second client → 400 invalid_grant.
 * - `fapi2-security-profile-final-refresh-token`, its client-binding checks: a refresh request
 *   without client authentication must fail (400/401 invalid_client, invalid_grant or
 *   invalid_request), and with it the refresh works.
 */

describe("oidcc-refresh-token", () => {
  it("offline_access + prompt=consent → refresh token; refresh → 200 with a new access token; client2 → 400 invalid_grant", async () => {
    const client = await refreshClient();
    const client2 = await refreshClient();
    const { tokens, nonce } = await offlineTokens(client);
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce, accessToken: tokens.access_token });

    const next = await refreshed(client, tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect((await userinfo(next.access_token)).status).toBe(200);
    await verifyIdToken(next.id_token!, client.client_id, { nonce: undefined, accessToken: next.access_token });

    const res = await refresh(client2, next.refresh_token);
    const body = await expectError(res, 400, "invalid_grant", "refresh_token_client_mismatch");
    expect(body.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
    // The suite stops here; the token was not burnt by client2's attempt.
    await refreshed(client, next.refresh_token);
  });

  it("client_secret_post: the refresh works with the credentials in the body", async () => {
    const client = await refreshClient({ token_endpoint_auth_method: "client_secret_post" });
    const { tokens } = await offlineTokens(client);
    await expectTokenResponse(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: client.client_id, client_secret: client.client_secret! }),
    );
  });

  it("client2 using client1's credentials in Basic for a body client_id of its own → invalid_client, token intact", async () => {
    const client = await refreshClient();
    const client2 = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectError(
      await tokenRequest(
        { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: client2.client_id },
        { authorization: basic(client.client_id, client.client_secret!) },
      ),
      401,
      "invalid_client",
      "client_id_mismatch",
    );
    await refreshed(client, tokens.refresh_token);
  });
});

describe("fapi2-security-profile-final-refresh-token: the refresh token is bound to the authenticated client", () => {
  async function pkjTokens() {
    const key = await keyPair("ES256", crypto.randomUUID());
    const client = await refreshClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] } });
    const signed = () => assertion(client.client_id, key.privateKey, { header: { kid: key.publicJwk.kid } });
    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid offline_access", prompt: "consent" });
    const code = clientRedirect((await authorize(new Browser(), params, await person())).response).get("code")!;
    const tokens = await expectTokenResponse(
      await tokenRequest({
        grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
        client_assertion_type: JWT_BEARER, client_assertion: await signed(),
      }),
    );
    return { client, signed, refreshToken: tokens.refresh_token! };
  }

  it("private_key_jwt: a refresh request with only client_id → 401 invalid_client; with an assertion → 200", async () => {
    const { client, signed, refreshToken } = await pkjTokens();
    await expectError(await tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: client.client_id }), 401, "invalid_client", "missing_client_credentials");
    await expectError(await tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken }), 401, "invalid_client", "missing_client_credentials");
    const next = await expectTokenResponse(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, client_assertion_type: JWT_BEARER, client_assertion: await signed() }),
    );
    expect(next.refresh_token).toBeTruthy();
  });

  it("private_key_jwt: another client's valid assertion with this client's refresh token → 400 invalid_grant", async () => {
    const { refreshToken } = await pkjTokens();
    const other = await pkjTokens();
    await expectError(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, client_assertion_type: JWT_BEARER, client_assertion: await other.signed() }),
      400,
      "invalid_grant",
      "refresh_token_client_mismatch",
    );
  });
});
