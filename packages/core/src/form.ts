/**
 * Form bodies: `application/x-www-form-urlencoded`, parsed here on every runtime, and
 * `multipart/form-data` (with files), parsed by the module `#carafe-node/multipart` loaded on the
 * first multipart body: node/multipart.ts on Node, Bun and Deno (streamed through @fastify/busboy;
 * uploads over `maxFileMemoryBytes` are spooled to temporary files), web-multipart.ts in a fetch
 * runtime bundle (workerd: the platform's own parser, files in memory). Every limit is checked
 * while reading.
 */
import { decodeUtf8Exact } from './bytes.js';
import { Form, FormError, type FormData, type FormLimits, readFormBody } from './form-data.js';

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
  const body = await readFormBody(input, limits);
  const form = new Form();
  let count = 0;
  for (const [name, value] of new URLSearchParams(decodeUtf8Exact(body))) {
    if (++count > (limits.maxFields ?? Infinity)) throw new FormError(413, `The form has more than ${limits.maxFields} fields`);
    form.addField(name, value);
  }
  return form;
}
