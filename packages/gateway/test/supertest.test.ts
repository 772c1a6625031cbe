/**
 * In-process conformance: an application written from docs/tsgi.md alone — plain objects and
 * iterables, no runtime import from `@carafe/gateway` — served through `toNodeListener` and
 * exercised with supertest, with and without the validator in front.
 */
import { PassThrough } from 'node:stream';
import { startup, shutdown, toNodeListener, validator, type TsgiApplication, type TsgiResponse } from '@carafe/gateway';
import request from 'supertest';
import { describe, expect, it } from 'vitest';

// ---- the application: only what the specification defines ----

// A response may be shared between requests (§5.4).
const NOT_FOUND: TsgiResponse = { status: 404, headers: [['Content-Type', 'text/plain']], body: ['not found'] };

const events: string[] = [];
let streamDestroyed = false;

const specApp: TsgiApplication = (environ) => {
  const path = environ.PATH_INFO;
  const method = environ.REQUEST_METHOD;
  switch (path) {
    case '/hello': // §3.2: a synchronous app returns the response itself
      return {
        status: 200,
        headers: [['Content-Type', 'text/plain; charset=utf-8']],
        body: [`Hello from ${path} ${environ.QUERY_STRING}`],
      };
    case '/environ':
      return {
        status: 200,
        headers: [['Content-Type', 'application/json']],
        body: [
          JSON.stringify({
            method,
            script: environ.SCRIPT_NAME,
            path,
            query: environ.QUERY_STRING,
            raw: environ.RAW_URI,
            scheme: environ['tsgi.url_scheme'],
            version: environ['tsgi.version'],
            custom: environ.HTTP_X_CUSTOM,
            signal: environ['tsgi.signal'] instanceof AbortSignal,
          }),
        ],
      };
    case '/echo': // §2.5: read tsgi.input before deciding the response (§3.5)
      return (async () => {
        const parts: Uint8Array[] = [];
        for await (const chunk of environ['tsgi.input']) parts.push(chunk);
        const text = Buffer.concat(parts).toString('utf8');
        return {
          status: 201,
          headers: [
            ['Content-Type', 'text/plain'],
            ['Location', '/echo/1'],
          ],
          body: [`${environ.CONTENT_TYPE}|${environ.CONTENT_LENGTH}|${text}`],
        };
      })();
    case '/stream': // §3.5: a lazily produced body
      return {
        status: 200,
        headers: [
          ['Content-Type', 'text/event-stream'],
          ['Cache-Control', 'no-store'],
        ],
        body: (async function* () {
          for (let i = 0; i < 3; i++) {
            yield `data: ${i}\n\n`;
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        })(),
      };
    case '/passthrough': {
      // §3.5: code that writes its output writes into a PassThrough returned as the body
      const out = new PassThrough();
      out.on('close', () => (streamDestroyed = true));
      void (async () => {
        for (const line of ['a,b\n', '1,2\n', '3,4\n']) {
          if (!out.write(line)) await new Promise((resolve) => out.once('drain', resolve));
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        out.end();
      })();
      return { status: 200, headers: [['Content-Type', 'text/csv']], body: out };
    }
    case '/cookies': // §3.3: names may repeat
      return {
        status: 200,
        headers: [
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
        ],
        body: [new TextEncoder().encode('bytes')],
      };
    case '/empty':
      return { status: 204, headers: [], body: [] };
    case '/declared': // §3.7: a streamed body with a declared length
      return {
        status: 200,
        headers: [['Content-Length', '6']],
        body: (function* () {
          yield 'abc';
          yield 'def';
        })(),
      };
    case '/broken': // §3.6: an application error before the response
      throw new Error('spec app failure');
    default:
      return NOT_FOUND;
  }
};
specApp.lifespan = {
  startup: () => void events.push('startup'),
  shutdown: async () => void events.push('shutdown'),
};

// ---- the tests ----

describe.each([
  ['the binding alone', (app: TsgiApplication) => app],
  ['the binding under the validator', validator],
])('a spec-only TSGI application through toNodeListener (%s)', (_label, wrap) => {
  const errors: string[] = [];
  const http = request(toNodeListener(wrap(specApp), { errors: { write: (message) => void errors.push(message) } }));

  it('serves a GET with a Content-Length', async () => {
    const res = await http.get('/hello?x=1').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength('Hello from /hello x=1')));
    expect(res.text).toBe('Hello from /hello x=1');
  });

  it('decodes the path and passes the environ of §2', async () => {
    const res = await http.get('/env%69ron?q=%20a').set('X-Custom', 'yes').expect(200);
    expect(res.body).toEqual({
      method: 'GET',
      script: '',
      path: '/environ',
      query: 'q=%20a',
      raw: '/env%69ron?q=%20a',
      scheme: 'http',
      version: [1, 0],
      custom: 'yes',
      signal: true,
    });
  });

  it('reads the request body and answers from an async application', async () => {
    const res = await http.post('/echo').set('Content-Type', 'text/plain').send('héllo').expect(201);
    expect(res.headers.location).toBe('/echo/1');
    expect(res.text).toBe(`text/plain|${Buffer.byteLength('héllo')}|héllo`);
  });

  it('streams an async generator body chunked', async () => {
    const res = await http.get('/stream').buffer(true).expect(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.text).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
  });

  it('streams a Node PassThrough body and lets the stream close', async () => {
    streamDestroyed = false;
    const res = await http.get('/passthrough').buffer(true).expect(200);
    expect(res.text).toBe('a,b\n1,2\n3,4\n');
    await expect.poll(() => streamDestroyed).toBe(true);
  });

  it('keeps repeated headers and sends Uint8Array chunks', async () => {
    const res = await http.get('/cookies').expect(200);
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.text).toBe('bytes');
  });

  it('sends no body for HEAD and 204, and the declared Content-Length for a streamed body', async () => {
    const head = await http.head('/hello').expect(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength('Hello from /hello ')));
    expect(head.text).toBeUndefined();
    const empty = await http.get('/empty').expect(204);
    expect(empty.text).toBe('');
    const declared = await http.get('/declared').expect(200);
    expect(declared.headers['content-length']).toBe('6');
    expect(declared.text).toBe('abcdef');
  });

  it('serves a shared response to every request that gets it, unchanged', async () => {
    await http.get('/nope').expect(404, 'not found');
    await http.get('/nope/again').expect(404, 'not found');
    expect(NOT_FOUND).toEqual({ status: 404, headers: [['Content-Type', 'text/plain']], body: ['not found'] });
  });

  it('answers an application error with a 500 problem and logs it', async () => {
    errors.length = 0;
    const res = await http.get('/broken').expect(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(errors.join('')).toContain('spec app failure');
  });

  it('runs its lifespan hooks', async () => {
    events.length = 0;
    const app = wrap(specApp);
    await startup(app);
    await http.get('/hello').expect(200);
    await shutdown(app);
    expect(events).toEqual(['startup', 'shutdown']);
  });
});
