/**
 * Form bodies: `application/x-www-form-urlencoded` and `multipart/form-data` (with files, via busboy).
 * The body is read as a stream and every limit is checked while reading, so no more than
 * `maxBytes` is ever held in memory.
 */
import { once } from 'node:events';
import busboy from 'busboy';

/** An uploaded file, held in memory (its size is bounded by the form limits). */
export interface UploadedFile {
  /** Name of the form field. */
  fieldName: string;
  /**
   * File name the client sent, without directories. Empty for a browser's empty file input
   * (`filename=""` with `application/octet-stream`); a part with `filename=""` and no Content-Type is a field.
   */
  filename: string;
  /** The part's Content-Type (`text/plain` when the client sent none, as RFC 7578 says). */
  contentType: string;
  size: number;
  bytes(): Uint8Array;
  /** The content decoded as UTF-8. */
  text(): string;
}

/** A parsed form: text fields by name (in order) and the uploaded files. */
export interface FormData {
  fields: Record<string, string[]>;
  files: UploadedFile[];
  /** First value of a field. */
  get(name: string): string | undefined;
  /** All values of a field (empty if absent). */
  getAll(name: string): string[];
  /** First file uploaded under a field name. */
  file(name: string): UploadedFile | undefined;
}

/** Limits of {@link parseForm}; the optional counts are unlimited when omitted. */
export interface FormLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Largest single file, in bytes (default `maxBytes`). */
  maxFileBytes?: number;
  maxFiles?: number;
  maxFields?: number;
}

/** Why a form was refused: `status` 400 (malformed), 413 (over a limit) or 415 (not a form). */
export class FormError extends Error {
  readonly status: 400 | 413 | 415;
  constructor(status: 400 | 413 | 415, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FormError';
    this.status = status;
  }
}

/**
 * Parses a form body from a stream of bytes. `contentType` is the request's full Content-Type
 * (the multipart boundary is read from it). Throws {@link FormError}; stops reading at the first
 * violated limit.
 */
export async function parseForm(input: AsyncIterable<Uint8Array>, contentType: string, limits: FormLimits): Promise<FormData> {
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded') return parseUrlEncoded(input, limits);
  if (mediaType === 'multipart/form-data') return parseMultipart(input, contentType, limits);
  throw new FormError(415, `Expected a form (application/x-www-form-urlencoded or multipart/form-data), got ${mediaType || 'no media type'}`);
}

const tooLarge = (limits: FormLimits) => new FormError(413, `The form body exceeds ${limits.maxBytes} bytes`);

async function parseUrlEncoded(input: AsyncIterable<Uint8Array>, limits: FormLimits): Promise<FormData> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of input) {
    total += chunk.byteLength;
    if (total > limits.maxBytes) throw tooLarge(limits);
    chunks.push(chunk);
  }
  const form = new Form();
  let count = 0;
  for (const [name, value] of new URLSearchParams(Buffer.concat(chunks, total).toString('utf8'))) {
    if (++count > (limits.maxFields ?? Infinity)) throw new FormError(413, `The form has more than ${limits.maxFields} fields`);
    form.addField(name, value);
  }
  return form;
}

async function parseMultipart(input: AsyncIterable<Uint8Array>, contentType: string, limits: FormLimits): Promise<FormData> {
  const maxFileBytes = Math.min(limits.maxFileBytes ?? limits.maxBytes, limits.maxBytes);
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      defParamCharset: 'utf8',
      // busboy flags a part as truncated once it *reaches* the size limit, so allow one byte more.
      limits: { fileSize: maxFileBytes + 1, fieldSize: limits.maxBytes + 1, files: limits.maxFiles, fields: limits.maxFields },
    });
  } catch (error) {
    throw new FormError(400, `Malformed multipart/form-data: ${(error as Error).message}`, { cause: error });
  }

  const form = new Form();
  let failure: FormError | undefined;
  const fail = (error: FormError) => {
    failure ??= error;
  };
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated || info.nameTruncated) fail(tooLarge(limits));
    else form.addField(name, value);
  });
  parser.on('file', (fieldName, stream, info) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    stream.on('limit', () => fail(new FormError(413, `File ${JSON.stringify(info.filename)} exceeds ${maxFileBytes} bytes`)));
    stream.on('error', () => {}); // reported through the parser's own 'error'
    stream.on('end', () => {
      if (!stream.truncated) form.files.push(uploadedFile(fieldName, info.filename ?? '', info.mimeType, Buffer.concat(chunks, size)));
    });
  });
  parser.on('filesLimit', () => fail(new FormError(413, `The form has more than ${limits.maxFiles} files`)));
  parser.on('fieldsLimit', () => fail(new FormError(413, `The form has more than ${limits.maxFields} fields`)));
  parser.on('error', (error: Error) => fail(new FormError(400, `Malformed multipart/form-data: ${error.message}`, { cause: error })));
  const closed = once(parser, 'close').catch(() => {});

  try {
    let total = 0;
    for await (const chunk of input) {
      total += chunk.byteLength;
      if (total > limits.maxBytes) fail(tooLarge(limits));
      if (failure) break;
      // A parser error rejects `once(…, 'drain')`; `failure` already holds the FormError for it.
      if (!parser.write(chunk)) await Promise.race([once(parser, 'drain').catch(() => {}), closed]);
      if (failure) break;
    }
    if (!failure) {
      parser.end();
      await closed;
    }
  } finally {
    if (failure || !parser.writableFinished) parser.destroy();
  }
  if (failure) throw failure;
  return form;
}

function uploadedFile(fieldName: string, filename: string, contentType: string, content: Buffer): UploadedFile {
  return {
    fieldName,
    filename,
    contentType: contentType || 'application/octet-stream',
    size: content.length,
    bytes: () => new Uint8Array(content.buffer, content.byteOffset, content.length),
    text: () => content.toString('utf8'),
  };
}

class Form implements FormData {
  readonly fields: Record<string, string[]> = Object.create(null);
  readonly files: UploadedFile[] = [];

  addField(name: string, value: string): void {
    (this.fields[name] ??= []).push(value);
  }

  get(name: string): string | undefined {
    return this.fields[name]?.[0];
  }

  getAll(name: string): string[] {
    return this.fields[name] ?? [];
  }

  file(name: string): UploadedFile | undefined {
    return this.files.find((file) => file.fieldName === name);
  }
}
