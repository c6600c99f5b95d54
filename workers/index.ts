import { app } from "../src/app";
import type { Env } from "../src/env";
import { runMaintenance } from "../src/maintenance";

export { CibaRequest } from "./ciba-request";
export { DeviceAuthorization } from "./device-authorization";
export { LoginThrottle } from "./login-throttle";
export { ReplayGuard } from "./replay-guard";

/** The Worker entry wrangler.toml names. */
export default {
  fetch: app.fetch,
  /** Cron trigger (wrangler.toml [triggers]): key rotation and expired-row cleanup; never throws. */
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runMaintenance(env, Math.floor(controller.scheduledTime / 1000)));
  },
} satisfies ExportedHandler<Env>;
