import { mkdtemp, rm, unlink, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeaderList, ResponseBody } from '@carafe/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDisposition, FileError, fileResponse } from '../src/file.js';

const CONTENT = 'Hello, Carafe! 0123456789abcdefghijklmnopqrstuvwxyz';
const SIZE = Buffer.byteLength(CONTENT);
const MTIME = new Date('2024-03-04T05:06:07.890Z');
const LAST_MODIFIED = 'Mon, 04 Mar 2024 05:06:07 GMT';
const ETAG = `W/"${SIZE.toString(16)}-${MTIME.getTime().toString(16)}"`;

let dir: string;
let text: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'carafe-file-'));
  text = join(dir, 'hello.txt');
  await writeFile(text, CONTENT);
  await utimes(text, MTIME, MTIME);
  await writeFile(join(dir, 'empty.bin'), '');
  await writeFile(join(dir, 'IMAGE.PNG'), 'png');
  await writeFile(join(dir, 'data.unknownext'), 'x');
  await mkdir(join(dir, 'sub'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function request(method: string, headers: Record<string, string> = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, header: (name: string) => lower[name.toLowerCase()] };
}

function header(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

async function read(body: ResponseBody | null): Promise<string> {
  if (body === null) throw new Error('expected a body');
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

describe('fileResponse: full responses', () => {
  it('serves the file with validators and metadata', async () => {
    const res = await fileResponse(text, request('GET'));
    expect(res.status).toBe(200);
    expect(res.headers).toEqual([
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Accept-Ranges', 'bytes'],
      ['ETag', ETAG],
      ['Last-Modified', LAST_MODIFIED],
      ['Content-Length', String(SIZE)],
    ]);
    expect(await read(res.body)).toBe(CONTENT);
  });

  it('picks the Content-Type from the extension, or takes the given one', async () => {
    expect(header((await fileResponse(join(dir, 'IMAGE.PNG'), request('GET'))).headers, 'content-type')).toBe('image/png');
    expect(header((await fileResponse(join(dir, 'data.unknownext'), request('GET'))).headers, 'content-type')).toBe(
      'application/octet-stream',
    );
    const custom = await fileResponse(text, request('GET'), { contentType: 'text/x-custom' });
    expect(header(custom.headers, 'content-type')).toBe('text/x-custom');
  });

  it('sets Cache-Control from maxAge', async () => {
    expect(header((await fileResponse(text, request('GET'), { maxAge: 3600 })).headers, 'cache-control')).toBe('public, max-age=3600');
    expect(header((await fileResponse(text, request('GET'))).headers, 'cache-control')).toBeUndefined();
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await fileResponse(text, request('HEAD'));
    expect(res.status).toBe(200);
    expect(res.body).toBeNull();
    expect(header(res.headers, 'content-length')).toBe(String(SIZE));
  });

  it('serves an empty file', async () => {
    const res = await fileResponse(join(dir, 'empty.bin'), request('GET'));
    expect(res.status).toBe(200);
    expect(header(res.headers, 'content-length')).toBe('0');
  });

  it('can leave out the ETag and Last-Modified validators (and their conditionals)', async () => {
    const res = await fileResponse(text, request('GET', { 'If-None-Match': ETAG, 'If-Modified-Since': LAST_MODIFIED }), {
      etag: false,
      lastModified: false,
    });
    expect(res.status).toBe(200);
    expect(header(res.headers, 'etag')).toBeUndefined();
    expect(header(res.headers, 'last-modified')).toBeUndefined();
  });

  it('throws a 404 FileError for a missing path or a directory', async () => {
    for (const path of [join(dir, 'missing.txt'), join(dir, 'sub'), join(text, 'below-a-file')]) {
      const error = await fileResponse(path, request('GET')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FileError);
      expect((error as FileError).status).toBe(404);
    }
  });

  it('streams from disk in chunks, opening the file only when the body is read', async () => {
    const big = join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(300_000, 'z'));
    const res = await fileResponse(big, request('GET'));
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      expect(Buffer.isBuffer(chunk)).toBe(true);
      chunks++;
      bytes += chunk.length;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(bytes).toBe(300_000);

    const unread = await fileResponse(big, request('GET'));
    await unlink(big);
    await expect(read(unread.body)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('fileResponse: conditional requests', () => {
  it('answers a matching If-None-Match with 304 and the validators only', async () => {
    for (const value of [ETAG, `"other", ${ETAG}`, '*', ETAG.slice(2) /* strong spelling: weak comparison matches */]) {
      const res = await fileResponse(text, request('GET', { 'If-None-Match': value }), { maxAge: 60 });
      expect(res.status, value).toBe(304);
      expect(res.body).toBeNull();
      expect(res.headers).toEqual([
        ['ETag', ETAG],
        ['Last-Modified', LAST_MODIFIED],
        ['Cache-Control', 'public, max-age=60'],
      ]);
    }
    expect((await fileResponse(text, request('HEAD', { 'If-None-Match': ETAG }))).status).toBe(304);
  });

  it('serves the file when If-None-Match does not match', async () => {
    const res = await fileResponse(text, request('GET', { 'If-None-Match': 'W/"nope"' }));
    expect(res.status).toBe(200);
    expect(await read(res.body)).toBe(CONTENT);
  });

  it('lets If-None-Match win over If-Modified-Since', async () => {
    const res = await fileResponse(text, request('GET', { 'If-None-Match': 'W/"nope"', 'If-Modified-Since': LAST_MODIFIED }));
    expect(res.status).toBe(200);
  });

  it('answers If-Modified-Since at or after the modification time with 304', async () => {
    expect((await fileResponse(text, request('GET', { 'If-Modified-Since': LAST_MODIFIED }))).status).toBe(304);
    expect((await fileResponse(text, request('GET', { 'If-Modified-Since': 'Tue, 05 Mar 2024 00:00:00 GMT' }))).status).toBe(304);
    expect((await fileResponse(text, request('GET', { 'If-Modified-Since': 'Mon, 04 Mar 2024 05:06:06 GMT' }))).status).toBe(200);
    expect((await fileResponse(text, request('GET', { 'If-Modified-Since': 'not a date' }))).status).toBe(200);
  });

  it('answers a failed If-Match or If-Unmodified-Since with 412, as Werkzeug does', async () => {
    // If-Match compares strongly (RFC 9110 §13.1.1), so the weak ETag only passes `*`.
    for (const value of ['"other"', ETAG, ETAG.slice(2)]) {
      const res = await fileResponse(text, request('GET', { 'If-Match': value }));
      expect(res.status, value).toBe(412);
      expect(res.body).toBeNull();
    }
    expect((await fileResponse(text, request('GET', { 'If-Match': '*' }))).status).toBe(200);
    expect((await fileResponse(text, request('HEAD', { 'If-Unmodified-Since': 'Mon, 04 Mar 2024 05:06:06 GMT' }))).status).toBe(412);
    expect((await fileResponse(text, request('GET', { 'If-Unmodified-Since': LAST_MODIFIED }))).status).toBe(200);
    expect((await fileResponse(text, request('GET', { 'If-Unmodified-Since': 'not a date' }))).status).toBe(200);
  });

  it('checks If-Match and If-Unmodified-Since before If-None-Match and Range', async () => {
    expect((await fileResponse(text, request('GET', { 'If-Match': '"other"', 'If-None-Match': ETAG }))).status).toBe(412);
    expect(
      (await fileResponse(text, request('GET', { 'If-Unmodified-Since': 'Sun, 03 Mar 2024 00:00:00 GMT', Range: 'bytes=0-4' }))).status,
    ).toBe(412);
    // With If-Match present, If-Unmodified-Since is not looked at.
    expect(
      (await fileResponse(text, request('GET', { 'If-Match': '*', 'If-Unmodified-Since': 'Sun, 03 Mar 2024 00:00:00 GMT' }))).status,
    ).toBe(200);
  });

  it('applies conditionals to GET and HEAD only', async () => {
    const res = await fileResponse(text, request('POST', { 'If-None-Match': ETAG }));
    expect(res.status).toBe(200);
  });
});

describe('fileResponse: ranges', () => {
  async function range(value: string, extra: Record<string, string> = {}) {
    return fileResponse(text, request('GET', { Range: value, ...extra }));
  }

  it('serves bytes=a-b as 206 with Content-Range', async () => {
    const res = await range('bytes=0-4');
    expect(res.status).toBe(206);
    expect(header(res.headers, 'content-range')).toBe(`bytes 0-4/${SIZE}`);
    expect(header(res.headers, 'content-length')).toBe('5');
    expect(await read(res.body)).toBe('Hello');
  });

  it('serves open-ended, suffix and clamped ranges', async () => {
    const open = await range('bytes=7-');
    expect(header(open.headers, 'content-range')).toBe(`bytes 7-${SIZE - 1}/${SIZE}`);
    expect(await read(open.body)).toBe(CONTENT.slice(7));

    const suffix = await range('bytes=-3');
    expect(header(suffix.headers, 'content-range')).toBe(`bytes ${SIZE - 3}-${SIZE - 1}/${SIZE}`);
    expect(await read(suffix.body)).toBe('xyz');

    const longSuffix = await range('bytes=-100000');
    expect(longSuffix.status).toBe(206);
    expect(await read(longSuffix.body)).toBe(CONTENT);

    const clamped = await range('Bytes = 40-99999');
    expect(header(clamped.headers, 'content-range')).toBe(`bytes 40-${SIZE - 1}/${SIZE}`);
    expect(await read(clamped.body)).toBe(CONTENT.slice(40));

    const single = await range(`bytes=${SIZE - 1}-${SIZE - 1}`);
    expect(await read(single.body)).toBe('z');
  });

  it('answers an unsatisfiable range with 416 and bytes */size', async () => {
    for (const value of [`bytes=${SIZE}-`, `bytes=${SIZE + 10}-${SIZE + 20}`, 'bytes=-0']) {
      const res = await range(value);
      expect(res.status, value).toBe(416);
      expect(header(res.headers, 'content-range')).toBe(`bytes */${SIZE}`);
      expect(res.body).toBeNull();
    }
    const empty = await fileResponse(join(dir, 'empty.bin'), request('GET', { Range: 'bytes=0-' }));
    expect(empty.status).toBe(416);
    expect(header(empty.headers, 'content-range')).toBe('bytes */0');
  });

  it('serves the whole file for several ranges or a malformed header', async () => {
    for (const value of ['bytes=0-1,3-4', 'bytes=abc', 'items=0-4', 'bytes=5-2', 'bytes=-', '0-4']) {
      const res = await range(value);
      expect(res.status, value).toBe(200);
      expect(header(res.headers, 'content-range')).toBeUndefined();
      expect(await read(res.body)).toBe(CONTENT);
    }
  });

  it('ignores Range on HEAD and other methods', async () => {
    expect((await fileResponse(text, request('HEAD', { Range: 'bytes=0-4' }))).status).toBe(200);
    expect((await fileResponse(text, request('POST', { Range: 'bytes=0-4' }))).status).toBe(200);
  });

  it('honours If-Range: a matching date gives the range, anything else the whole file', async () => {
    expect((await range('bytes=0-4', { 'If-Range': LAST_MODIFIED })).status).toBe(206);
    expect((await range('bytes=0-4', { 'If-Range': 'Mon, 04 Mar 2024 05:06:06 GMT' })).status).toBe(200);
    // Entity tags in If-Range need a strong match, which a weak ETag never gives.
    expect((await range('bytes=0-4', { 'If-Range': ETAG })).status).toBe(200);
    expect((await range('bytes=0-4', { 'If-Range': ETAG.slice(2) })).status).toBe(200);
    const full = await range(`bytes=${SIZE}-`, { 'If-Range': 'garbage' });
    expect(full.status).toBe(200); // a failed If-Range also skips the 416
  });
});

describe('fileResponse: downloads', () => {
  it('adds Content-Disposition with the file name or the given one', async () => {
    expect(header((await fileResponse(text, request('GET'), { download: true })).headers, 'content-disposition')).toBe(
      'attachment; filename="hello.txt"',
    );
    expect(header((await fileResponse(text, request('GET'), { download: 'report 2024.txt' })).headers, 'content-disposition')).toBe(
      'attachment; filename="report 2024.txt"',
    );
    expect(header((await fileResponse(text, request('GET'), { download: false })).headers, 'content-disposition')).toBeUndefined();
  });

  it('encodes non-ASCII names as filename* with an ASCII fallback (RFC 6266)', () => {
    expect(contentDisposition('résumé (1).pdf')).toBe(
      `attachment; filename="r_sum_ (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf`,
    );
    expect(contentDisposition("€*'.txt")).toBe(`attachment; filename="_*'.txt"; filename*=UTF-8''%E2%82%AC%2A%27.txt`);
  });

  it('escapes quotes and backslashes in the quoted name', () => {
    expect(contentDisposition('a"b\\c.txt')).toBe('attachment; filename="a\\"b\\\\c.txt"');
  });
});
