import { app } from "../src/app";
import type { Env } from "../src/env";

export { LoginThrottle } from "./login-throttle";
export { ReplayGuard } from "./replay-guard";

/** The Worker entry wrangler.toml names. */
export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
