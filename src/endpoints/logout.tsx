import { Hono } from "hono";
import type { AppEnv } from "../http/context";

/** OpenID Connect RP-Initiated Logout 1.0 (end_session_endpoint) and Back-Channel Logout. Mounted at /logout. */
export const logout = new Hono<AppEnv>();
