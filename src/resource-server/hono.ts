import type { MiddlewareHandler } from "hono";
import type { ProtectedResource, VerifiedToken } from "./index";

/**
 * The kit as Hono middleware: answers the resource's metadata URL itself, refuses a request without
 * a good token with the kit's challenge, and otherwise puts the verified token in `c.var.accessToken`.
 *
 *   const app = new Hono<{ Variables: { accessToken: VerifiedToken } }>();
 *   app.use(protect(rs));
 */
export function protect(rs: ProtectedResource): MiddlewareHandler<{ Variables: { accessToken: VerifiedToken } }> {
  return async function protectedResourceMiddleware(c, next) {
    const metadata = rs.metadata(c.req.raw);
    if (metadata !== undefined) return metadata;
    const auth = await rs.authenticate(c.req.raw);
    if (!auth.ok) return auth.response;
    c.set("accessToken", auth.token);
    await next();
  };
}
