import { Hono } from "hono";
import { configFrom } from "./config";
import { admin } from "./endpoints/admin";
import { discovery } from "./endpoints/discovery";
import { jwks } from "./endpoints/jwks";
import { rejectOtherMethods, tokenEndpoint } from "./endpoints/token";
import { OAuthError } from "./errors/oauth-error";
import { errorResponse } from "./errors/respond";
import type { AppEnv, Step } from "./http/context";

/** Reads the configuration and the clock once per request; a bad configuration is a logged server_error. */
const context: Step = async function context(c, next) {
  c.set("now", Math.floor(Date.now() / 1000));
  c.set("config", configFrom(c.env));
  await next();
};

/** The route table: every endpoint Latchkey serves. */
export const app = new Hono<AppEnv>()
  .use("*", context)
  .get("/.well-known/openid-configuration", discovery)
  .get("/.well-known/oauth-authorization-server", discovery)
  .get("/jwks", jwks)
  .post("/token", ...tokenEndpoint)
  .all("/token", rejectOtherMethods)
  .route("/admin", admin);

app.notFound(() => {
  throw new OAuthError("not_found");
});
app.onError(errorResponse);
