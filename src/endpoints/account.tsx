import { Hono } from "hono";
import type { AppEnv } from "../http/context";

/** The signed-in person's account page (issue 4): consented clients, with revoke. Mounted at /account. */
export const account = new Hono<AppEnv>();
