import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Carafe, file } from '@carafe/core';
import { client } from './helpers.js';

describe('file responses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carafe-file-'));
  const path = join(dir, 'notes.txt');
  writeFileSync(path, '0123456789');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const app = new Carafe();
  app.get('/notes', () => file(path, { maxAge: 60 }));
  app.get('/download', () => file(path, { download: 'report.txt', headers: { 'x-extra': '1' } }));
  app.get('/missing', () => file(join(dir, 'nope.txt')));
  app.afterRequest((res) => void res.headers.set('x-after', String(res.status)));
  const http = client(app);

  it('serves the file with validators and caching headers', async () => {
    const res = await http.get('/notes').expect(200, '0123456789');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers.etag).toBeDefined();
    expect(res.headers['last-modified']).toBeDefined();
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers['x-after']).toBe('200');
  });

  it('answers conditional requests with 304', async () => {
    const first = await http.get('/notes');
    await http.get('/notes').set('If-None-Match', first.headers.etag!).expect(304);
    await http.get('/notes').set('If-Modified-Since', first.headers['last-modified']!).expect(304);
  });

  it('serves ranges with 206 and refuses unsatisfiable ones with 416', async () => {
    const partial = await http.get('/notes').set('Range', 'bytes=2-4').expect(206);
    expect(partial.text).toBe('234');
    expect(partial.headers['content-range']).toBe('bytes 2-4/10');
    await http.get('/notes').set('Range', 'bytes=50-').expect(416);
  });

  it('answers HEAD without a body', async () => {
    const res = await http.head('/notes').expect(200);
    expect(res.headers['content-length']).toBe('10');
    expect(res.text).toBeUndefined();
  });

  it('sends downloads as attachments, keeping extra headers', async () => {
    const res = await http.get('/download').expect(200);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="report\.txt"/);
    expect(res.headers['x-extra']).toBe('1');
  });

  it('answers a missing file with a 404 problem that does not reveal the path', async () => {
    const res = await http.get('/missing').expect(404).expect('content-type', 'application/problem+json');
    expect(JSON.stringify(res.body)).not.toContain(dir);
  });
});
