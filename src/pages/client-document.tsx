import { isMetadataDocumentClient } from "../clients/metadata-document";
import type { Client } from "../clients/model";
import { isLoopbackHost } from "../clients/redirect-uris";

/**
 * What the consent page says about a client known only by its client ID metadata document
 * (src/clients/metadata-document.ts): that it is not registered with this server and where it
 * describes itself (draft-ietf-oauth-client-id-metadata-document-00 §6.4: the client_id's host),
 * and where the answer goes — the redirect URI's host, shown clearly as MCP's authorization rules
 * require, with a warning when that is the person's own device (localhost), which any program on
 * it could be listening at.
 */
export interface UnregisteredClient {
  /** The host of the client_id URL. */
  clientIdHost: string;
  /** The host (and port) the authorization response goes to; absent for a device or CIBA approval. */
  redirectHost?: string | undefined;
  /** The redirect URI is on a loopback host. */
  loopback: boolean;
}

/** The notice's facts for `client`, or undefined for a registered client. */
export function unregisteredClient(client: Client, redirectUri: string | undefined): UnregisteredClient | undefined {
  if (!isMetadataDocumentClient(client)) return undefined;
  const redirect = redirectUri === undefined ? undefined : safeUrl(redirectUri);
  return {
    clientIdHost: new URL(client.clientId).host,
    redirectHost: redirect?.host || redirect?.protocol,
    loopback: redirect !== undefined && redirect.protocol === "http:" && isLoopbackHost(redirect.hostname),
  };
}

const safeUrl = (value: string): URL | undefined => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

export function UnregisteredClientNotice({ clientIdHost, redirectHost, loopback }: UnregisteredClient) {
  return (
    <div class="notice" role="note">
      <p>
        This app is <strong>not registered</strong> with this server. It describes itself at <strong>{clientIdHost}</strong>:
        continue only if you expect an app from there.
      </p>
      {redirectHost !== undefined ? (
        <p>
          Your answer will be sent to <strong>{redirectHost}</strong>.
        </p>
      ) : null}
      {loopback ? (
        <p>
          That is an address <strong>on your own device</strong> (localhost): allow only if you have just started this sign-in
          from an app on this device that you trust.
        </p>
      ) : null}
    </div>
  );
}
