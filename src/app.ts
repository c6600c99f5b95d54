import { Hono } from "hono";
import { configFrom } from "./config";
import { account } from "./endpoints/account";
import { admin } from "./endpoints/admin";
import { authorizeEndpoint, continueEndpoint } from "./endpoints/authorize";
import { interaction } from "./endpoints/interaction";
import { registration } from "./endpoints/registration";
import { introspectionEndpoint, rejectOtherIntrospectionMethods } from "./endpoints/introspection";
import { rejectOtherRevocationMethods, revocationEndpoint } from "./endpoints/revocation";
import { rejectOtherUserinfoMethods, userinfoEndpoint, userinfoPreflight } from "./endpoints/userinfo";
import { DEMO_APP_PATH, demoApp, type Serve } from "./dev/demo-app";
import { backchannelAuthenticationEndpoint, rejectOtherBackchannelMethods } from "./endpoints/backchannel-authentication";
import { cibaApproval } from "./endpoints/ciba-approval";
import { device } from "./endpoints/device";
import { deviceAuthorizationEndpoint, rejectOtherDeviceAuthorizationMethods } from "./endpoints/device-authorization";
import { discovery } from "./endpoints/discovery";
import { jwks } from "./endpoints/jwks";
import { logout } from "./endpoints/logout";
import { accountPassword, passwordReset } from "./endpoints/password";
import { accountPasskeys, passkeySignIn } from "./endpoints/passkeys";
import { parEndpoint, rejectOtherParMethods } from "./endpoints/par";
import { rejectOtherMethods, tokenEndpoint, tokenPreflight } from "./endpoints/token";
import { OAuthError } from "./errors/oauth-error";
import { errorResponse } from "./errors/respond";
import type { AppEnv, Step } from "./http/context";

/** Reads the configuration and the clock once per request; a bad configuration is a logged server_error. */
const context: Step = async function context(c, next) {
  c.set("now", Math.floor(Date.now() / 1000));
  c.set("config", configFrom(c.env));
  await next();
};

/** This app's own request pipeline, for the demo app's in-process calls. */
const serveSelf: Serve = (request, env, ctx) => app.fetch(request, env, ctx);

/** The route table: every endpoint Latchkey serves. */
export const app = new Hono<AppEnv>()
  .use("*", context)
  .get("/.well-known/openid-configuration", discovery)
  .get("/.well-known/oauth-authorization-server", discovery)
  .get("/jwks", jwks)
  .get("/authorize", ...authorizeEndpoint)
  .post("/authorize", ...authorizeEndpoint)
  .get("/authorize/continue", ...continueEndpoint)
  .post("/token", ...tokenEndpoint)
  .options("/token", tokenPreflight)
  .all("/token", rejectOtherMethods)
  .post("/device_authorization", ...deviceAuthorizationEndpoint)
  .all("/device_authorization", rejectOtherDeviceAuthorizationMethods)
  .post("/par", ...parEndpoint)
  .all("/par", rejectOtherParMethods)
  .route("/device", device)
  .post("/bc-authorize", ...backchannelAuthenticationEndpoint)
  .all("/bc-authorize", rejectOtherBackchannelMethods)
  .route("/ciba", cibaApproval)
  .post("/revoke", ...revocationEndpoint)
  .options("/revoke", tokenPreflight)
  .all("/revoke", rejectOtherRevocationMethods)
  .post("/introspect", ...introspectionEndpoint)
  .all("/introspect", rejectOtherIntrospectionMethods)
  .get("/userinfo", ...userinfoEndpoint)
  .post("/userinfo", ...userinfoEndpoint)
  .options("/userinfo", userinfoPreflight)
  .all("/userinfo", rejectOtherUserinfoMethods)
  .route("/register", registration)
  .route("/admin", admin)
  .route("/account", account)
  .route("/account", accountPassword)
  .route("/account", accountPasskeys)
  .route("/login/passkey", passkeySignIn)
  .route("/password", passwordReset)
  .route("/logout", logout)
  // Local development only (SHOW_DEV_OUTBOX): a relying party calling this app in-process.
  .route(DEMO_APP_PATH, demoApp(serveSelf))
  .route("/", interaction);

app.notFound(() => {
  throw new OAuthError("not_found");
});
app.onError(errorResponse);
