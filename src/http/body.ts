import { OAuthError } from "../errors/oauth-error";

/**
 * Reads a body stream, refusing to hold more than `maxBytes`: resolves undefined (and cancels the
 * stream) as soon as it grows past the bound. The bounded reader for streams of unknown length: the
 * documents we fetch (client jwks_uri, sector_identifier_uri) and request bodies sent without a
 * Content-Length (see readRequestBody).
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
 * above the bound is refused before anything is read. A body with a Content-Length the bound
 * allows is read in one call: the runtime frames the body by that length, so it cannot hold more
 * (checked again after reading); a body without one (chunked) is read as a stream and cut off at
 * the bound.
 */
export async function readRequestBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const header = request.headers.get("content-length");
  const declared = header === null ? undefined : Number(header);
  if (declared !== undefined && declared > maxBytes) throw new OAuthError("request_body_too_large");
  if (declared !== undefined && Number.isInteger(declared) && declared >= 0 && request.body) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw new OAuthError("request_body_too_large");
    return bytes;
  }
  const bytes = await readBounded(request.body, maxBytes);
  if (bytes === undefined) throw new OAuthError("request_body_too_large");
  return bytes;
}
