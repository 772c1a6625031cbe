/**
 * Spooling big uploads to temporary files, and deleting them: after the request (req.form()), when
 * parsing fails, or on FormData.cleanup() (parseForm). TMPDIR points at a private directory, so that
 * "no temporary file left" can be checked without other test files in the way.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientDisconnected } from '@carafe/gateway';
import { Carafe, Response } from '@carafe/core';
import { FormError, parseForm, type FormData, type UploadedFile } from '../src/form.js';
import { call, client, makeEnviron, memoryErrors } from './helpers.js';

const BOUNDARY = '----carafe-spool-boundary';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const MiB = 1024 * 1024;

type Part = { name: string; value: string } | { name: string; filename: string; type?: string; content: Uint8Array | string };

function multipart(parts: Part[], { close = true } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n`));
    if ('value' in part) {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `Content-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\n` +
            `Content-Type: ${part.type ?? 'application/octet-stream'}\r\n\r\n`,
        ),
      );
      chunks.push(Buffer.from(part.content), Buffer.from('\r\n'));
    }
  }
  if (close) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

async function* chunks(body: Buffer, size = 64 * 1024, { thenThrow }: { thenThrow?: Error } = {}): AsyncIterable<Uint8Array> {
  for (let i = 0; i < body.length; i += size) yield new Uint8Array(body.subarray(i, i + size));
  if (thenThrow) throw thenThrow;
}

/** 3 MiB that are not all the same byte, so that misplaced chunks show. */
const big = Buffer.alloc(3 * MiB);
for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);

async function collect(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

let tmp: string;
const saved = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'carafe-spool-test-'));
  process.env.TMPDIR = process.env.TMP = process.env.TEMP = tmp;
  expect(tmpdir()).toBe(tmp);
});
afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(tmp, { recursive: true, force: true });
});
/** Every test leaves the temporary directory empty. */
afterEach(() => {
  expect(readdirSync(tmp)).toEqual([]);
});

describe('parseForm: spooling', () => {
  it('spools a file over the threshold to a private temporary file, and cleanup() deletes it', async () => {
    const body = multipart([
      { name: 'title', value: 'big one' },
      { name: 'f', filename: 'big.bin', content: big },
    ]);
    const form = await parseForm(chunks(body), MULTIPART, { maxBytes: 4 * MiB });
    const file = form.file('f')!;
    expect(form.get('title')).toBe('big one');
    expect(file).toMatchObject({ fieldName: 'f', filename: 'big.bin', contentType: 'application/octet-stream', size: big.length });
    expect(file.path).toBeTypeOf('string');
    expect(dirname(dirname(file.path!))).toBe(tmp);
    expect(file.path).not.toContain('big.bin');
    if (process.platform !== 'win32') {
      expect(statSync(file.path!).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(file.path!)).mode & 0o777).toBe(0o700);
    }
    expect(statSync(file.path!).size).toBe(big.length);
    expect(Buffer.from(file.bytes()).equals(big)).toBe(true);
    expect((await collect(file.stream())).equals(big)).toBe(true);
    expect((await readFile(file.path!)).equals(big)).toBe(true);

    await form.cleanup();
    expect(existsSync(file.path!)).toBe(false);
    await form.cleanup(); // idempotent
  });

  it('keeps a file of up to the threshold in memory', async () => {
    const content = Buffer.alloc(1000, 7);
    const limits = { maxBytes: 4 * MiB, maxFileMemoryBytes: 1000 };
    const form = await parseForm(chunks(multipart([{ name: 'f', filename: 'small.bin', content }]), 100), MULTIPART, limits);
    const file = form.file('f')!;
    expect(file.path).toBeUndefined();
    expect(Buffer.from(file.bytes()).equals(content)).toBe(true);
    expect((await collect(file.stream())).equals(content)).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
    await form.cleanup();

    const over = await parseForm(chunks(multipart([{ name: 'f', filename: 'b', content: Buffer.alloc(1001, 7) }]), 100), MULTIPART, limits);
    expect(over.file('f')!.path).toBeTypeOf('string');
    expect(over.file('f')!.size).toBe(1001);
    await over.cleanup();
  });

  it('takes the threshold from the limits: 0 spools every non-empty file, Infinity none', async () => {
    const body = multipart([
      { name: 'a', filename: 'a.txt', type: 'text/plain', content: 'tiny' },
      { name: 'empty', filename: 'e.txt', content: '' },
      { name: 'b', filename: 'b.bin', content: big },
    ]);
    const spooled = await parseForm(chunks(body), MULTIPART, { maxBytes: 4 * MiB, maxFileMemoryBytes: 0 });
    expect(spooled.files.map((f) => [f.fieldName, typeof f.path])).toEqual([
      ['a', 'string'],
      ['empty', 'undefined'],
      ['b', 'string'],
    ]);
    expect(spooled.file('a')!.text()).toBe('tiny');
    expect(new Set(spooled.files.map((f) => f.path)).size).toBe(3);
    await spooled.cleanup();

    const inMemory = await parseForm(chunks(body), MULTIPART, { maxBytes: 4 * MiB, maxFileMemoryBytes: Infinity });
    expect(inMemory.files.every((f) => f.path === undefined)).toBe(true);
    expect(Buffer.from(inMemory.file('b')!.bytes()).equals(big)).toBe(true);
  });

  it('leaves no temporary file when a spooled file goes over maxFileBytes', async () => {
    const body = multipart([{ name: 'f', filename: 'big.bin', content: big }]);
    const error = await rejection(
      parseForm(chunks(body), MULTIPART, { maxBytes: 4 * MiB, maxFileBytes: 2 * MiB, maxFileMemoryBytes: 1024 }),
    );
    expect(error).toBeInstanceOf(FormError);
    expect((error as FormError).status).toBe(413);
  });

  it('leaves no temporary file when a later limit or the body fails', async () => {
    const twoFiles = multipart([
      { name: 'a', filename: 'a', content: big },
      { name: 'b', filename: 'b', content: 'x' },
    ]);
    const files = await rejection(parseForm(chunks(twoFiles), MULTIPART, { maxBytes: 4 * MiB, maxFiles: 1 }));
    expect((files as FormError).status).toBe(413);

    const tooBig = await rejection(parseForm(chunks(twoFiles), MULTIPART, { maxBytes: 2 * MiB }));
    expect((tooBig as FormError).status).toBe(413);

    const body = multipart([{ name: 'f', filename: 'f', content: big }], { close: false });
    const truncated = await rejection(parseForm(chunks(body.subarray(0, 2 * MiB)), MULTIPART, { maxBytes: 4 * MiB }));
    expect((truncated as FormError).status).toBe(400);
  });

  it('leaves no temporary file when the client goes away mid-file, and passes the error on', async () => {
    const gone = new ClientDisconnected();
    const body = multipart([{ name: 'f', filename: 'f', content: big }]).subarray(0, 2 * MiB);
    expect(await rejection(parseForm(chunks(body, 64 * 1024, { thenThrow: gone }), MULTIPART, { maxBytes: 4 * MiB }))).toBe(gone);
  });
});

describe('req.form(): temporary files live as long as the request', () => {
  function post(body: Buffer, path = '/upload') {
    const errors = memoryErrors();
    const environ = makeEnviron({
      REQUEST_METHOD: 'POST',
      PATH_INFO: path,
      CONTENT_TYPE: MULTIPART,
      CONTENT_LENGTH: String(body.length),
      'tsgi.input': chunks(body),
      'tsgi.errors': errors,
    });
    return { environ, errors };
  }
  const upload = multipart([
    { name: 'note', value: 'hi' },
    { name: 'f', filename: 'big.bin', content: big },
  ]);

  it('deletes a spooled upload once the response is returned', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB });
    let seen: UploadedFile | undefined;
    app.post('/upload', async (req) => {
      const form = await req.form();
      seen = form.file('f')!;
      expect(existsSync(seen.path!)).toBe(true);
      const streamed = await collect(seen.stream());
      return { note: form.get('note'), size: seen.size, same: streamed.equals(big) && Buffer.from(seen.bytes()).equals(big) };
    });
    const { environ, errors } = post(upload);
    const res = await call(app, environ);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ note: 'hi', size: big.length, same: true });
    expect(seen!.path).toBeTypeOf('string');
    expect(existsSync(seen!.path!)).toBe(false);
    expect(errors.text()).toBe('');
  });

  it('deletes it over HTTP too, once the server has sent the response', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB });
    let path: string | undefined;
    app.post('/upload', async (req) => {
      const file = (await req.form()).file('f')!;
      path = file.path;
      return { exists: existsSync(path!), size: file.size };
    });
    const res = await client(app).post('/upload').attach('f', big, 'big.bin').expect(200);
    expect(res.body).toEqual({ exists: true, size: big.length });
    await vi.waitFor(() => expect(existsSync(path!)).toBe(false));
  });

  it('keeps a small upload in memory', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB });
    app.post('/upload', async (req) => {
      const file = (await req.form()).file('f')!;
      return { path: file.path ?? null, text: file.text() };
    });
    const res = await call(app, post(multipart([{ name: 'f', filename: 'a.txt', content: 'hello' }])).environ);
    expect(JSON.parse(res.text)).toEqual({ path: null, text: 'hello' });
  });

  it('takes the threshold from config.form.maxFileMemoryBytes', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB, form: { maxFileMemoryBytes: 4 * MiB } });
    app.post('/upload', async (req) => ({ path: (await req.form()).file('f')!.path ?? null }));
    const res = await call(app, post(upload).environ);
    expect(JSON.parse(res.text)).toEqual({ path: null });
  });

  it('waits for a streamed response body before deleting: the upload can be the response', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB });
    let path: string | undefined;
    app.post('/upload', async (req) => {
      const file = (await req.form()).file('f')!;
      path = file.path;
      return new Response(file.stream(), { headers: [['content-type', file.contentType]] });
    });
    const res = await app(post(upload).environ);
    expect(existsSync(path!)).toBe(true); // returned, but its body not yet sent
    expect((await collect(res.body as AsyncIterable<Uint8Array>)).equals(big)).toBe(true);
    expect(existsSync(path!)).toBe(false);
  });

  it('deletes when the server releases a body it will not send (return())', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB });
    let path: string | undefined;
    app.post('/upload', async (req) => {
      const file = (await req.form()).file('f')!;
      path = file.path;
      return new Response(file.stream());
    });
    const res = await app(post(upload).environ);
    const iterator = (res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return!();
    expect(existsSync(path!)).toBe(false);
  });

  it('keeps a file the handler moved away', async () => {
    const keep = mkdtempSync(join(tmp, 'kept-'));
    const app = new Carafe({ maxContentLength: 4 * MiB });
    app.post('/upload', async (req) => {
      const file = (await req.form()).file('f')!;
      await rename(file.path!, join(keep, 'upload.bin'));
      return 'ok';
    });
    const res = await call(app, post(upload).environ);
    expect(res.status).toBe(200);
    expect((await readFile(join(keep, 'upload.bin'))).equals(big)).toBe(true);
    expect(readdirSync(tmp)).toEqual([keep.slice(tmp.length + 1)]);
    rmSync(keep, { recursive: true });
  });

  it('deletes after a failing handler, through the error pipeline and hooks', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB });
    let form: FormData | undefined;
    let inTeardown: boolean | undefined;
    app.beforeRequest(async (req) => {
      form = await req.form();
    });
    app.teardownRequest(() => {
      inTeardown = existsSync(form!.file('f')!.path!);
    });
    app.post('/upload', () => {
      throw new Error('boom');
    });
    const { environ, errors } = post(upload);
    const res = await call(app, environ);
    expect(res.status).toBe(500);
    expect(errors.text()).toMatch(/boom/);
    expect(inTeardown).toBe(true);
    expect(existsSync(form!.file('f')!.path!)).toBe(false);
  });

  it('answers an upload over maxFileBytes with 413 and leaves nothing behind', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB, form: { maxFileBytes: 2 * MiB } });
    app.post('/upload', async (req) => (await req.form()).files.length);
    const res = await call(app, post(upload).environ);
    expect(res.status).toBe(413);
  });

  it('answers malformed multipart with 400 and leaves nothing behind', async () => {
    const app = new Carafe({ maxContentLength: 4 * MiB });
    app.post('/upload', async (req) => (await req.form()).files.length);
    const truncated = await call(app, post(upload.subarray(0, 2 * MiB)).environ);
    expect(truncated.status).toBe(400);
    expect(JSON.parse(truncated.text)).toMatchObject({ status: 400 });

    const badHeader = Buffer.concat([
      upload.subarray(0, upload.length - `--${BOUNDARY}--\r\n`.length),
      Buffer.from(`--${BOUNDARY}\r\nnot a header\r\n\r\nx\r\n--${BOUNDARY}--\r\n`),
    ]);
    expect((await call(app, post(badHeader).environ)).status).toBe(400);

    const noBoundary = post(Buffer.from('x'));
    noBoundary.environ.CONTENT_TYPE = 'multipart/form-data';
    expect((await call(app, noBoundary.environ)).status).toBe(400);
  });
});
