import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ensureSigningKeys } from "../src/keys/provision";
import { d1KeyStore } from "../src/keys/store";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await ensureSigningKeys(d1KeyStore(env.DB), env.ENCRYPTION_KEY, Math.floor(Date.now() / 1000));
