import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headerValue, sendFile, type ResponseBody, type SendFileOptions } from '@carafe/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONTENT = '0123456789abcdefghij';
const MTIME = new Date('2024-03-04T05:06:07.890Z');
const LAST_MODIFIED = 'Mon, 04 Mar 2024 05:06:07 GMT';
const STATS = { size: CONTENT.length, mtimeMs: MTIME.getTime() };
const WEAK = `W/"14-${MTIME.getTime().toString(16)}"`;

let dir: string;
let path: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'carafe-sendfile-'));
  path = join(dir, 'data.txt');
  await writeFile(path, CONTENT);
  await utimes(path, MTIME, MTIME);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function send(method: string, headers: Record<string, string> = {}, options?: SendFileOptions) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return sendFile(path, STATS, { method, header: (name) => lower[name.toLowerCase()] }, options);
}

async function text(body: ResponseBody): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

describe('sendFile', () => {
  it('sends the file with type, validators and length', async () => {
    const res = send('GET', {}, { cacheControl: 'no-cache' });
    expect(res.status).toBe(200);
    expect(res.headers).toEqual([
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Accept-Ranges', 'bytes'],
      ['ETag', WEAK],
      ['Last-Modified', LAST_MODIFIED],
      ['Cache-Control', 'no-cache'],
      ['Content-Length', '20'],
    ]);
    expect(await text(res.body)).toBe(CONTENT);
  });

  it('sends a strong ETag on request, and honours If-Match with it', () => {
    const strong = send('GET', {}, { etag: 'strong' });
    const etag = headerValue(strong.headers, 'etag')!;
    expect(etag).toMatch(/^"/);
    expect(send('GET', { 'If-Match': etag }, { etag: 'strong' }).status).toBe(200);
    expect(send('GET', { 'If-Match': '"other"' }, { etag: 'strong' }).status).toBe(412);
  });

  it('answers 304 with the cache headers only, and 412 with none', () => {
    const notModified = send('GET', { 'If-None-Match': WEAK }, { cacheControl: 'max-age=5' });
    expect(notModified).toEqual({
      status: 304,
      headers: [
        ['ETag', WEAK],
        ['Last-Modified', LAST_MODIFIED],
        ['Cache-Control', 'max-age=5'],
      ],
      body: [],
    });
    expect(send('HEAD', { 'If-Unmodified-Since': 'Sun, 03 Mar 2024 00:00:00 GMT' })).toEqual({ status: 412, headers: [], body: [] });
  });

  it('serves one range as 206 and an unsatisfiable one as 416', async () => {
    const partial = send('GET', { Range: 'bytes=10-14' });
    expect(partial.status).toBe(206);
    expect(headerValue(partial.headers, 'content-range')).toBe('bytes 10-14/20');
    expect(headerValue(partial.headers, 'content-length')).toBe('5');
    expect(await text(partial.body)).toBe('abcde');
    const unsatisfiable = send('GET', { Range: 'bytes=20-' });
    expect(unsatisfiable.status).toBe(416);
    expect(headerValue(unsatisfiable.headers, 'content-range')).toBe('bytes */20');
    expect(unsatisfiable.body).toEqual([]);
  });

  it('sends the whole file for several ranges, a failed If-Range, or a non-GET', () => {
    expect(send('GET', { Range: 'bytes=0-1,5-6' }).status).toBe(200);
    expect(send('GET', { Range: 'bytes=0-1', 'If-Range': WEAK }).status).toBe(200);
    expect(send('GET', { Range: 'bytes=0-1', 'If-Range': LAST_MODIFIED }).status).toBe(206);
    expect(send('HEAD', { Range: 'bytes=0-1' }).status).toBe(200);
  });

  it('answers HEAD without a body, and leaves conditionals to GET and HEAD', () => {
    const head = send('HEAD');
    expect(head.body).toEqual([]);
    expect(headerValue(head.headers, 'content-length')).toBe('20');
    expect(send('POST', { 'If-Match': '"nope"', 'If-None-Match': '*' }).status).toBe(200);
  });

  it('leaves validators out when told to, and with them their conditionals', () => {
    const res = send('GET', { 'If-None-Match': WEAK, 'If-Modified-Since': LAST_MODIFIED }, { etag: false, lastModified: false });
    expect(res.status).toBe(200);
    expect(headerValue(res.headers, 'etag')).toBeUndefined();
    expect(headerValue(res.headers, 'last-modified')).toBeUndefined();
  });

  it('adds extra headers and a given content type', () => {
    const res = send('GET', {}, { contentType: 'application/x-thing', headers: [['Content-Disposition', 'attachment']] });
    expect(headerValue(res.headers, 'content-type')).toBe('application/x-thing');
    expect(headerValue(res.headers, 'content-disposition')).toBe('attachment');
  });

  it('reads no more than it announced, even if the file grew', async () => {
    const res = sendFile(path, { size: 5, mtimeMs: STATS.mtimeMs }, { method: 'GET', header: () => undefined });
    expect(await text(res.body)).toBe('01234');
  });

  it('opens the file only when the body is read, and closes it when the reader stops early', async () => {
    const unread = sendFile(join(dir, 'missing'), STATS, { method: 'GET', header: () => undefined });
    expect(unread.status).toBe(200); // nothing touched the disk yet
    await expect(text(unread.body)).rejects.toMatchObject({ code: 'ENOENT' });
    const iterator = (send('GET').body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await iterator.next();
    expect(await iterator.return!()).toEqual({ done: true, value: undefined });
  });
});
