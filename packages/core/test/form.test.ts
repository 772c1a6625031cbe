import { describe, expect, it } from 'vitest';
import { FormError, parseForm as parseAnyForm, type FormLimits } from '../src/form.js';
import { parseMultipart as parseWebMultipart } from '../src/web-multipart.js';

const BOUNDARY = '----carafe-test-boundary';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const limits: FormLimits = { maxBytes: 1024 * 1024 };

type Part =
  | { name: string; value: string }
  | { name: string; filename: string; type?: string; content: Uint8Array | string; rawDisposition?: string };

/** A real multipart/form-data body, as a browser would send it. */
function multipart(parts: Part[], { close = true } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n`));
    if ('value' in part) {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      const disposition = part.rawDisposition ?? `form-data; name="${part.name}"; filename="${part.filename}"`;
      chunks.push(Buffer.from(`Content-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`));
      chunks.push(Buffer.from(part.content));
      chunks.push(Buffer.from('\r\n'));
    }
  }
  if (close) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** Streams bytes in small chunks and records how far the consumer read. */
function source(body: Buffer | string, chunkSize = 7) {
  const bytes = Buffer.from(body);
  const stats = { chunksRead: 0, finished: false, total: Math.ceil(bytes.length / chunkSize) };
  async function* generate() {
    try {
      for (let i = 0; i < bytes.length; i += chunkSize) {
        stats.chunksRead++;
        yield new Uint8Array(bytes.subarray(i, i + chunkSize));
      }
    } finally {
      stats.finished = true;
    }
  }
  return { input: generate(), stats };
}

async function formError(promise: Promise<unknown>): Promise<FormError> {
  const error = await promise.then(
    () => {
      throw new Error('expected parseForm to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FormError);
  return error as FormError;
}

describe('parseForm: content types', () => {
  it('refuses other media types with 415', async () => {
    for (const type of ['application/json', 'text/plain', '', 'multipart/mixed; boundary=x']) {
      const error = await formError(parseAnyForm(source('a=1').input, type, limits));
      expect(error.status).toBe(415);
    }
  });

  it('accepts media types case-insensitively and with parameters', async () => {
    const form = await parseAnyForm(source('a=1').input, 'Application/X-WWW-Form-Urlencoded; charset=UTF-8', limits);
    expect(form.get('a')).toBe('1');
  });
});

describe('parseForm: urlencoded', () => {
  const type = 'application/x-www-form-urlencoded';

  it('parses fields, repeated names, "+" and percent escapes', async () => {
    const form = await parseAnyForm(source('name=J%C3%BCrgen+K&tag=a&tag=b&empty=&flag').input, type, limits);
    expect(form.fields).toEqual({ name: ['Jürgen K'], tag: ['a', 'b'], empty: [''], flag: [''] });
    expect(form.get('tag')).toBe('a');
    expect(form.getAll('tag')).toEqual(['a', 'b']);
    expect(form.get('missing')).toBeUndefined();
    expect(form.getAll('missing')).toEqual([]);
    expect(form.files).toEqual([]);
  });

  it('parses an empty body', async () => {
    const form = await parseAnyForm(source('').input, type, limits);
    expect(form.fields).toEqual({});
  });

  it('stops reading past maxBytes with 413', async () => {
    const { input, stats } = source('x='.padEnd(10_000, 'y'), 100);
    const error = await formError(parseAnyForm(input, type, { maxBytes: 500 }));
    expect(error.status).toBe(413);
    expect(stats.chunksRead).toBe(6);
    expect(stats.finished).toBe(true);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const form = await parseAnyForm(source('a=12345').input, type, { maxBytes: 7 });
    expect(form.get('a')).toBe('12345');
  });

  it('enforces maxFields with 413', async () => {
    await expect(parseAnyForm(source('a=1&b=2').input, type, { maxBytes: 100, maxFields: 2 })).resolves.toBeTruthy();
    const error = await formError(parseAnyForm(source('a=1&b=2&c=3').input, type, { maxBytes: 100, maxFields: 2 }));
    expect(error.status).toBe(413);
  });
});

// The same cases for both multipart parsers: busboy's, streamed (Node, Bun, Deno), and the one a
// fetch runtime bundle (workerd) resolves `#carafe-node/multipart` to, on `Response.formData()`.
describe.each([
  { parser: 'node/multipart.ts', parseForm: parseAnyForm, streams: true },
  {
    parser: 'web-multipart.ts',
    parseForm: (input: AsyncIterable<Uint8Array>, contentType: string, limits: FormLimits) =>
      contentType.startsWith('multipart/form-data')
        ? parseWebMultipart(input, contentType, limits)
        : parseAnyForm(input, contentType, limits),
    streams: false,
  },
])('parseForm: multipart ($parser)', ({ parseForm, streams }) => {
  const binary = Uint8Array.from({ length: 256 }, (_, i) => i);

  it('parses fields and files, keeping binary content intact', async () => {
    const body = multipart([
      { name: 'title', value: 'Holiday' },
      { name: 'tag', value: 'a' },
      { name: 'tag', value: 'b' },
      { name: 'photo', filename: 'beach.bin', type: 'application/x-custom', content: binary },
      { name: 'notes', filename: 'notes.txt', type: 'text/plain', content: 'hello\r\n--not-a-boundary\r\nünïcode' },
    ]);
    const form = await parseForm(source(body, 13).input, MULTIPART, limits);
    expect(form.fields).toEqual({ title: ['Holiday'], tag: ['a', 'b'] });
    expect(form.files).toHaveLength(2);
    const [photo, notes] = form.files;
    expect(photo).toMatchObject({ fieldName: 'photo', filename: 'beach.bin', contentType: 'application/x-custom', size: 256 });
    expect(photo!.bytes()).toEqual(binary);
    expect(notes!.text()).toBe('hello\r\n--not-a-boundary\r\nünïcode');
    expect(form.file('notes')).toBe(notes);
    expect(form.file('missing')).toBeUndefined();
  });

  it('reads UTF-8 file names, and files without a Content-Type', async () => {
    const body = multipart([
      { name: 'a', filename: 'résumé.pdf', content: 'x' },
      { name: 'c', filename: '', type: 'application/octet-stream', content: '' },
      { name: 'd', filename: 'C:\\Users\\ann\\secret.txt', content: 'z' },
    ]);
    const form = await parseForm(source(body).input, MULTIPART, limits);
    expect(form.files.map((f) => [f.fieldName, f.filename, f.size])).toEqual([
      ['a', 'résumé.pdf', 1],
      ['c', '', 0],
      ['d', 'secret.txt', 1],
    ]);
    expect(form.files[0]!.contentType).toBe('text/plain');
  });

  // RFC 7578 §4.2 says senders must not use `filename*`; busboy reads it, and what a platform's own
  // parser does with it varies (Node 22's refuses the whole body, Node 24's reads it), so only the
  // streamed parser promises it.
  if (streams) {
    it('reads an RFC 5987 file name (filename*)', async () => {
      const body = multipart([
        { name: 'b', filename: '', rawDisposition: `form-data; name="b"; filename*=UTF-8''%E2%82%AC.txt`, content: 'y' },
      ]);
      const form = await parseForm(source(body).input, MULTIPART, limits);
      expect(form.files.map((f) => [f.fieldName, f.filename, f.size])).toEqual([['b', '€.txt', 1]]);
    });
  }

  it('handles a large file sent in small chunks (backpressure)', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'abcdefgh');
    const form = await parseForm(source(multipart([{ name: 'f', filename: 'big', content: big }]), 4096).input, MULTIPART, {
      maxBytes: 3 * 1024 * 1024,
    });
    expect(form.files[0]!.size).toBe(big.length);
    expect(Buffer.from(form.files[0]!.bytes()).equals(big)).toBe(true);
    expect(form.files[0]!.path === undefined).toBe(!streams); // over 1 MiB, busboy's file was spooled to disk (see form-spool.test.ts)
    await form.cleanup();
  });

  it('parses a form with no parts', async () => {
    const form = await parseForm(source(`--${BOUNDARY}--\r\n`).input, MULTIPART, limits);
    expect(form.fields).toEqual({});
    expect(form.files).toEqual([]);
  });

  it('refuses a missing boundary with 400', async () => {
    const error = await formError(parseForm(source('whatever').input, 'multipart/form-data', limits));
    expect(error.status).toBe(400);
  });

  it('refuses a truncated body with 400', async () => {
    const body = multipart([{ name: 'f', filename: 'a.txt', content: 'partial content' }], { close: false });
    const error = await formError(parseForm(source(body.subarray(0, body.length - 5)).input, MULTIPART, limits));
    expect(error.status).toBe(400);
  });

  it('refuses a malformed part header with 400', async () => {
    const body = `--${BOUNDARY}\r\nThis is not a header\r\n\r\nvalue\r\n--${BOUNDARY}--\r\n`;
    const error = await formError(parseForm(source(body).input, MULTIPART, limits));
    expect(error.status).toBe(400);
  });

  it('stops reading past maxBytes with 413', async () => {
    const body = multipart([{ name: 'f', filename: 'big', content: Buffer.alloc(100_000, 1) }]);
    const { input, stats } = source(body, 1000);
    const error = await formError(parseForm(input, MULTIPART, { maxBytes: 10_000 }));
    expect(error.status).toBe(413);
    expect(stats.chunksRead).toBe(11);
    expect(stats.finished).toBe(true);
  });

  it('enforces maxFileBytes with 413 and stops reading', async () => {
    const body = multipart([
      { name: 'f', filename: 'big', content: Buffer.alloc(50_000, 1) },
      { name: 'after', value: 'x' },
    ]);
    const { input, stats } = source(body, 1000);
    const error = await formError(parseForm(input, MULTIPART, { maxBytes: 1_000_000, maxFileBytes: 5_000 }));
    expect(error.status).toBe(413);
    expect(error.message).toMatch(/big/);
    // busboy stops at the file; the platform parser has the whole body (bounded by maxBytes) first.
    if (streams) expect(stats.chunksRead).toBeLessThan(stats.total);
    else expect(stats.chunksRead).toBe(stats.total);
    // A file of exactly the limit is fine.
    const exact = multipart([{ name: 'f', filename: 'ok', content: Buffer.alloc(5_000, 1) }]);
    const form = await parseForm(source(exact, 1000).input, MULTIPART, { maxBytes: 1_000_000, maxFileBytes: 5_000 });
    expect(form.files[0]!.size).toBe(5_000);
  });

  it('enforces maxFiles with 413', async () => {
    const files = [1, 2, 3].map((i) => ({ name: `f${i}`, filename: `${i}.txt`, content: 'x' }));
    await expect(parseForm(source(multipart(files.slice(0, 2))).input, MULTIPART, { ...limits, maxFiles: 2 })).resolves.toBeTruthy();
    const error = await formError(parseForm(source(multipart(files)).input, MULTIPART, { ...limits, maxFiles: 2 }));
    expect(error.status).toBe(413);
  });

  it('enforces maxFields with 413', async () => {
    const fields = [1, 2, 3].map((i) => ({ name: `v${i}`, value: String(i) }));
    await expect(parseForm(source(multipart(fields.slice(0, 2))).input, MULTIPART, { ...limits, maxFields: 2 })).resolves.toBeTruthy();
    const error = await formError(parseForm(source(multipart(fields)).input, MULTIPART, { ...limits, maxFields: 2 }));
    expect(error.status).toBe(413);
  });
});

describe('parseForm: errors', () => {
  it('is a FormError with a name and message', async () => {
    const error = await formError(parseAnyForm(source('').input, 'text/csv', limits));
    expect(error.name).toBe('FormError');
    expect(error.message).toMatch(/text\/csv/);
    expect(error).toBeInstanceOf(Error);
  });
});
