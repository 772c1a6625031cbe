/**
 * `multipart/form-data` bodies on a fetch runtime bundle (workerd, workers, browsers), where
 * node/multipart.ts (busboy, temporary files) cannot load: `#carafe-node/multipart` resolves here
 * under the `workerd`, `worker` and `browser` conditions. The body is read up to `maxBytes` and
 * handed to the platform's own multipart parser (`Response.prototype.formData()`, the fetch
 * standard's), so uploads are held in memory — which a fetch runtime's request size limit bounds
 * anyway. The same limits and the same RFC 7578 rules as on Node apply after parsing.
 */
import { Form, FormError, type FormData, type FormLimits, readFormBody, type UploadedFile } from './form-data.js';

/** See node/multipart.ts: the same contract, with every file in memory. */
export async function parseMultipart(input: AsyncIterable<Uint8Array>, contentType: string, limits: FormLimits): Promise<FormData> {
  const body = await readFormBody(input, limits);
  let parts: globalThis.FormData;
  try {
    parts = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new FormError(400, `Malformed multipart/form-data: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }

  const maxFileBytes = Math.min(limits.maxFileBytes ?? limits.maxBytes, limits.maxBytes);
  const form = new Form();
  let fields = 0;
  for (const [name, value] of parts) {
    // As on Node (RFC 7578): a part with `filename=""` and no type of its own is a field.
    if (typeof value === 'string' || (value.name === '' && value.type === '')) {
      if (++fields > (limits.maxFields ?? Infinity)) throw new FormError(413, `The form has more than ${limits.maxFields} fields`);
      form.addField(name, typeof value === 'string' ? value : await value.text());
      continue;
    }
    if (form.files.length + 1 > (limits.maxFiles ?? Infinity)) throw new FormError(413, `The form has more than ${limits.maxFiles} files`);
    if (value.size > maxFileBytes) throw new FormError(413, `File ${JSON.stringify(value.name)} exceeds ${maxFileBytes} bytes`);
    // As busboy does: no directories in the name, and RFC 7578's text/plain for a part without a type.
    const filename = value.name.slice(Math.max(value.name.lastIndexOf('/'), value.name.lastIndexOf('\\')) + 1);
    form.files.push(memoryFile(name, filename, value.type || 'text/plain', new Uint8Array(await value.arrayBuffer())));
  }
  return form;
}

function memoryFile(fieldName: string, filename: string, contentType: string, content: Uint8Array): UploadedFile {
  return {
    fieldName,
    filename,
    contentType,
    size: content.byteLength,
    path: undefined,
    bytes: () => content,
    text: () => new TextDecoder().decode(content),
    // A web ReadableStream here (async iterable of bytes, like the Node Readable it stands for).
    stream: () => new Blob([content as Uint8Array<ArrayBuffer>]).stream() as unknown as ReturnType<UploadedFile['stream']>,
  };
}
