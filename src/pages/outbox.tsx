import { Linkify } from "./links";
import { Layout } from "./layout";

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

const when = (seconds: number) => new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";

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
            To {m.recipient} · <time datetime={new Date(m.createdAt * 1000).toISOString()}>{when(m.createdAt)}</time>
          </header>
          <pre>
            <Linkify text={m.body} />
          </pre>
        </article>
      ))}
    </Layout>
  );
}
