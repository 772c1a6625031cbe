/**
 * `toFetchHandler`: a TSGI application as a fetch-standard handler, exercised in-process with
 * `Request` objects (test/runtimes/ serves it on Bun, Deno and workerd over real HTTP). Apps run
 * under the `validator`, so every environ the binding builds and every way it iterates a body is
 * checked against the specification as well.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  BodyTooLargeError,
  HttpStatusError,
  toFetchHandler,
  validator,
  type Environ,
  type FetchHandlerOptions,
  type ResponseBody,
  type TsgiApplication,
  type TsgiResponse,
} from '../src/fetch.js';
import { memoryErrors } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The handler of `app` under the validator, with errors kept. */
function handlerOf(app: TsgiApplication, options: FetchHandlerOptions = {}) {
  const errors = memoryErrors();
  const handler = toFetchHandler(validator(app), { errors, ...options });
  return { handler, errors };
}

/** An app that answers with the environ it got (strings and flags only). */
const echoEnviron: TsgiApplication = (environ) => {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(environ)) if (typeof value !== 'object' || Array.isArray(value)) plain[key] = value;
  return { status: 200, headers: [['content-type', 'application/json']], body: [JSON.stringify(plain)] };
};

async function environOf(request: Request, options: FetchHandlerOptions = {}, context?: unknown): Promise<Record<string, unknown>> {
  const { handler, errors } = handlerOf(echoEnviron, options);
  const response = await handler(request, context);
  expect(errors.text()).toBe('');
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** A body iterator that records how the binding drives it. */
function recordingBody(chunks: Array<string | Uint8Array>, options: { delayMs?: number; failAt?: number } = {}) {
  const calls = { next: 0, return: 0 };
  const body: ResponseBody = {
    [Symbol.asyncIterator]() {
      let index = 0;
      return {
        async next() {
          calls.next++;
          if (options.delayMs) await sleep(options.delayMs);
          if (options.failAt === index) throw new Error('the body failed');
          return index < chunks.length ? { value: chunks[index++]!, done: false } : { value: undefined, done: true };
        },
        async return() {
          calls.return++;
          return { value: undefined, done: true };
        },
      };
    },
  };
  return { body, calls };
}

function reply(body: ResponseBody, headers: TsgiResponse['headers'] = [['content-type', 'text/plain']], status = 200): TsgiApplication {
  return () => ({ status, headers, body });
}

describe('toFetchHandler: the environ', () => {
  it('has the CGI keys of §2.2, built from the request URL and headers', async () => {
    const environ = await environOf(
      new Request('http://example.com:8080/caf%C3%A9/a%2Fb?q=a%20b&x', {
        headers: { 'X-Request-Id': 'abc', Accept: 'text/plain', 'User-Agent': 'test' },
      }),
    );
    expect(environ).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/café/a/b',
      QUERY_STRING: 'q=a%20b&x',
      RAW_URI: '/caf%C3%A9/a%2Fb?q=a%20b&x',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '',
      REMOTE_PORT: '',
      HTTP_X_REQUEST_ID: 'abc',
      HTTP_ACCEPT: 'text/plain',
      HTTP_USER_AGENT: 'test',
      'tsgi.url_scheme': 'http',
      'tsgi.multithread': false,
      'tsgi.multiprocess': false,
      'tsgi.run_once': false,
    });
  });

  it('takes SERVER_NAME and SERVER_PORT from the Host header, the port defaulting after the scheme', async () => {
    const https = await environOf(new Request('https://example.com/'));
    expect(https).toMatchObject({ SERVER_NAME: 'example.com', SERVER_PORT: '443', 'tsgi.url_scheme': 'https' });
    const host = await environOf(new Request('http://127.0.0.1:9000/', { headers: { host: 'api.example.com' } }));
    expect(host).toMatchObject({ SERVER_NAME: 'api.example.com', SERVER_PORT: '80', HTTP_HOST: 'api.example.com' });
    const ipv6 = await environOf(new Request('http://[::1]:9000/'));
    expect(ipv6).toMatchObject({ SERVER_NAME: '[::1]', SERVER_PORT: '9000' });
  });

  it('keeps a lone "?" in RAW_URI and gives QUERY_STRING "" for it', async () => {
    const environ = await environOf(new Request('http://example.com/path?'));
    expect(environ).toMatchObject({ RAW_URI: '/path?', PATH_INFO: '/path', QUERY_STRING: '' });
  });

  it('gives Content-Type and Content-Length only as CONTENT_TYPE and CONTENT_LENGTH', async () => {
    const environ = await environOf(
      new Request('http://example.com/', {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json', 'content-length': '7' },
      }),
    );
    expect(environ).toMatchObject({ CONTENT_TYPE: 'application/json', CONTENT_LENGTH: '7' });
    expect(environ).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(environ).not.toHaveProperty('HTTP_CONTENT_LENGTH');
  });

  it('drops header names containing "_", and joins repeated Cookie headers with "; "', async () => {
    const headers = new Headers();
    headers.append('x_real_ip', '6.6.6.6');
    headers.append('x-real-ip', '1.2.3.4');
    headers.append('cookie', 'a=1');
    headers.append('cookie', 'b=2');
    headers.append('x-list', 'one');
    headers.append('x-list', 'two');
    const environ = await environOf(new Request('http://example.com/', { headers }));
    expect(environ.HTTP_X_REAL_IP).toBe('1.2.3.4');
    expect(environ.HTTP_COOKIE).toBe('a=1; b=2');
    expect(environ.HTTP_X_LIST).toBe('one, two');
  });

  it('sets REMOTE_ADDR and REMOTE_PORT from remoteAddress(request, context), in the shapes runtimes report', async () => {
    const request = () => new Request('http://example.com/');
    // Bun: server.requestIP(request) → { address, family, port }
    const bun = await environOf(
      request(),
      { remoteAddress: (_r, server: { ip: () => unknown }) => server.ip() as never },
      {
        ip: () => ({ address: '10.0.0.1', family: 'IPv4', port: 5555 }),
      },
    );
    expect(bun).toMatchObject({ REMOTE_ADDR: '10.0.0.1', REMOTE_PORT: '5555' });
    // Deno: info.remoteAddr → { transport, hostname, port }
    const deno = await environOf(
      request(),
      { remoteAddress: (_r, info: { remoteAddr: never }) => info.remoteAddr },
      {
        remoteAddr: { transport: 'tcp', hostname: '::1', port: 4444 },
      },
    );
    expect(deno).toMatchObject({ REMOTE_ADDR: '::1', REMOTE_PORT: '4444' });
    // Workers: a header set by Cloudflare's edge; absent here.
    const workers = await environOf(request(), { remoteAddress: (r) => r.headers.get('cf-connecting-ip') });
    expect(workers).toMatchObject({ REMOTE_ADDR: '', REMOTE_PORT: '' });
  });

  it('takes url_scheme, SERVER_PROTOCOL and the flags from the options', async () => {
    const environ = await environOf(new Request('http://example.com/'), {
      urlScheme: 'https',
      serverProtocol: 'HTTP/1.0',
      multiprocess: true,
      multithread: true,
      runOnce: true,
    });
    expect(environ).toMatchObject({
      'tsgi.url_scheme': 'https',
      SERVER_PROTOCOL: 'HTTP/1.0',
      'tsgi.multiprocess': true,
      'tsgi.multithread': true,
      'tsgi.run_once': true,
    });
  });

  it('answers a path that is not valid percent-encoded UTF-8 with a 400 problem, without calling the app', async () => {
    const app = vi.fn(echoEnviron);
    const { handler, errors } = handlerOf(app);
    const response = await handler(new Request('http://example.com/%E0%A4%A'));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The request target is not valid percent-encoded UTF-8.',
    });
    expect(app).not.toHaveBeenCalled();
    expect(errors.text()).toBe('');
  });
});

describe('toFetchHandler: tsgi.input', () => {
  it('is empty at once for a request without a body', async () => {
    let chunks = -1;
    const { handler } = handlerOf(async (environ) => {
      chunks = 0;
      for await (const _ of environ['tsgi.input']) chunks++;
      return { status: 204, headers: [], body: [] };
    });
    expect((await handler(new Request('http://example.com/'))).status).toBe(204);
    expect(chunks).toBe(0);
  });

  it('streams the request body as Uint8Array chunks, reading only as the app asks', async () => {
    let produced = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          produced++;
          if (produced > 4) controller.close();
          else controller.enqueue(new TextEncoder().encode(`chunk${produced};`));
        },
      },
      { highWaterMark: 0 },
    );
    const seen: Array<{ text: string; producedSoFar: number }> = [];
    const { handler, errors } = handlerOf(async (environ) => {
      for await (const chunk of environ['tsgi.input']) {
        expect(chunk).toBeInstanceOf(Uint8Array);
        seen.push({ text: new TextDecoder().decode(chunk), producedSoFar: produced });
        await sleep(5);
      }
      return { status: 200, headers: [], body: [`${seen.length}`] };
    });
    const request = new Request('http://example.com/upload', { method: 'POST', body: source, duplex: 'half' } as RequestInit);
    const response = await handler(request);
    expect(errors.text()).toBe('');
    expect(await response.text()).toBe('4');
    expect(seen.map((s) => s.text)).toEqual(['chunk1;', 'chunk2;', 'chunk3;', 'chunk4;']);
    // Pull-based: the source is never more than a chunk or two ahead of the application.
    for (const [i, s] of seen.entries()) expect(s.producedSoFar).toBeLessThanOrEqual(i + 2);
  });

  it('rejects with ClientDisconnected when the request body fails, and the app is not logged as failing', async () => {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        controller.error(new Error('connection reset'));
      },
    });
    let caught: unknown;
    const { handler, errors } = handlerOf(async (environ) => {
      try {
        for await (const _ of environ['tsgi.input']) {
          // read on
        }
      } catch (error) {
        caught = error;
        throw error;
      }
      return { status: 200, headers: [], body: [] };
    });
    const response = await handler(new Request('http://example.com/', { method: 'POST', body: source, duplex: 'half' } as RequestInit));
    expect((caught as Error).name).toBe('ClientDisconnected');
    expect(response.status).toBe(500);
    expect(errors.text()).toBe('');
  });
});

describe('toFetchHandler: tsgi.signal', () => {
  it('is aborted when request.signal is, while the app still works', async () => {
    const controller = new AbortController();
    let aborted = false;
    const { handler } = handlerOf(async (environ) => {
      const signal = environ['tsgi.signal'];
      controller.abort();
      await sleep(1);
      aborted = signal.aborted;
      return { status: 200, headers: [], body: [] };
    });
    await handler(new Request('http://example.com/', { signal: controller.signal }));
    expect(aborted).toBe(true);
  });

  it('is never aborted after the response completed normally', async () => {
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const { handler } = handlerOf((environ) => {
      signal = environ['tsgi.signal'];
      return { status: 200, headers: [], body: ['done'] };
    });
    const response = await handler(new Request('http://example.com/', { signal: controller.signal }));
    expect(await response.text()).toBe('done');
    controller.abort();
    expect(signal!.aborted).toBe(false);
  });
});

describe('toFetchHandler: the response', () => {
  it('sends an array body as one buffer with a Content-Length, the headers in order', async () => {
    const { handler } = handlerOf(
      reply(
        ['Hello, ', new TextEncoder().encode('wörld')],
        [
          ['Content-Type', 'text/plain; charset=utf-8'],
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
        ],
      ),
    );
    const response = await handler(new Request('http://example.com/'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('13');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.text()).toBe('Hello, wörld');
  });

  it('keeps a Content-Length the app declared, and refuses one that does not match (500)', async () => {
    const ok = handlerOf(reply(['abc'], [['Content-Length', '3']]));
    const response = await ok.handler(new Request('http://example.com/'));
    expect(response.headers.get('content-length')).toBe('3');
    expect(await response.text()).toBe('abc');

    const bad = toFetchHandler(reply(['abc'], [['Content-Length', '4']]), { errors: memoryErrors() });
    expect((await bad(new Request('http://example.com/'))).status).toBe(500);
  });

  it('sends a body that yields a single chunk with a Content-Length, and returns it once', async () => {
    const { body, calls } = recordingBody(['only chunk']);
    const { handler } = handlerOf(reply(body));
    const response = await handler(new Request('http://example.com/'));
    expect(response.headers.get('content-length')).toBe('10');
    expect(await response.text()).toBe('only chunk');
    expect(calls.return).toBe(1);
  });

  it('streams a longer body with backpressure: the next chunk is pulled only when the client reads', async () => {
    const { body, calls } = recordingBody(['one ', 'two ', 'three ', 'four'], { delayMs: 2 });
    const { handler, errors } = handlerOf(reply(body));
    const response = await handler(new Request('http://example.com/'));
    expect(response.headers.get('content-length')).toBeNull();
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('one ');
    await sleep(30);
    // Two pulled to choose the framing; nothing more while the client does not read.
    expect(calls.next).toBe(2);
    let rest = '';
    for (let step = await reader.read(); !step.done; step = await reader.read()) rest += decoder.decode(step.value);
    expect(rest).toBe('two three four');
    await sleep(1);
    expect(calls.return).toBe(1);
    expect(errors.text()).toBe('');
  });

  it('skips empty chunks', async () => {
    const { handler } = handlerOf(
      reply(
        (async function* () {
          yield '';
          yield 'a';
          yield new Uint8Array(0);
          await sleep(5);
          yield 'b';
        })(),
      ),
    );
    expect(await (await handler(new Request('http://example.com/'))).text()).toBe('ab');
  });

  it('calls return() once and aborts tsgi.signal when the client cancels the stream', async () => {
    const { body, calls } = recordingBody(['a', 'b', 'c', 'd', 'e'], { delayMs: 5 });
    let signal: AbortSignal | undefined;
    const { handler } = handlerOf((environ) => {
      signal = environ['tsgi.signal'];
      return { status: 200, headers: [], body };
    });
    const response = await handler(new Request('http://example.com/'));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await sleep(20);
    expect(calls.return).toBe(1);
    expect(signal!.aborted).toBe(true);
  });

  it('calls return() at once when request.signal aborts while the body waits', async () => {
    const controller = new AbortController();
    const { body, calls } = recordingBody(['a', 'b', 'c'], { delayMs: 50 });
    const { handler } = handlerOf(reply(body));
    const response = await handler(new Request('http://example.com/', { signal: controller.signal }));
    const reader = response.body!.getReader();
    await reader.read();
    void reader.read().catch(() => {});
    controller.abort();
    await sleep(5);
    expect(calls.return).toBe(1);
  });

  it('errors the stream when the body fails after the head (the connection is cut), logs it and returns the body', async () => {
    const { body, calls } = recordingBody(['a', 'b', 'c'], { delayMs: 1, failAt: 2 });
    const { handler, errors } = handlerOf(reply(body));
    const response = await handler(new Request('http://example.com/'));
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(errors.text()).toContain('the body failed');
    expect(calls.return).toBe(1);
  });

  it('errors the stream when a streamed body outgrows or falls short of its Content-Length', async () => {
    const long = handlerOf(
      reply(
        (async function* () {
          yield 'abc';
          await sleep(5);
          yield 'def';
        })(),
        [['Content-Length', '4']],
      ),
    );
    await expect((await long.handler(new Request('http://example.com/'))).text()).rejects.toThrow();
    expect(long.errors.text()).toContain('§3.7');
    const short = handlerOf(
      reply(
        (async function* () {
          yield 'ab';
          await sleep(5);
          yield 'c';
        })(),
        [['Content-Length', '9']],
      ),
    );
    await expect((await short.handler(new Request('http://example.com/'))).text()).rejects.toThrow();
    expect(short.errors.text()).toContain('§3.7');
  });

  it('sends no body for HEAD (returning a streamed body at once), 204 and 304', async () => {
    const { body, calls } = recordingBody(['x', 'y']);
    const head = handlerOf(reply(body));
    const headResponse = await head.handler(new Request('http://example.com/', { method: 'HEAD' }));
    expect(headResponse.body).toBeNull();
    expect(calls.return).toBe(1);
    expect(calls.next).toBe(0);

    const headArray = handlerOf(reply(['12345']));
    const arrayResponse = await headArray.handler(new Request('http://example.com/', { method: 'HEAD' }));
    expect(arrayResponse.headers.get('content-length')).toBe('5');
    expect(arrayResponse.body).toBeNull();

    const noContent = handlerOf(reply([], [], 204));
    const noContentResponse = await noContent.handler(new Request('http://example.com/'));
    expect(noContentResponse.status).toBe(204);
    expect(noContentResponse.headers.get('content-length')).toBeNull();

    const notModified = handlerOf(reply([], [['ETag', '"x"']], 304));
    const notModifiedResponse = await notModified.handler(new Request('http://example.com/'));
    expect(notModifiedResponse.status).toBe(304);
    expect(notModifiedResponse.headers.get('etag')).toBe('"x"');
  });
});

describe('toFetchHandler: errors (§3.6)', () => {
  const problemOf = async (response: Response) => ({
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  });

  it('answers an exception with a 500 problem that reveals nothing, and logs it with its stack', async () => {
    const errors = memoryErrors();
    const handler = toFetchHandler(
      () => {
        throw new Error('database password is hunter2');
      },
      { errors },
    );
    const response = await handler(new Request('http://example.com/x?y'));
    expect(await problemOf(response)).toEqual({
      status: 500,
      type: 'application/problem+json',
      body: { type: 'about:blank', title: 'Internal Server Error', status: 500 },
    });
    expect(errors.text()).toContain('GET /x?y');
    expect(errors.text()).toContain('hunter2');
  });

  it('answers a rejection the same way', async () => {
    const errors = memoryErrors();
    const handler = toFetchHandler(async () => Promise.reject(new Error('late')), { errors });
    expect((await handler(new Request('http://example.com/'))).status).toBe(500);
    expect(errors.text()).toContain('late');
  });

  it('answers a status error with its status and message, unlogged', async () => {
    const errors = memoryErrors();
    const handler = toFetchHandler(
      () => {
        throw new BodyTooLargeError(10);
      },
      { errors },
    );
    const teapot = toFetchHandler(
      async () => {
        throw new HttpStatusError(418, 'short and stout');
      },
      { errors },
    );
    expect(await problemOf(await handler(new Request('http://example.com/')))).toMatchObject({
      status: 413,
      body: { status: 413, detail: 'The request body exceeds 10 bytes.' },
    });
    expect(await problemOf(await teapot(new Request('http://example.com/')))).toMatchObject({
      status: 418,
      body: { detail: 'short and stout' },
    });
    expect(errors.text()).toBe('');
  });

  it.each([
    ['a hop-by-hop header', { status: 200, headers: [['Connection', 'close']], body: [] }, '§3.3'],
    ['a header value with CR LF', { status: 200, headers: [['X-A', 'a\r\nSet-Cookie: evil=1']], body: [] }, '§3.3'],
    ['an interim status', { status: 101, headers: [], body: [] }, '§3.2'],
    ['a body that is a string', { status: 200, headers: [], body: 'text' }, '§3.2'],
    ['a chunk that is a number', { status: 200, headers: [], body: [42] }, '§3.2'],
    ['a 204 with a Content-Length', { status: 204, headers: [['Content-Length', '0']], body: [] }, '§3.7'],
    ['no response at all', undefined, '§3.2'],
  ])('refuses %s with a logged 500, before sending anything', async (_name, response, section) => {
    const errors = memoryErrors();
    const handler = toFetchHandler(() => response as unknown as TsgiResponse, { errors });
    const answer = await handler(new Request('http://example.com/'));
    expect(answer.status).toBe(500);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.headers.get('connection')).toBeNull();
    expect(errors.text()).toContain(section);
  });

  it('returns the body of a refused response, and of a body failing before its first chunk', async () => {
    const refused = recordingBody(['x']);
    const errors = memoryErrors();
    const handler = toFetchHandler(() => ({ status: 200, headers: [['Upgrade', 'h2c']], body: refused.body }), { errors });
    expect((await handler(new Request('http://example.com/'))).status).toBe(500);
    expect(refused.calls.return).toBe(1);

    const failing = recordingBody(['x'], { failAt: 0 });
    const second = toFetchHandler(() => ({ status: 200, headers: [], body: failing.body }), { errors });
    const response = await second(new Request('http://example.com/'));
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ status: 500 });
    expect(failing.calls.return).toBe(1);
  });
});

describe('toFetchHandler: lifespan (§4)', () => {
  function appWithLifespan(hooks: { startup?: () => unknown; shutdown?: () => unknown }) {
    const app: TsgiApplication = () => ({ status: 200, headers: [], body: ['ok'] });
    app.lifespan = {
      startup: async () => {
        await sleep(10);
        await hooks.startup?.();
      },
      shutdown: async () => {
        await hooks.shutdown?.();
      },
    };
    return app;
  }

  it('runs startup once, before the first request, however many arrive together', async () => {
    const startup = vi.fn();
    const handler = toFetchHandler(appWithLifespan({ startup }));
    const responses = await Promise.all([1, 2, 3].map(() => handler(new Request('http://example.com/'))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(startup).toHaveBeenCalledTimes(1);
    await handler(new Request('http://example.com/'));
    expect(startup).toHaveBeenCalledTimes(1);
    await handler.shutdown();
  });

  it('runs startup when asked to, and shutdown once after it; later requests get a 503 and never reach the app', async () => {
    const calls: string[] = [];
    const app = appWithLifespan({ startup: () => calls.push('startup'), shutdown: () => calls.push('shutdown') });
    const handler = toFetchHandler(app);
    await handler.startup();
    await handler.startup();
    expect(calls).toEqual(['startup']);
    expect((await handler(new Request('http://example.com/'))).status).toBe(200);
    await handler.shutdown();
    await handler.shutdown();
    expect(calls).toEqual(['startup', 'shutdown']);
    const after = await handler(new Request('http://example.com/'));
    expect(after.status).toBe(503);
    expect(after.headers.get('content-type')).toBe('application/problem+json');
  });

  it('does not serve an app whose startup failed: 500s, the failure logged once', async () => {
    const errors = memoryErrors();
    const inner = vi.fn((_environ: Environ) => ({ status: 200, headers: [], body: [] }) as TsgiResponse);
    const app: TsgiApplication = (environ: Environ) => inner(environ);
    app.lifespan = {
      startup() {
        throw new Error('no database');
      },
    };
    const handler = toFetchHandler(app, { errors });
    expect((await handler(new Request('http://example.com/'))).status).toBe(500);
    expect((await handler(new Request('http://example.com/'))).status).toBe(500);
    expect(inner).not.toHaveBeenCalled();
    expect(errors.text().match(/no database/g)).toHaveLength(1);
    await expect(handler.startup()).rejects.toThrow('no database');
  });

  it('does not run shutdown for an app that never started', async () => {
    const shutdown = vi.fn();
    const handler = toFetchHandler(appWithLifespan({ shutdown }));
    await handler.shutdown();
    expect(shutdown).not.toHaveBeenCalled();
  });
});
