import { OAuthError } from "../errors/oauth-error";

/**
 * Reads a body stream, refusing to hold more than `maxBytes`: resolves undefined (and cancels the
 * stream) as soon as it grows past the bound. The one bounded reader: request bodies (through
 * readRequestBody) and the documents we fetch (client jwks_uri, sector_identifier_uri).
 */
export async function readBounded(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
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
 * A request body, at most `maxBytes` (`request_body_too_large` beyond). A declared Content-Length
 * above the bound is refused before anything is read; then the body is read as a stream and cut
 * off at the bound, whatever it declared (a Request made in-process, by a service binding say, need
 * not be framed by its Content-Length).
 */
export async function readRequestBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) throw new OAuthError("request_body_too_large");
  const bytes = await readBounded(request.body, maxBytes);
  if (bytes === undefined) throw new OAuthError("request_body_too_large");
  return bytes;
}
