import { Linkify } from "./links";
import { Layout } from "./layout";
import { UtcTime } from "./time";

export interface OutboxEntry {
  recipient: string;
  subject: string;
  body: string;
  /** Unix seconds. */
  createdAt: number;
}

export interface OutboxPageProps {
  nonce: string;
  /** Shown in the order given (the route decides; newest first reads best). */
  messages: readonly OutboxEntry[];
}

/** GET /dev/outbox: the mail the development server did not send, links clickable. */
export function OutboxPage({ nonce, messages }: OutboxPageProps) {
  return (
    <Layout title="Local outbox" nonce={nonce} wide>
      <h1>Local outbox</h1>
      <p class="lead">Mail this development server would have sent. Not available in production.</p>
      {messages.length === 0 ? <p>No messages yet.</p> : null}
      {messages.map((m) => (
        <article class="message">
          <header>
            <strong>{m.subject}</strong>
            To {m.recipient} · <UtcTime seconds={m.createdAt} precision="second" />
          </header>
          <pre>
            <Linkify text={m.body} />
          </pre>
        </article>
      ))}
    </Layout>
  );
}
