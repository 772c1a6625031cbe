/**
 * The shipped TSGI middleware, each on its own, between two compliance validators (the app
 * it wraps must be served correctly, and it must itself behave as a correct TSGI app),
 * served by the gateway's node binding on a real socket.
 */
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  BodyTooLargeError,
  createServer,
  startup,
  shutdown,
  validator,
  type Environ,
  type HeaderList,
  type TsgiApplication,
  type TsgiMiddleware,
  type TsgiResponse,
} from '@carafe/gateway';
import { bodyLimit, compression, dispatcher, negotiateEncoding, proxyFix, requestId, staticFiles } from '@carafe/server';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const servers: http.Server[] = [];
const logged: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  expect(logged.splice(0)).toEqual([]);
});

/** Serves `middleware(app)` with validators on both sides; returns a raw-bytes client. */
async function serveWith(middleware: TsgiMiddleware, app: TsgiApplication) {
  const wrapped = validator(middleware(validator(app)));
  const server = createServer(wrapped, { errors: { write: (m: string) => logged.push(m) } });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  /** One request; `chunks` are sent as a chunked body, one write each. */
  return (path: string, options: { method?: string; headers?: Record<string, string>; chunks?: string[] } = {}) =>
    new Promise<Raw>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      for (const chunk of options.chunks ?? []) req.write(chunk);
      req.end();
    });
}

/** A whole response with a JSON body. */
function jsonResponse(status: number, value: unknown, extra: HeaderList = []): TsgiResponse {
  const body = JSON.stringify(value);
  return {
    status,
    headers: [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))], ...extra],
    body: [body],
  };
}

/** An app answering with the parts of the environ the middleware may change. */
const environApp: TsgiApplication = (environ) =>
  jsonResponse(200, {
    REMOTE_ADDR: environ.REMOTE_ADDR,
    scheme: environ['tsgi.url_scheme'],
    HTTP_HOST: environ.HTTP_HOST,
    SERVER_NAME: environ.SERVER_NAME,
    SERVER_PORT: environ.SERVER_PORT,
    SCRIPT_NAME: environ.SCRIPT_NAME,
    PATH_INFO: environ.PATH_INFO,
    requestId: environ['carafe.request_id'] ?? null,
    headerId: environ.HTTP_X_REQUEST_ID ?? null,
  });

const json = (raw: Raw) => JSON.parse(raw.body.toString('utf8')) as Record<string, unknown>;

describe('proxyFix', () => {
  it('applies X-Forwarded-For/-Proto/-Host from a trusted peer, skipping trusted hops', async () => {
    const get = await serveWith(proxyFix({ trusted: ['127.0.0.1', '10.0.0.0/8'] }), environApp);
    const raw = await get('/', {
      headers: {
        'X-Forwarded-For': '198.51.100.7, 203.0.113.5, 10.1.2.3',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'example.org:8443',
      },
    });
    expect(json(raw)).toMatchObject({
      REMOTE_ADDR: '203.0.113.5',
      scheme: 'https',
      HTTP_HOST: 'example.org:8443',
      SERVER_NAME: 'example.org',
      SERVER_PORT: '8443',
    });
  });

  it('prefers RFC 7239 Forwarded', async () => {
    const get = await serveWith(proxyFix(), environApp);
    const raw = await get('/', { headers: { Forwarded: 'for=192.0.2.60;proto=https;host=a.example', 'X-Forwarded-For': '198.51.100.1' } });
    expect(json(raw)).toMatchObject({ REMOTE_ADDR: '192.0.2.60', scheme: 'https', HTTP_HOST: 'a.example', SERVER_PORT: '443' });
  });

  it('splits a forwarded IPv6 host like the binding does, and ignores one that is not a host', async () => {
    const get = await serveWith(proxyFix(), environApp);
    const ipv6 = await get('/', { headers: { 'X-Forwarded-Host': '[2001:db8::1]:8443', 'X-Forwarded-Proto': 'https' } });
    expect(json(ipv6)).toMatchObject({ HTTP_HOST: '[2001:db8::1]:8443', SERVER_NAME: '[2001:db8::1]', SERVER_PORT: '8443' });
    const defaulted = await get('/', { headers: { 'X-Forwarded-Host': '[2001:db8::1]', 'X-Forwarded-Proto': 'https' } });
    expect(json(defaulted)).toMatchObject({ SERVER_NAME: '[2001:db8::1]', SERVER_PORT: '443' });
    const malformed = await get('/', { headers: { 'X-Forwarded-Host': '2001:db8::1' } });
    expect(json(malformed)).toMatchObject({ SERVER_NAME: '127.0.0.1' });
    expect(json(malformed).HTTP_HOST).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('ignores forwarding headers from an untrusted peer', async () => {
    const get = await serveWith(proxyFix({ trusted: ['10.0.0.1'] }), environApp);
    const raw = await get('/', {
      headers: { 'X-Forwarded-For': '198.51.100.1', 'X-Forwarded-Proto': 'https', Forwarded: 'for=192.0.2.1' },
    });
    expect(json(raw)).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http' });
  });
});

describe('bodyLimit', () => {
  const environ = (extra: Partial<Environ>) => ({ REQUEST_METHOD: 'POST', ...extra }) as Environ;
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('passes a body within an announced length straight through, keeping a synchronous answer synchronous', () => {
    const answer: TsgiResponse = { status: 200, headers: [], body: ['ok'] };
    const limited = bodyLimit(10)(() => answer);
    expect(limited(environ({ CONTENT_LENGTH: '5' }))).toBe(answer);
    expect(limited(environ({}))).toBe(answer);
  });

  it('refuses an announced length over the limit before the app is called', () => {
    let called = false;
    const limited = bodyLimit(10)(() => {
      called = true;
      return { status: 200, headers: [], body: [] };
    });
    expect(() => limited(environ({ CONTENT_LENGTH: '11' }))).toThrow(BodyTooLargeError);
    expect(called).toBe(false);
  });

  it('caps a chunked body: reading past the limit throws BodyTooLargeError (413) into the app', async () => {
    async function* input() {
      yield bytes('0123456789');
      yield bytes('abc');
    }
    const read: number[] = [];
    const reader: TsgiApplication = async (env) => {
      for await (const chunk of env['tsgi.input']) read.push(chunk.byteLength);
      return { status: 200, headers: [], body: ['unreachable'] };
    };
    const answered = bodyLimit(10)(reader)(environ({ HTTP_TRANSFER_ENCODING: 'chunked', 'tsgi.input': input() }));
    await expect(answered).rejects.toBeInstanceOf(BodyTooLargeError);
    await expect(answered).rejects.toMatchObject({ status: 413 });
    expect(read).toEqual([10]);
  });

  it('lets the binding answer 413 problem+json when the error escapes the app', async () => {
    const echo: TsgiApplication = async (env) => {
      let length = 0;
      for await (const chunk of env['tsgi.input']) length += chunk.byteLength;
      return jsonResponse(200, { length });
    };
    const post = await serveWith(bodyLimit(1000), echo);
    const within = await post('/', { method: 'POST', chunks: ['a'.repeat(600), 'b'.repeat(400)] });
    expect(JSON.parse(within.body.toString())).toEqual({ length: 1000 });
    const over = await post('/', { method: 'POST', chunks: ['a'.repeat(600), 'b'.repeat(600)] });
    expect(over.status).toBe(413);
    expect(over.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(over.body.toString())).toMatchObject({ status: 413, detail: 'The request body exceeds 1000 bytes.' });
  });
});

describe('requestId', () => {
  it('makes an id, shows it to the app and returns it', async () => {
    const get = await serveWith(requestId(), environApp);
    const raw = await get('/');
    const id = raw.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(json(raw)).toMatchObject({ requestId: id, headerId: id });
  });

  it('keeps a well-formed incoming id and replaces a malformed one', async () => {
    const get = await serveWith(requestId(), environApp);
    expect((await get('/', { headers: { 'X-Request-Id': 'abc-123' } })).headers['x-request-id']).toBe('abc-123');
    const replaced = await get('/', { headers: { 'X-Request-Id': 'has spaces "and quotes"' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('dispatcher', () => {
  it('mounts apps under prefixes, setting SCRIPT_NAME and PATH_INFO; the rest goes to the wrapped app', async () => {
    const tag =
      (name: string): TsgiApplication =>
      (environ) =>
        jsonResponse(200, { app: name, SCRIPT_NAME: environ.SCRIPT_NAME, PATH_INFO: environ.PATH_INFO });
    const get = await serveWith(dispatcher({ '/api': validator(tag('api')), '/api/v2': validator(tag('v2')) }), tag('site'));
    expect(json(await get('/api/users/7'))).toEqual({ app: 'api', SCRIPT_NAME: '/api', PATH_INFO: '/users/7' });
    expect(json(await get('/api'))).toEqual({ app: 'api', SCRIPT_NAME: '/api', PATH_INFO: '' });
    expect(json(await get('/api/v2/x'))).toEqual({ app: 'v2', SCRIPT_NAME: '/api/v2', PATH_INFO: '/x' });
    expect(json(await get('/apis'))).toEqual({ app: 'site', SCRIPT_NAME: '', PATH_INFO: '/apis' });
  });

  it('runs every mounted app’s lifespan', async () => {
    const events: string[] = [];
    const withLife = (name: string): TsgiApplication =>
      Object.assign(environApp.bind(null), {
        lifespan: { startup: () => void events.push(`${name} up`), shutdown: () => void events.push(`${name} down`) },
      });
    const app = dispatcher({ '/a': withLife('a') })(withLife('site'));
    await startup(app);
    await shutdown(app);
    expect(events).toEqual(['a up', 'site up', 'site down', 'a down']);
  });
});

describe('staticFiles', () => {
  const root = mkdtempSync(join(tmpdir(), 'carafe-static-'));
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'app.css'), 'body { color: red }\n');
  writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(tmpdir(), 'carafe-static-secret.txt'), 'secret');
  utimesSync(join(root, 'app.css'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(join(tmpdir(), 'carafe-static-secret.txt'), { force: true });
  });
  const fallback: TsgiApplication = () => ({ status: 200, headers: [['Content-Type', 'text/plain']], body: ['from the app'] });
  const files = staticFiles({ root, prefix: '/static', maxAge: 60 });

  it('serves a file with its type, length and validators', async () => {
    const get = await serveWith(files, fallback);
    const raw = await get('/static/app.css');
    expect(raw.status).toBe(200);
    expect(raw.body.toString()).toBe('body { color: red }\n');
    expect(raw.headers).toMatchObject({
      'content-type': 'text/css; charset=utf-8',
      'content-length': '20',
      'last-modified': 'Tue, 02 Jan 2024 03:04:05 GMT',
      'cache-control': 'public, max-age=60',
    });
    expect(raw.headers.etag).toMatch(/^W\/"/);
    const head = await get('/static/app.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('answers 304 when the validators match', async () => {
    const get = await serveWith(files, fallback);
    const etag = (await get('/static/app.css')).headers.etag!;
    expect((await get('/static/app.css', { headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await get('/static/app.css', { headers: { 'If-Modified-Since': 'Tue, 02 Jan 2024 03:04:05 GMT' } })).status).toBe(304);
    expect((await get('/static/app.css', { headers: { 'If-Modified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' } })).status).toBe(200);
  });

  it('serves index.html for a directory and falls through when there is no file', async () => {
    const get = await serveWith(files, fallback);
    expect((await get('/static/docs/')).body.toString()).toBe('<h1>docs</h1>');
    expect((await get('/static/missing.js')).body.toString()).toBe('from the app');
    expect((await get('/other')).body.toString()).toBe('from the app');
  });

  it('refuses paths that escape the root with 404', async () => {
    const get = await serveWith(files, fallback);
    for (const path of [
      '/static/%2e%2e/carafe-static-secret.txt',
      '/static/..%2fcarafe-static-secret.txt',
      '/static/docs/%2e%2e/%2e%2e/x',
    ]) {
      const raw = await get(path);
      expect(raw.status, path).toBe(404);
      expect(raw.headers['content-type']).toBe('application/problem+json');
    }
  });
});

describe('compression', () => {
  const text = 'All work and no play makes Jack a dull boy. '.repeat(200);
  const textApp =
    (headers: HeaderList = []): TsgiApplication =>
    () => ({
      status: 200,
      headers: [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(text.length)], ...headers],
      body: [text],
    });

  it('negotiates by q-value, with the server order breaking ties', () => {
    expect(negotiateEncoding('gzip, br', ['br', 'gzip'])).toBe('br');
    expect(negotiateEncoding('br;q=0.5, gzip', ['br', 'gzip'])).toBe('gzip');
    expect(negotiateEncoding('*;q=0.1, gzip;q=0', ['br', 'gzip'])).toBe('br');
    expect(negotiateEncoding('identity', ['br', 'gzip'])).toBeUndefined();
    expect(negotiateEncoding('br;q=0, gzip;q=0', ['br', 'gzip'])).toBeUndefined();
  });

  it('gzips and brotli-compresses, dropping Content-Length and adding Vary', async () => {
    const get = await serveWith(compression(), textApp());
    const gz = await get('/', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-length']).toBeUndefined();
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(gz.body).toString()).toBe(text);
    expect(gz.body.length).toBeLessThan(text.length / 5);
    const br = await get('/', { headers: { 'Accept-Encoding': 'gzip;q=0.8, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(text);
  });

  it('sends identity when the client accepts no offered encoding, still with Vary', async () => {
    const get = await serveWith(compression(), textApp());
    const raw = await get('/', { headers: { 'Accept-Encoding': 'gzip;q=0, deflate' } });
    expect(raw.headers['content-encoding']).toBeUndefined();
    expect(raw.headers['content-length']).toBe(String(text.length));
    expect(raw.headers.vary).toBe('Accept-Encoding');
    expect(raw.body.toString()).toBe(text);
  });

  it('skips small, already-encoded and non-compressible responses', async () => {
    const small: TsgiApplication = () => jsonResponse(200, {});
    expect(
      (await (await serveWith(compression(), small))('/', { headers: { 'Accept-Encoding': 'gzip' } })).headers['content-encoding'],
    ).toBeUndefined();
    const encoded = await (await serveWith(compression(), textApp([['Content-Encoding', 'identity']])))('/', {
      headers: { 'Accept-Encoding': 'br' },
    });
    expect(encoded.headers['content-encoding']).toBe('identity');
    expect(encoded.body.toString()).toBe(text);
    const png: TsgiApplication = () => ({ status: 200, headers: [['Content-Type', 'image/png']], body: [Buffer.alloc(4096)] });
    const image = await (await serveWith(compression(), png))('/', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(image.headers['content-encoding']).toBeUndefined();
    expect(image.headers.vary).toBeUndefined();
    expect(image.body.length).toBe(4096);
  });

  it('streams a body of unknown length chunk by chunk', async () => {
    const streamed: TsgiApplication = () => ({
      status: 200,
      headers: [['Content-Type', 'text/event-stream']],
      body: (async function* () {
        for (let i = 0; i < 5; i++) {
          await new Promise((r) => setTimeout(r, 5));
          yield `data: ${i}\n\n`;
        }
      })(),
    });
    const raw = await (await serveWith(compression(), streamed))('/', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers['transfer-encoding']).toBe('chunked');
    expect(gunzipSync(raw.body).toString()).toBe([0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(''));
  });

  it('measures an array body without Content-Length against the threshold', async () => {
    const unannounced =
      (body: string): TsgiApplication =>
      () => ({ status: 200, headers: [['Content-Type', 'text/plain']], body: [body] });
    const small = await (await serveWith(compression(), unannounced('short')))('/', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body.toString()).toBe('short');
    const large = await (await serveWith(compression(), unannounced(text)))('/', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(large.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(large.body).toString()).toBe(text);
  });

  it('weakens a strong ETag on the compressed form only, leaving the app’s header list alone', async () => {
    const headers: HeaderList = [
      ['Content-Type', 'text/plain'],
      ['ETag', '"v1"'],
    ];
    const tagged: TsgiApplication = () => ({ status: 200, headers, body: [text] });
    const get = await serveWith(compression(), tagged);
    expect((await get('/', { headers: { 'Accept-Encoding': 'gzip' } })).headers.etag).toBe('W/"v1"');
    expect((await get('/', { headers: { 'Accept-Encoding': 'identity' } })).headers.etag).toBe('"v1"');
    expect(headers).toEqual([
      ['Content-Type', 'text/plain'],
      ['ETag', '"v1"'],
    ]);
  });

  it('compresses the response of an asynchronous app', async () => {
    const later: TsgiApplication = async () => {
      await new Promise((r) => setTimeout(r, 5));
      return { status: 201, headers: [['Content-Type', 'text/plain']], body: [text] };
    };
    const raw = await (await serveWith(compression(), later))('/', { headers: { 'Accept-Encoding': 'br' } });
    expect(raw.status).toBe(201);
    expect(brotliDecompressSync(raw.body).toString()).toBe(text);
  });
});

describe('every middleware', () => {
  const sync: TsgiApplication = () => ({ status: 200, headers: [['Content-Type', 'text/plain']], body: ['ok'] });
  const middleware: Record<string, TsgiMiddleware> = {
    proxyFix: proxyFix(),
    requestId: requestId(),
    dispatcher: dispatcher({ '/mounted': sync }),
    compression: compression(),
    bodyLimit: bodyLimit(10),
  };
  const environ = () =>
    ({
      REQUEST_METHOD: 'GET',
      PATH_INFO: '/',
      SCRIPT_NAME: '',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_ACCEPT_ENCODING: 'gzip',
    }) as Partial<Environ> as Environ;

  for (const [name, wrap] of Object.entries(middleware)) {
    it(`${name} keeps a synchronous app synchronous`, () => {
      const response = wrap(sync)(environ());
      expect(response).not.toBeInstanceOf(Promise);
      expect((response as TsgiResponse).status).toBe(200);
    });

    it(`${name} passes the wrapped app’s lifespan through`, async () => {
      const events: string[] = [];
      const lifespan = { startup: () => void events.push('up'), shutdown: () => void events.push('down') };
      const wrapped = wrap(Object.assign((env: Environ) => sync(env), { lifespan }));
      await startup(wrapped);
      await shutdown(wrapped);
      expect(events).toEqual(['up', 'down']);
    });
  }
});
