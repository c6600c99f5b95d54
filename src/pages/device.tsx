import type { ScopeDescription } from "./scopes";
import { ClientLinks, ClientLogo, type ClientInfo } from "./links";
import { DecisionForm } from "./decision-form";
import { CsrfField, Layout } from "./layout";
import { ScopeList } from "./scope-list";

/**
 * The device flow's pages for the person (RFC 8628 §3.3): enter the code shown on the device,
 * confirm the device and what it asks for (§5.4: even when the code came prefilled from
 * verification_uri_complete, the person confirms it), and the result.
 */

export interface DeviceCodePageProps {
  nonce: string;
  csrf: string;
  /** Prefilled from verification_uri_complete (?user_code=); still submitted by the person. */
  userCode?: string;
  /** Why the last code was refused (a catalog description: src/errors/catalog.ts user_code_*). */
  error?: string;
}

/** POST /device with `user_code` and `csrf`. */
export function DeviceCodePage({ nonce, csrf, userCode, error }: DeviceCodePageProps) {
  return (
    <Layout title="Connect a device" nonce={nonce}>
      <h1>Connect a device</h1>
      <p class="lead">Enter the code shown on your TV, console or other device.</p>
      {error !== undefined ? (
        <p class="alert" role="alert">{error}</p>
      ) : null}
      <form method="post" action="/device">
        <CsrfField token={csrf} />
        <div class="field">
          <label for="user_code">Code</label>
          <input type="text" id="user_code" name="user_code" value={userCode ?? ""} required autocomplete="off"
            autocapitalize="characters" spellcheck={false} maxlength={32} placeholder="XXXX-XXXX" />
          <span class="hint">Letters only; dashes and spaces do not matter.</span>
        </div>
        <div class="actions">
          <button type="submit">Continue</button>
        </div>
      </form>
    </Layout>
  );
}

export interface DeviceConfirmPageProps extends ClientInfo {
  nonce: string;
  csrf: string;
  /** The code, as shown on the device (XXXX-XXXX). */
  userCode: string;
  clientName: string;
  scopes: readonly ScopeDescription[];
}

/** POST /device/confirm with `decision=approve|deny`, hidden `user_code` and `csrf`. */
export function DeviceConfirmPage({ nonce, csrf, userCode, clientName, clientUri, logoUri, policyUri, tosUri, scopes }: DeviceConfirmPageProps) {
  return (
    <Layout title={`Connect ${clientName}?`} nonce={nonce}>
      <ClientLogo uri={logoUri} />
      <h1>
        Connect <span class="email">{clientName}</span>?
      </h1>
      <ClientLinks clientName={clientName} clientUri={clientUri} policyUri={policyUri} tosUri={tosUri} />
      <p>
        A device showing the code <strong>{userCode}</strong> asks to sign in to your account.
      </p>
      <p class="alert" role="note">
        Only continue if you started this on a device you have in front of you. If someone sent you this code or link, deny:
        approving would give them access to your account.
      </p>
      <h2>The device will be able to:</h2>
      <ScopeList scopes={scopes} />
      <DecisionForm action="/device/confirm" hidden={{ user_code: userCode }} csrf={csrf}
        yes={{ value: "approve", label: "Approve" }} no={{ value: "deny", label: "Deny" }} />
    </Layout>
  );
}

/** How a device request ended, as the result page tells it. */
export type DeviceResult = "approved" | "denied" | "expired" | "decided";

const RESULTS: Record<DeviceResult, { title: string; text: string }> = {
  approved: { title: "Device connected", text: "You can return to your device: it will continue in a few seconds." },
  denied: { title: "Request denied", text: "The device was not given access to your account." },
  expired: { title: "The code has expired", text: "Start again on your device to get a new code." },
  decided: { title: "Already answered", text: "This device request was already approved or denied." },
};

export const isDeviceResult = (value: string | undefined): value is DeviceResult => value !== undefined && Object.hasOwn(RESULTS, value);

export function DeviceDonePage({ nonce, result }: { nonce: string; result: DeviceResult }) {
  const { title, text } = RESULTS[result];
  return (
    <Layout title={title} nonce={nonce}>
      <h1>{title}</h1>
      <p>{text}</p>
    </Layout>
  );
}
