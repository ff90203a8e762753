/**
 * Reads a web stream (a request or response body) into one Buffer with a hard byte bound: the bytes
 * actually read are counted, because a chunked body declares no length and a peer may send more
 * than it declared. Over the bound the stream is cancelled and `tooLarge()` is thrown.
 */
export async function readBoundedStream(stream: ReadableStream<Uint8Array> | null, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  if (stream === null) return Buffer.alloc(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
