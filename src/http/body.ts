import { OAuthError } from "../errors/oauth-error";

/**
 * Reads a body stream, refusing to hold more than `maxBytes`: resolves undefined (and cancels the
 * stream) as soon as it grows past the bound. The one bounded reader: request bodies (through
 * readRequestBody) and the answers of outbound fetches (src/http/outbound.ts). When `signal`
 * aborts, the stream is cancelled and the read rejects with the signal's reason.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const abort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.throwIfAborted();
  signal?.addEventListener("abort", abort, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener("abort", abort);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * A request body, at most `maxBytes` (`request_body_too_large` beyond).
 *
 * A body that declares its length (a Content-Length of digits) is refused before anything is read
 * if that is above the bound, and otherwise read in one native call (`arrayBuffer()`; a stream
 * read chunk by chunk costs about 0.1 ms more CPU per request, docs/performance.md); what arrived
 * must then be exactly the declared length (`request_body_length_mismatch`). Everything that
 * reaches a Worker from the Internet has passed Cloudflare's HTTP front line, which frames a body
 * by its Content-Length (RFC 9112 §6.3; in HTTP/2 and HTTP/3 a longer body is malformed), so the
 * declared bound is the real one. Only a Request made in-process by another Worker of the
 * operator's (a service binding) can carry more than it declares: such a body is read whole and
 * then refused (docs/security.md, "Request bodies", says what a Worker in front must do).
 *
 * A body without a declared length (chunked) is read as a stream and cut off at the bound.
 */
export async function readRequestBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared === null || request.body === null || !/^\d{1,9}$/.test(declared)) {
    const bytes = await readBounded(request.body, maxBytes);
    if (bytes === undefined) throw new OAuthError("request_body_too_large");
    return bytes;
  }
  const length = Number(declared);
  if (!(length <= maxBytes)) throw new OAuthError("request_body_too_large");
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength !== length) throw new OAuthError("request_body_length_mismatch");
  return bytes;
}
