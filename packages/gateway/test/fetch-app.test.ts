/**
 * `fromFetchHandler`: a fetch-standard handler as a TSGI application. A Hono app mounted under a
 * prefix answers through the gateway's node:http binding (under the validator); the Request it is
 * given and the TSGI response made of its Response are checked piece by piece.
 * (test/runtimes/mounted.test.ts serves the same under `carafe serve`'s dispatcher.)
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { fromFetchHandler, keepLifespan, toFetchHandler, type TsgiApplication, type TsgiMiddleware } from '../src/fetch.js';
import { rawExchange, useServers } from './helpers.js';

const serveApp = useServers();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Mounts `app` under `prefix` (docs/tsgi.md Appendix B); the rest goes to `fallback`. */
const mount =
  (prefix: string, app: TsgiApplication): TsgiMiddleware =>
  (fallback) =>
    keepLifespan((environ) => {
      const path = environ.PATH_INFO;
      if (path !== prefix && !path.startsWith(`${prefix}/`)) return fallback(environ);
      environ.SCRIPT_NAME += prefix;
      environ.PATH_INFO = path.slice(prefix.length);
      return app(environ);
    }, fallback);

const site: TsgiApplication = (environ) => ({
  status: 200,
  headers: [['content-type', 'text/plain']],
  body: [`site ${environ.PATH_INFO}`],
});

function legacyHono() {
  const hono = new Hono().basePath('/legacy');
  hono.get('/hello/:name', (c) => c.text(`Hello, ${c.req.param('name')}, from Hono`));
  hono.post('/echo', async (c) => c.json({ received: await c.req.json(), type: c.req.header('content-type') }));
  hono.get('/url', (c) => c.json({ url: c.req.url, cookie: c.req.header('cookie') ?? null }));
  hono.get('/cookies', (c) => {
    c.header('Set-Cookie', 'a=1; Path=/', { append: true });
    c.header('Set-Cookie', 'b=2; Path=/', { append: true });
    return c.text('two cookies');
  });
  hono.get('/stream', (c) => {
    const encoder = new TextEncoder();
    let i = 0;
    return c.body(
      new ReadableStream({
        async pull(controller) {
          await sleep(5);
          if (++i > 3) controller.close();
          else controller.enqueue(encoder.encode(`part ${i}\n`));
        },
      }),
      200,
      { 'content-type': 'text/plain' },
    );
  });
  return hono;
}

describe('fromFetchHandler: a Hono app mounted under /legacy, through the node:http binding', () => {
  async function serveMounted() {
    const port = await serveApp(mount('/legacy', fromFetchHandler(legacyHono().fetch))(site));
    return `http://127.0.0.1:${port}`;
  }

  it('answers its routes, with route params and a JSON body, and leaves the rest to the site', async () => {
    const base = await serveMounted();
    const hello = await fetch(`${base}/legacy/hello/J%C3%BCrgen`);
    expect(hello.status).toBe(200);
    expect(await hello.text()).toBe('Hello, Jürgen, from Hono');
    const echo = await fetch(`${base}/legacy/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":[1,2]}',
    });
    expect(await echo.json()).toEqual({ received: { a: [1, 2] }, type: 'application/json' });
    expect(await (await fetch(`${base}/other`)).text()).toBe('site /other');
    const missing = await fetch(`${base}/legacy/nope`);
    expect(missing.status).toBe(404);
    await missing.text();
  });

  it('gives the handler the URL the client asked for (§2.6), with its query and cookies', async () => {
    const base = await serveMounted();
    const response = await fetch(`${base}/legacy/url?q=a%20b`, { headers: { cookie: 'x=1; y=2' } });
    const port = new URL(base).port;
    expect(await response.json()).toEqual({ url: `http://127.0.0.1:${port}/legacy/url?q=a%20b`, cookie: 'x=1; y=2' });
  });

  it('keeps each Set-Cookie apart', async () => {
    const base = await serveMounted();
    const response = await fetch(`${base}/legacy/cookies`);
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(await response.text()).toBe('two cookies');
  });

  it('streams the handler’s body (chunked, not buffered)', async () => {
    const base = await serveMounted();
    const { text } = await rawExchange(Number(new URL(base).port), 'GET /legacy/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/transfer-encoding: chunked/i);
    expect(text).toContain('part 1\n');
    expect(text).toContain('part 3\n');
  });
});

describe('fromFetchHandler: the Request it builds', () => {
  async function requestFor(environ: Record<string, unknown>, options?: Parameters<typeof fromFetchHandler>[1]) {
    let seen: Request | undefined;
    let body: string | undefined;
    const app = fromFetchHandler(async (request) => {
      seen = request;
      body = request.body === null ? undefined : await request.text();
      return new Response('ok');
    }, options);
    const base = {
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/',
      QUERY_STRING: '',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '80',
      'tsgi.url_scheme': 'http',
      'tsgi.input': { async *[Symbol.asyncIterator]() {} },
      'tsgi.signal': new AbortController().signal,
    };
    await app({ ...base, ...environ } as never);
    return { request: seen!, body };
  }

  it('rebuilds the URL from scheme, Host, SCRIPT_NAME and the re-encoded PATH_INFO, and the query as is', async () => {
    const { request } = await requestFor({
      HTTP_HOST: 'api.example.com:8443',
      'tsgi.url_scheme': 'https',
      SCRIPT_NAME: '/legacy',
      PATH_INFO: '/caf\u00e9/a b/x:y@z',
      QUERY_STRING: 'q=a%20b&r',
    });
    expect(request.url).toBe('https://api.example.com:8443/legacy/caf%C3%A9/a%20b/x:y@z?q=a%20b&r');
  });

  it('uses SERVER_NAME and SERVER_PORT without a Host header, and strips SCRIPT_NAME when asked', async () => {
    const { request } = await requestFor(
      { SERVER_NAME: '10.0.0.1', SERVER_PORT: '8000', SCRIPT_NAME: '/legacy', PATH_INFO: '/x' },
      { stripScriptName: true },
    );
    expect(request.url).toBe('http://10.0.0.1:8000/x');
  });

  it('passes the headers, without hop-by-hop ones, and the method', async () => {
    const { request } = await requestFor({
      REQUEST_METHOD: 'DELETE',
      HTTP_X_REQUEST_ID: 'r1',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_CONNECTION: 'keep-alive',
      HTTP_KEEP_ALIVE: 'timeout=5',
      CONTENT_TYPE: 'text/plain',
    });
    expect(request.method).toBe('DELETE');
    expect(request.headers.get('x-request-id')).toBe('r1');
    expect(request.headers.get('cookie')).toBe('a=1; b=2');
    expect(request.headers.get('content-type')).toBe('text/plain');
    expect(request.headers.has('connection')).toBe(false);
    expect(request.headers.has('keep-alive')).toBe(false);
  });

  it('streams tsgi.input as the body, one next() per chunk the handler reads', async () => {
    const pulled: number[] = [];
    const input = {
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          async next() {
            pulled.push(i);
            return i < 3 ? { value: new TextEncoder().encode(`c${i++}`), done: false } : { value: undefined, done: true };
          },
        };
      },
    };
    const { body } = await requestFor({ REQUEST_METHOD: 'POST', CONTENT_LENGTH: '6', 'tsgi.input': input });
    expect(body).toBe('c0c1c2');
    expect(pulled).toEqual([0, 1, 2, 3]);
  });

  it('gives GET and bodiless requests no body, and follows tsgi.signal', async () => {
    const controller = new AbortController();
    const { request, body } = await requestFor({ 'tsgi.signal': controller.signal });
    expect(body).toBeUndefined();
    controller.abort();
    expect(request.signal.aborted).toBe(true);
  });
});

describe('fromFetchHandler: the response it makes of a Response', () => {
  const environ = () =>
    ({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/',
      QUERY_STRING: '',
      SERVER_NAME: 'x',
      SERVER_PORT: '80',
      'tsgi.url_scheme': 'http',
      'tsgi.input': { async *[Symbol.asyncIterator]() {} },
      'tsgi.signal': new AbortController().signal,
    }) as never;

  it('drops hop-by-hop headers, keeps Set-Cookie apart, and gives a bodiless Response an empty body', async () => {
    const headers = new Headers([
      ['content-type', 'text/plain'],
      ['connection', 'close'],
      ['transfer-encoding', 'chunked'],
    ]);
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    const response = await fromFetchHandler(() => new Response(null, { status: 201, headers }))(environ());
    expect(response.status).toBe(201);
    expect(response.headers).toEqual([
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(response.body).toEqual([]);
  });

  it('cancels the Response stream when the server calls return()', async () => {
    let cancelled: unknown = 'no';
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('tick'));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    const response = await fromFetchHandler(() => new Response(stream))(environ());
    const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    expect(new TextDecoder().decode((await iterator.next()).value as Uint8Array)).toBe('tick');
    await iterator.return!();
    expect(cancelled).toBeUndefined();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('refuses a network error (status 0) instead of passing it on', async () => {
    await expect(fromFetchHandler(() => Response.error())(environ())).rejects.toThrow(/status 0/);
  });

  it('round-trips: toFetchHandler(fromFetchHandler(hono.fetch)) answers like the Hono app', async () => {
    const handler = toFetchHandler(fromFetchHandler(legacyHono().fetch));
    const response = await handler(new Request('http://example.com/legacy/hello/you'));
    expect(await response.text()).toBe('Hello, you, from Hono');
    const streamed = await handler(new Request('http://example.com/legacy/stream'));
    expect(await streamed.text()).toBe('part 1\npart 2\npart 3\n');
  });
});
