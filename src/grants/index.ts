import { authorizationCode } from "./authorization-code";
import { ciba } from "./ciba";
import { clientCredentials } from "./client-credentials";
import { deviceCode } from "./device-code";
import type { Grant } from "./grant";
import { refreshToken } from "./refresh-token";

/** The grant registry: discovery's grant_types_supported is derived from it. */
export const GRANTS: readonly Grant[] = [authorizationCode, clientCredentials, refreshToken, deviceCode, ciba];
export const grantByType = new Map(GRANTS.map((g) => [g.type, g]));
