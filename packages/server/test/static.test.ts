/**
 * staticFiles() over a real node:http listener (supertest), between two compliance validators:
 * what it serves, what it refuses, and what it leaves to the wrapped app.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { problemResponse, toNodeListener, validator, type Environ, type TsgiApplication, type TsgiResponse } from '@carafe/gateway';
import { staticFiles, type StaticOptions } from '@carafe/server';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';

const base = mkdtempSync(join(tmpdir(), 'carafe-static-'));
const root = join(base, 'public');
const BIG = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(4, '0')}\n`).join(''); // 1000 bytes
mkdirSync(join(root, 'docs'), { recursive: true });
mkdirSync(join(root, '.git'));
mkdirSync(join(base, 'outside'));
writeFileSync(join(root, 'app.css'), 'body { color: red }\n');
writeFileSync(join(root, 'big.txt'), BIG);
writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>');
writeFileSync(join(root, 'blob.data'), 'data');
writeFileSync(join(root, '.env'), 'SECRET=1');
writeFileSync(join(root, '.git', 'config'), '[core]');
writeFileSync(join(base, 'secret.txt'), 'secret');
writeFileSync(join(base, 'outside', 'x.txt'), 'outside');
symlinkSync(join(base, 'secret.txt'), join(root, 'leak.txt'));
symlinkSync(join(base, 'outside'), join(root, 'linked-dir'));
symlinkSync(join(root, 'app.css'), join(root, 'alias.css'));
utimesSync(join(root, 'app.css'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The app behind the static files: answers 404 and says so, so falling through is visible. */
const fallback: TsgiApplication = (environ) => ({
  status: 404,
  headers: [['Content-Type', 'text/plain; charset=utf-8']],
  body: [`app: ${environ.PATH_INFO}`],
});

function client(options: Partial<StaticOptions> = {}) {
  const app = staticFiles({ root, prefix: '/static', maxAge: 60, ...options })(validator(fallback));
  return request(toNodeListener(validator(app)));
}

describe('staticFiles: serving', () => {
  it('serves a file with its type, length, validators and caching', async () => {
    const res = await client().get('/static/app.css').expect(200, 'body { color: red }\n');
    expect(res.headers).toMatchObject({
      'content-type': 'text/css; charset=utf-8',
      'content-length': '20',
      'accept-ranges': 'bytes',
      'last-modified': 'Tue, 02 Jan 2024 03:04:05 GMT',
      'cache-control': 'public, max-age=60',
    });
    expect(res.headers.etag).toMatch(/^W\/"14-/);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await client().head('/static/big.txt').expect(200);
    expect(res.headers['content-length']).toBe('1000');
    expect(res.text).toBeUndefined();
  });

  it('serves index.html for a directory, and types from mime-db or the overrides', async () => {
    await client().get('/static/docs/').expect(200, '<h1>docs</h1>');
    const blob = await client().get('/static/blob.data').expect(200);
    expect(blob.headers['content-type']).toBe('application/octet-stream');
    const typed = await client({ types: { '.DATA': 'application/x-data' } })
      .get('/static/blob.data')
      .expect(200);
    expect(typed.headers['content-type']).toBe('application/x-data');
  });

  it('follows symlinks that stay inside the root', async () => {
    await client().get('/static/alias.css').expect(200, 'body { color: red }\n');
  });
});

describe('staticFiles: conditional requests and ranges', () => {
  it('answers 304 for matching validators, 412 for failed preconditions', async () => {
    const { etag } = (await client().get('/static/app.css')).headers;
    await client().get('/static/app.css').set('If-None-Match', etag!).expect(304);
    await client().get('/static/app.css').set('If-Modified-Since', 'Tue, 02 Jan 2024 03:04:05 GMT').expect(304);
    await client().get('/static/app.css').set('If-Modified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT').expect(200);
    await client().get('/static/app.css').set('If-Match', '"nope"').expect(412);
    await client().get('/static/app.css').set('If-Unmodified-Since', 'Mon, 01 Jan 2024 00:00:00 GMT').expect(412);
    await client().get('/static/app.css').set('If-Match', '*').expect(200);
  });

  it('serves Range: bytes=0-99 as 206 with exactly 100 bytes', async () => {
    const res = await client().get('/static/big.txt').set('Range', 'bytes=0-99').expect(206);
    expect(res.headers['content-range']).toBe('bytes 0-99/1000');
    expect(res.headers['content-length']).toBe('100');
    expect(res.text).toBe(BIG.slice(0, 100));
    const tail = await client().get('/static/big.txt').set('Range', 'bytes=-10').expect(206);
    expect(tail.text).toBe('line 0099\n');
  });

  it('answers an unsatisfiable range with 416 and bytes */size', async () => {
    const res = await client().get('/static/big.txt').set('Range', 'bytes=1000-').expect(416);
    expect(res.headers['content-range']).toBe('bytes */1000');
  });

  it('sends the whole file for several ranges or a failed If-Range', async () => {
    await client().get('/static/big.txt').set('Range', 'bytes=0-1,10-11').expect(200, BIG);
    await client().get('/static/big.txt').set('Range', 'bytes=0-1').set('If-Range', 'Mon, 01 Jan 2024 00:00:00 GMT').expect(200, BIG);
  });
});

describe('staticFiles: refusals', () => {
  it('hides dotfiles by default: they fall through to the app like missing files', async () => {
    for (const path of ['/static/.env', '/static/.git/config', '/static/docs/.hidden']) {
      const res = await client().get(path).expect(404);
      expect(res.text, path).toBe(`app: ${path}`);
    }
  });

  it('answers dotfiles with 403 under "deny" and serves them under "allow"', async () => {
    const denied = await client({ dotfiles: 'deny' }).get('/static/.env').expect(403);
    expect(denied.headers['content-type']).toBe('application/problem+json');
    const allowed = await client({ dotfiles: 'allow' }).get('/static/.env').expect(200);
    expect(String(allowed.body)).toBe('SECRET=1');
  });

  it('lets the app answer /.well-known/ when mounted at the root', async () => {
    const res = await request(toNodeListener(staticFiles({ root })(fallback)))
      .get('/.well-known/security.txt')
      .expect(404);
    expect(res.text).toBe('app: /.well-known/security.txt');
  });

  it('refuses paths that escape the root with a 404 problem', async () => {
    const attempts = [
      '/static/../secret.txt',
      '/static/%2e%2e/secret.txt',
      '/static/docs/%2e%2e/%2e%2e/secret.txt',
      '/static/..%2fsecret.txt',
      '/static/docs%2Findex.html',
      '/static/..%5csecret.txt',
      '/static/app.css%00.png',
      '/static/leak.txt',
      '/static/linked-dir/x.txt',
    ];
    for (const path of attempts) {
      const res = await client().get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type'], path).toBe('application/problem+json');
      expect(res.text, path).not.toContain('secret');
    }
  });

  it('refuses a backslash in the decoded path', async () => {
    // Sent by hand: an HTTP client (superagent included) turns `\` into `/` before sending.
    const app = staticFiles({ root, prefix: '/static' })(fallback);
    const environ = { REQUEST_METHOD: 'GET', PATH_INFO: '/static/..\\secret.txt', RAW_URI: '/static/..\\secret.txt' } as Environ;
    expect((await app(environ)).status).toBe(404);
  });

  it('leaves missing files, other methods and other paths to the app', async () => {
    await client().get('/static/missing.js').expect(404, 'app: /static/missing.js');
    await client().post('/static/app.css').expect(404, 'app: /static/app.css');
    await client().get('/other').expect(404, 'app: /other');
    await client().get('/staticky/app.css').expect(404, 'app: /staticky/app.css');
  });
});

describe('staticFiles: as middleware', () => {
  it('keeps a synchronous app synchronous for paths it does not serve', () => {
    const sync: TsgiApplication = () => problemResponse(418);
    const app = staticFiles({ root, prefix: '/static' })(sync);
    const result = app({ REQUEST_METHOD: 'GET', PATH_INFO: '/api' } as Environ);
    expect((result as TsgiResponse).status).toBe(418);
    expect(app({ REQUEST_METHOD: 'DELETE', PATH_INFO: '/static/app.css' } as Environ)).not.toBeInstanceOf(Promise);
  });

  it('keeps the wrapped app’s lifespan', () => {
    const lifespan = { startup() {} };
    const app = staticFiles({ root })(Object.assign(fallback.bind(null), { lifespan }));
    expect(app.lifespan).toBe(lifespan);
  });
});
