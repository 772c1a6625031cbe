/**
 * UTF-8 and byte arrays on every runtime: Node's `Buffer` where the runtime has one (Node, Bun,
 * Deno), for its native speed on the hot path, and the web's `TextEncoder`/`TextDecoder` and the
 * gateway's `utf8Length` where it has not.
 */
import { utf8Length } from '@carafe/gateway';

/** Node's Buffer where there is one (the dispatcher's fast path measures text with it directly). */
export const NodeBuffer: typeof Buffer | undefined = typeof Buffer === 'function' ? Buffer : undefined;

/**
 * The number of bytes `text` takes as UTF-8. `Buffer.byteLength` is a native call, 5 to 10 times
 * faster than `utf8Length`'s loop on a kilobyte of JSON, so it is used where there is a `Buffer`.
 */
export const byteLength: (text: string) => number = NodeBuffer ? (text) => NodeBuffer.byteLength(text) : utf8Length;

// One of each, shared: constructing a TextDecoder costs about a microsecond, more than decoding a
// small body; `decode()` without `stream` keeps no state between calls.
const decoder = new TextDecoder();
const exactDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/** Decodes UTF-8 as `TextDecoder` does: a leading BOM dropped, malformed bytes replaced by U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Decodes UTF-8 keeping a leading BOM (as `Buffer#toString` does), malformed bytes replaced by U+FFFD. */
export function decodeUtf8Exact(bytes: Uint8Array): string {
  return exactDecoder.decode(bytes);
}

/** `text` as UTF-8 bytes (a lone surrogate as U+FFFD). */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The chunks joined into one array of `total` bytes (`Buffer.concat` where there is a `Buffer`). */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (NodeBuffer) return NodeBuffer.concat(chunks, total);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.byteLength;
  }
  return joined;
}
