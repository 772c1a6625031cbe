/**
 * Form bodies: `application/x-www-form-urlencoded`, parsed here on every runtime, and
 * `multipart/form-data` (with files, via @fastify/busboy), parsed by node/multipart.ts, which is
 * loaded on the first multipart body: it needs Node's streams and file system (uploads over
 * `maxFileMemoryBytes` are spooled to temporary files), so on a fetch runtime bundle (workerd) a
 * multipart body fails with an error saying so. The body is read as a stream and every limit is
 * checked while reading.
 */
import { concatBytes, decodeUtf8Exact } from './bytes.js';
import { Form, FormError, type FormData, type FormLimits } from './form-data.js';

export { DEFAULT_FILE_MEMORY_BYTES, FormError } from './form-data.js';
export type { FormData, FormLimits, UploadedFile } from './form-data.js';

/**
 * Parses a form body from a stream of bytes. `contentType` is the request's full Content-Type
 * (the multipart boundary is read from it). Throws {@link FormError}; stops reading at the first
 * violated limit, and then (or if reading the input fails) deletes the temporary files it made.
 */
export async function parseForm(input: AsyncIterable<Uint8Array>, contentType: string, limits: FormLimits): Promise<FormData> {
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded') return parseUrlEncoded(input, limits);
  if (mediaType === 'multipart/form-data') return (await import('#carafe-node/multipart')).parseMultipart(input, contentType, limits);
  throw new FormError(
    415,
    `Expected a form (application/x-www-form-urlencoded or multipart/form-data), got ${mediaType || 'no media type'}`,
  );
}

async function parseUrlEncoded(input: AsyncIterable<Uint8Array>, limits: FormLimits): Promise<FormData> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of input) {
    total += chunk.byteLength;
    if (total > limits.maxBytes) throw new FormError(413, `The form body exceeds ${limits.maxBytes} bytes`);
    chunks.push(chunk);
  }
  const form = new Form();
  let count = 0;
  for (const [name, value] of new URLSearchParams(decodeUtf8Exact(concatBytes(chunks, total)))) {
    if (++count > (limits.maxFields ?? Infinity)) throw new FormError(413, `The form has more than ${limits.maxFields} fields`);
    form.addField(name, value);
  }
  return form;
}
