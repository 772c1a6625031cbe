/**
 * What a parsed form is — {@link FormData}, {@link UploadedFile}, {@link FormLimits},
 * {@link FormError}, reading a whole body — shared by the parsers: form.ts (urlencoded, on every runtime) and
 * node/multipart.ts (multipart/form-data, Node-only). No runtime dependency.
 */
import type { Readable } from 'node:stream';
import { concatBytes } from './bytes.js';

/**
 * An uploaded file: in memory, or spooled to a temporary file when larger than `maxFileMemoryBytes`.
 * A temporary file is deleted when the request is finished (or by {@link FormData.cleanup}); move or
 * copy it (`fs.rename(file.path, …)`) to keep it.
 */
export interface UploadedFile {
  /** Name of the form field. */
  fieldName: string;
  /**
   * File name the client sent, without directories. Empty for a browser's empty file input
   * (`filename=""` with `application/octet-stream`); a part with `filename=""` and no Content-Type is a field.
   * Never use it as a path as is.
   */
  filename: string;
  /** The part's Content-Type (`text/plain` when the client sent none, as RFC 7578 says). */
  contentType: string;
  size: number;
  /**
   * The temporary file holding the content (mode 0600, in a private directory under `os.tmpdir()`),
   * or `undefined` when the content is in memory.
   */
  readonly path: string | undefined;
  /** The content; read synchronously from disk when spooled (prefer {@link stream} for big files). */
  bytes(): Uint8Array;
  /** The content decoded as UTF-8 (read synchronously from disk when spooled). */
  text(): string;
  /**
   * The content as a stream of bytes: a Node `Readable` (an async iterable of `Buffer`s); in a
   * fetch runtime bundle (workerd), where there is no `node:stream`, a web `ReadableStream`, which
   * is an async iterable of bytes too — iterate it with `for await` to stay portable.
   */
  stream(): Readable;
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
  /**
   * Deletes the temporary files of spooled uploads (idempotent). `req.form()` calls it when the
   * request is finished; whoever calls {@link parseForm} directly calls it when done with the files.
   */
  cleanup(): Promise<void>;
}

/** Limits of {@link parseForm}; the optional counts are unlimited when omitted. */
export interface FormLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Largest single file, in bytes (default `maxBytes`). */
  maxFileBytes?: number;
  maxFiles?: number;
  maxFields?: number;
  /**
   * Largest file kept in memory, in bytes (default 1 MiB); a bigger file is spooled to a temporary
   * file. `0` spools every non-empty file; `Infinity` never spools.
   */
  maxFileMemoryBytes?: number;
}

/** Default of {@link FormLimits.maxFileMemoryBytes}. */
export const DEFAULT_FILE_MEMORY_BYTES = 1024 * 1024;

/** Why a form was refused: `status` 400 (malformed), 413 (over a limit) or 415 (not a form). */
export class FormError extends Error {
  readonly status: 400 | 413 | 415;
  constructor(status: 400 | 413 | 415, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FormError';
    this.status = status;
  }
}

/** Reads a whole form body, refusing it (413) as soon as it passes `limits.maxBytes`. */
export async function readFormBody(input: AsyncIterable<Uint8Array>, limits: FormLimits): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of input) {
    total += chunk.byteLength;
    if (total > limits.maxBytes) throw new FormError(413, `The form body exceeds ${limits.maxBytes} bytes`);
    chunks.push(chunk);
  }
  return concatBytes(chunks, total);
}

/** A {@link FormData} being filled by a parser. */
export class Form implements FormData {
  readonly fields: Record<string, string[]> = Object.create(null);
  readonly files: UploadedFile[] = [];
  readonly #cleanup: (() => Promise<void>) | undefined;

  /** @param cleanup Deletes what the parser left on disk (the multipart parser's temporary files). */
  constructor(cleanup?: () => Promise<void>) {
    this.#cleanup = cleanup;
  }

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

  cleanup(): Promise<void> {
    return this.#cleanup ? this.#cleanup() : Promise.resolve();
  }
}
