// Loopback ports for the bench's servers.

import { createServer } from "node:net";

/** A free loopback port, asked of the OS (so an issuer can name it before its server starts). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
