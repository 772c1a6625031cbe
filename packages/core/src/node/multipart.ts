/**
 * `multipart/form-data` bodies, with files, via @fastify/busboy: Node-only (Node's streams, file
 * system and `crypto`; Bun and Deno load it too). form.ts loads it on the first multipart body,
 * through `#carafe-node/multipart`, which bundlers for fetch runtimes resolve to
 * node-unavailable.ts. A file is held in memory up to `maxFileMemoryBytes`; a bigger one is spooled
 * to a temporary file (see {@link UploadedFile.path}), which {@link FormData.cleanup} deletes.
 */
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import { createReadStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { DEFAULT_FILE_MEMORY_BYTES, Form, FormError, type FormData, type FormLimits, type UploadedFile } from '../form-data.js';

const tooLarge = (limits: FormLimits) => new FormError(413, `The form body exceeds ${limits.maxBytes} bytes`);
const malformed = (error: unknown) =>
  new FormError(400, `Malformed multipart/form-data: ${(error as Error)?.message ?? String(error)}`, { cause: error });

/**
 * Parses a `multipart/form-data` body (`contentType` carries its boundary). Throws {@link FormError};
 * stops reading at the first violated limit, and then (or if reading the input fails) deletes the
 * temporary files it made.
 */
export async function parseMultipart(input: AsyncIterable<Uint8Array>, contentType: string, limits: FormLimits): Promise<FormData> {
  const maxFileBytes = Math.min(limits.maxFileBytes ?? limits.maxBytes, limits.maxBytes);
  const maxMemory = limits.maxFileMemoryBytes ?? DEFAULT_FILE_MEMORY_BYTES;
  let parser: BusboyInstance;
  try {
    parser = Busboy({
      headers: { 'content-type': contentType },
      defCharset: 'utf8',
      // As busboy 1 and RFC 7578 have it: a part is a file when it is application/octet-stream or has a
      // file name; `filename=""` alone (what some clients send for no file) leaves it a field.
      isPartAFile: (_name, type, filename) => type === 'application/octet-stream' || (filename !== undefined && filename !== ''),
      // @fastify/busboy flags a part once it *exceeds* a size limit: the limits are inclusive.
      limits: { fileSize: maxFileBytes, fieldSize: limits.maxBytes, files: limits.maxFiles, fields: limits.maxFields },
    });
  } catch (error) {
    throw malformed(error);
  }

  const spool = new Spool();
  const form = new Form(() => spool.remove());
  const streams: BusboyFileStream[] = [];
  const receiving: Promise<UploadedFile | undefined>[] = [];
  let failed = false;
  let failure: unknown;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    failure = error;
  };

  parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
    if (valueTruncated) fail(tooLarge(limits));
    else form.addField(name, value);
  });
  parser.on('file', (fieldName, stream, filename, _encoding, mimeType) => {
    streams.push(stream);
    stream.on('limit', () => fail(new FormError(413, `File ${JSON.stringify(filename ?? '')} exceeds ${maxFileBytes} bytes`)));
    stream.on('error', () => {}); // reported through the parser's own 'error', which comes first
    const file = receiveFile(stream, fieldName, filename ?? '', mimeType, maxMemory, spool);
    file.catch(fail); // a stream error lost to the parser's 400; a disk error fails the request (500)
    receiving.push(file);
  });
  parser.on('filesLimit', () => fail(new FormError(413, `The form has more than ${limits.maxFiles} files`)));
  parser.on('fieldsLimit', () => fail(new FormError(413, `The form has more than ${limits.maxFields} fields`)));
  parser.on('error', (error) => fail(malformed(error)));
  onPartHeader(parser, (header) => {
    // @fastify/busboy skips a part whose header does not parse (or has no Content-Disposition);
    // busboy 1 refused it, and RFC 7578 requires the header.
    if (!header['content-disposition']?.length) fail(malformed(new Error('Malformed part header')));
  });
  const ended = new Promise<void>((resolve) => {
    parser.once('finish', resolve);
    parser.once('error', () => resolve());
  });

  try {
    let total = 0;
    for await (const chunk of input) {
      total += chunk.byteLength;
      if (total > limits.maxBytes) fail(tooLarge(limits));
      if (failed) break;
      // A parser error may leave the write pending for ever; `ended` settles then.
      if (!parser.write(chunk)) await Promise.race([once(parser, 'drain').catch(() => {}), ended]);
      if (failed) break;
    }
    if (!failed) {
      parser.end();
      await ended;
    }
  } catch (error) {
    fail(error); // reading the input failed (the client went away, a server limit)
  }

  if (!failed) {
    // Every file part has ended; its last bytes may still be on their way to disk.
    for (const file of await Promise.allSettled(receiving)) {
      if (file.status === 'rejected') fail(file.reason);
      else if (file.value) form.files.push(file.value);
    }
  }
  if (failed) {
    parser.destroy();
    for (const stream of streams) stream.destroy();
    await Promise.allSettled(receiving);
    await spool.remove();
    throw failure;
  }
  return form;
}

/**
 * Calls `listener` with each part's parsed header. @fastify/busboy has no public event for it, so
 * this reaches its multipart parser's Dicer (`_parser.parser`); the malformed-header test guards it.
 */
function onPartHeader(parser: BusboyInstance, listener: (header: Record<string, string[] | undefined>) => void): void {
  const dicer = (parser as unknown as { _parser?: { parser?: EventEmitter } })._parser?.parser;
  dicer?.on('part', (part: EventEmitter) => part.on('header', listener));
}

/** Reads one file part: into memory up to `maxMemory` bytes, past that into a temporary file. */
async function receiveFile(
  stream: BusboyFileStream,
  fieldName: string,
  filename: string,
  mimeType: string,
  maxMemory: number,
  spool: Spool,
): Promise<UploadedFile | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let out: SpoolFile | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (out) {
        await out.write(chunk);
      } else if (size > maxMemory) {
        out = await spool.create();
        for (const held of chunks) await out.write(held);
        chunks.length = 0;
        await out.write(chunk);
      } else {
        chunks.push(chunk);
      }
    }
    if (stream.truncated) {
      await out?.destroy();
      return undefined; // over maxFileBytes: the 'limit' listener failed the form
    }
    const type = mimeType || 'application/octet-stream';
    if (out) {
      await out.close();
      return spooledFile(fieldName, filename, type, size, out.path);
    }
    return memoryFile(fieldName, filename, type, Buffer.concat(chunks, size));
  } catch (error) {
    await out?.destroy();
    throw error;
  }
}

function memoryFile(fieldName: string, filename: string, contentType: string, content: Buffer): UploadedFile {
  return {
    fieldName,
    filename,
    contentType,
    size: content.length,
    path: undefined,
    bytes: () => new Uint8Array(content.buffer, content.byteOffset, content.length),
    text: () => content.toString('utf8'),
    stream: () => Readable.from([content], { objectMode: false }),
  };
}

function spooledFile(fieldName: string, filename: string, contentType: string, size: number, path: string): UploadedFile {
  return {
    fieldName,
    filename,
    contentType,
    size,
    path,
    bytes: () => {
      const content = readFileSync(path);
      return new Uint8Array(content.buffer, content.byteOffset, content.length);
    },
    text: () => readFileSync(path, 'utf8'),
    stream: () => createReadStream(path),
  };
}

/**
 * The temporary files of one form, in a private directory (`fs.mkdtemp`, mode 0700) made on first
 * use under `os.tmpdir()`; each file has a random name and mode 0600.
 */
class Spool {
  #dir: Promise<string> | undefined;

  async create(): Promise<SpoolFile> {
    this.#dir ??= mkdtemp(join(tmpdir(), 'carafe-upload-'));
    const dir = await this.#dir;
    const path = join(dir, randomBytes(16).toString('hex'));
    const handle = await open(path, 'wx', 0o600);
    return new SpoolFile(path, handle.createWriteStream({ highWaterMark: 64 * 1024 }));
  }

  /** Deletes the directory and every file in it; later calls do nothing. */
  async remove(): Promise<void> {
    const dir = this.#dir;
    if (!dir) return;
    this.#dir = undefined;
    const path = await dir.catch(() => undefined);
    if (path) await rm(path, { recursive: true, force: true });
  }
}

/** A temporary file being written. */
class SpoolFile {
  constructor(
    readonly path: string,
    private readonly out: WriteStream,
  ) {
    out.on('error', () => {}); // reported by write() and close()
  }

  async write(chunk: Buffer): Promise<void> {
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await finished(this.out);
  }

  /** Stops writing and closes the file (which the spool's removal deletes). */
  async destroy(): Promise<void> {
    this.out.destroy();
    await finished(this.out).catch(() => {});
  }
}
