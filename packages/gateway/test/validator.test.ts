import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  TsgiComplianceError,
  validator,
  type Chunk,
  type Environ,
  type ResponseBody,
  type StartResponse,
  type TsgiApplication,
} from '@carafe/gateway';
import { describe, expect, it } from 'vitest';
import { memoryErrors } from './helpers.js';

// A minimal, correct fake server, so that each test breaks exactly one rule.
function environ(overrides: Record<string, unknown> = {}): Environ {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    RAW_URI: '/',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': input([]),
    'tsgi.errors': memoryErrors(),
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.signal': new AbortController().signal,
    ...overrides,
  } as Environ;
}

function input(chunks: unknown[]): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks as Uint8Array[];
    },
  };
}

const startResponse: StartResponse = () => async () => {};

/** Plays a correct server: calls the app, pulls the whole body, calls return(). */
async function serveOnce(app: TsgiApplication, env: Environ = environ(), start: StartResponse = startResponse): Promise<void> {
  const body: ResponseBody = await app(env, start);
  const iterator =
    Symbol.asyncIterator in body ? (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]() : (body as Iterable<Chunk>)[Symbol.iterator]();
  try {
    for (;;) if ((await iterator.next()).done) break;
  } finally {
    await iterator.return?.();
  }
}

const ok: TsgiApplication = (_env, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return ['ok'];
};
const replying = (status: string, headers: unknown, body: ResponseBody = []): TsgiApplication => (_env, start) => {
  start(status, headers as Array<[string, string]>);
  return body;
};
const readAll = async (env: Environ) => {
  for await (const _chunk of env['tsgi.input']) {
    // drain
  }
};
const readingApp: TsgiApplication = async (env, start) => {
  await readAll(env);
  start('200 OK', []);
  return [];
};

type Case = [rule: string, breakIt: () => unknown];

const cases: Case[] = [
  // §3.1, §4: the application object and its lifespan
  ['§3.1 an application must be a function', () => validator('not an app' as unknown as TsgiApplication)],
  [
    '§4 lifespan must be an object whose startup and shutdown, when present, are functions',
    () => validator(Object.assign(() => [], { lifespan: { startup: 'soon' } }) as unknown as TsgiApplication),
  ],
  ['§4 startup called twice', async () => {
    const app = validator(ok);
    await app.lifespan!.startup!();
    await app.lifespan!.startup!();
  }],
  ['§4 shutdown called before startup', () => validator(ok).lifespan!.shutdown!()],
  ['§4 shutdown called twice', async () => {
    const app = validator(ok);
    await app.lifespan!.startup!();
    await app.lifespan!.shutdown!();
    await app.lifespan!.shutdown!();
  }],
  ['§4 the server called the application after shutdown', async () => {
    const app = validator(ok);
    await app.lifespan!.startup!();
    await app.lifespan!.shutdown!();
    await serveOnce(app);
  }],

  // §2: the environ the server builds
  ['§2.1 environ must be an object', () => serveOnce(validator(ok), null as unknown as Environ)],
  ['§2.1 environ must be a plain object', () => serveOnce(validator(ok), Object.assign(new Map(), environ()) as unknown as Environ)],
  ['§2.1 PATH_INFO must be an own, enumerable property of the environ', () =>
    serveOnce(validator(ok), Object.defineProperty(environ(), 'PATH_INFO', { value: '/', enumerable: false }))],
  ['§2.4 extension key "route" must contain a dot', () => serveOnce(validator(ok), environ({ route: '/x' }))],
  ['§2.2 REQUEST_METHOD must be a non-empty token', () => serveOnce(validator(ok), environ({ REQUEST_METHOD: 'GE T' }))],
  ['§2.2 REMOTE_ADDR must be a string', () => serveOnce(validator(ok), environ({ REMOTE_ADDR: undefined }))],
  ['§2.2 SCRIPT_NAME must be empty or start with "/" and not end with "/"', () => serveOnce(validator(ok), environ({ SCRIPT_NAME: '/app/' }))],
  ['§2.2 PATH_INFO must be empty or start with "/"', () => serveOnce(validator(ok), environ({ PATH_INFO: 'relative' }))],
  ['§2.2 QUERY_STRING must not include the "?"', () => serveOnce(validator(ok), environ({ QUERY_STRING: '?a=1' }))],
  ['§2.2 SERVER_PROTOCOL must look like "HTTP/1.1"', () => serveOnce(validator(ok), environ({ SERVER_PROTOCOL: 'http1' }))],
  ['§2.2 CONTENT_LENGTH, when present, must be a string of digits', () => serveOnce(validator(ok), environ({ CONTENT_LENGTH: '-1' }))],
  ['§2.2 CONTENT_TYPE, when present, must be a string', () => serveOnce(validator(ok), environ({ CONTENT_TYPE: 42 }))],
  ['§2.2 HTTP_CONTENT_TYPE must not be present', () => serveOnce(validator(ok), environ({ HTTP_CONTENT_TYPE: 'text/plain' }))],
  ['§2.2 HTTP_ACCEPT must be a string', () => serveOnce(validator(ok), environ({ HTTP_ACCEPT: ['a', 'b'] }))],
  ['§2.4 environ key "tsgi.extra" is not defined by this version of TSGI', () => serveOnce(validator(ok), environ({ 'tsgi.extra': 1 }))],
  ['§2.3 tsgi.version must be [1, minor]', () => serveOnce(validator(ok), environ({ 'tsgi.version': '1.0' }))],
  ['§2.3 tsgi.url_scheme must be "http" or "https"', () => serveOnce(validator(ok), environ({ 'tsgi.url_scheme': 'HTTP' }))],
  ['§2.3 tsgi.input must be an AsyncIterable', () => serveOnce(validator(ok), environ({ 'tsgi.input': [new Uint8Array(1)] }))],
  ['§2.3 tsgi.errors must have a write(message) method', () => serveOnce(validator(ok), environ({ 'tsgi.errors': console.log }))],
  ['§2.3 tsgi.multithread must be a boolean', () => serveOnce(validator(ok), environ({ 'tsgi.multithread': 0 }))],
  ['§2.3 tsgi.signal must be an AbortSignal', () => serveOnce(validator(ok), environ({ 'tsgi.signal': new AbortController() }))],
  ['§3.3 startResponse must be a function', () => serveOnce(validator(ok), environ(), null as unknown as StartResponse)],

  // §2.5: what the server yields from tsgi.input
  ['§2.5 next() on tsgi.input must return a Promise', () =>
    serveOnce(validator(readingApp), environ({ 'tsgi.input': { [Symbol.asyncIterator]: () => ({ next: () => ({ done: true }) }) } }))],
  ['§2.5 tsgi.input must yield Uint8Array chunks', () =>
    serveOnce(validator(readingApp), environ({ CONTENT_LENGTH: '3', 'tsgi.input': input(['abc']) }))],
  ['§2.5 tsgi.input yielded more than CONTENT_LENGTH (2) bytes', () =>
    serveOnce(validator(readingApp), environ({ CONTENT_LENGTH: '2', 'tsgi.input': input([new Uint8Array(3)]) }))],
  ['§2.5 tsgi.input ended after 1 of CONTENT_LENGTH 3 bytes without an error', () =>
    serveOnce(validator(readingApp), environ({ CONTENT_LENGTH: '3', 'tsgi.input': input([new Uint8Array(1)]) }))],

  ['§2.5 the application called next() on tsgi.input before the previous call settled', () =>
    serveOnce(validator(async (env, start) => {
      const iterator = env['tsgi.input'][Symbol.asyncIterator]();
      await Promise.all([iterator.next(), iterator.next()]);
      start('200 OK', []);
      return [];
    }), environ({ CONTENT_LENGTH: '2', 'tsgi.input': input([new Uint8Array(1), new Uint8Array(1)]) }))],

  // §2.3: what the application writes to tsgi.errors
  ['§2.3 tsgi.errors.write takes a string', () =>
    serveOnce(validator((env, start) => {
      env['tsgi.errors'].write({ not: 'a string' } as unknown as string);
      start('200 OK', []);
      return [];
    }))],

  // §3.3: startResponse as the application calls it
  ['§3.3 startResponse called twice without error', () =>
    serveOnce(validator((_env, start) => {
      start('200 OK', []);
      start('404 Not Found', []);
      return [];
    }))],
  ['§3.3 status must be a string such as "200 OK"', () => serveOnce(validator(replying(200 as unknown as string, [])))],
  ['§3.3 status "200" is not "<3-digit code> <reason>"', () => serveOnce(validator(replying('200', [])))],
  ['§3.3 status 101 is not a final status (200-599)', () => serveOnce(validator(replying('101 Switching Protocols', [])))],
  ['§3.3 headers must be an array of [name, value] pairs', () => serveOnce(validator(replying('200 OK', { 'Content-Type': 'text/plain' })))],
  ['§3.3 each header must be a [name, value] pair', () => serveOnce(validator(replying('200 OK', [['Content-Type']])))],
  ['§3.3 header name must be a string', () => serveOnce(validator(replying('200 OK', [[1, 'x']])))],
  ['§3.3 value of header "X-Count" must be a string', () => serveOnce(validator(replying('200 OK', [['X-Count', 3]])))],
  ['§3.3 header name "Bad Name" is not an HTTP token', () => serveOnce(validator(replying('200 OK', [['Bad Name', 'x']])))],
  ['§3.3 value of header "X-Evil" contains CR, LF', () => serveOnce(validator(replying('200 OK', [['X-Evil', 'a\nb']])))],
  ['§3.3 hop-by-hop header "Transfer-Encoding" is reserved to the server', () =>
    serveOnce(validator(replying('200 OK', [['Transfer-Encoding', 'chunked']])))],
  ['§3.3 Content-Length "1e3" is not a non-negative integer', () => serveOnce(validator(replying('200 OK', [['Content-Length', '1e3']])))],
  ['§3.3 Content-Length given twice with different values', () =>
    serveOnce(validator(replying('200 OK', [['Content-Length', '1'], ['content-length', '2']], ['x'])))],

  ['§3.3 the header list changed after it was passed to startResponse', () =>
    serveOnce(validator((_env, start) => {
      const headers: Array<[string, string]> = [['Content-Type', 'text/plain']];
      start('200 OK', headers);
      headers.push(['X-Late', 'yes']);
      return ['x'];
    }))],

  // §3.3, §3.5: what the server's startResponse and write do
  ['§3.3 startResponse must return a write function', () => serveOnce(validator(ok), environ(), (() => undefined) as unknown as StartResponse)],
  ['§3.3 the server must rethrow the error given to startResponse once the response has begun', () =>
    serveOnce(validator(async (_env, start) => {
      const write = start('200 OK', []);
      await write('sent');
      start('500 Internal Server Error', [], new Error('too late'));
      return [];
    }))],
  ['§3.5 write must return a Promise', () =>
    serveOnce(validator(async (_env, start) => {
      await start('200 OK', [])('x');
      return [];
    }), environ(), (() => () => undefined) as unknown as StartResponse)],
  ['§3.5 write called after the body was complete', async () => {
    let write: ((chunk: Chunk) => Promise<void>) | undefined;
    await serveOnce(validator((_env, start) => {
      write = start('200 OK', []);
      return [];
    }));
    await write!('late');
  }],

  // §3.2, §3.7: the body the application returns
  ['§3.2 application must return an Iterable or AsyncIterable of chunks, not a single string', () =>
    serveOnce(validator(replying('200 OK', [], 'hello' as unknown as ResponseBody)))],
  ['§3.2 application must return an Iterable or AsyncIterable of chunks', () =>
    serveOnce(validator(replying('200 OK', [], { chunks: ['x'] } as unknown as ResponseBody)))],
  ['§3.2 body chunks must be Uint8Array or string', () => serveOnce(validator(replying('200 OK', [], [42] as unknown as ResponseBody)))],
  ['§3.3 startResponse must be called before the first body chunk', () =>
    serveOnce(validator(() => (async function* () {
      yield 'too early';
    })()))],
  ['§3.3 startResponse must be called before the body ends', () => serveOnce(validator(() => []))],
  ['§3.7 a 204 response must not have a body', () => serveOnce(validator(replying('204 No Content', [], ['x'])))],
  ['§3.7 body is longer than its Content-Length of 1 bytes', () => serveOnce(validator(replying('200 OK', [['Content-Length', '1']], ['xy'])))],
  ['§3.7 body ended after 1 of its Content-Length of 2 bytes', () => serveOnce(validator(replying('200 OK', [['Content-Length', '2']], ['x'])))],

  // §3.4: how the server iterates and closes the body
  ['§3.4 the server must iterate the body only once', async () => {
    const body = (await validator(replying('200 OK', [], new Set(['x'])))(environ(), startResponse)) as Iterable<Chunk>;
    body[Symbol.iterator]();
    body[Symbol.iterator]();
  }],
  ['§3.4 the server called next() after return()', async () => {
    const body = (await validator(replying('200 OK', [], new Set(['x'])))(environ(), startResponse)) as Iterable<Chunk>;
    const iterator = body[Symbol.iterator]();
    iterator.return!();
    iterator.next();
  }],
  ['§3.4 the server called next() before the previous call settled', async () => {
    const slow = (async function* () {
      await new Promise((r) => setTimeout(r, 5));
      yield 'x';
    })();
    const body = (await validator(replying('200 OK', [], slow))(environ(), startResponse)) as AsyncIterable<Chunk>;
    const iterator = body[Symbol.asyncIterator]();
    void iterator.next();
    await iterator.next();
  }],
  ['§3.4 the server called return() twice', async () => {
    const body = (await validator(replying('200 OK', [], new Set(['x'])))(environ(), startResponse)) as Iterable<Chunk>;
    const iterator = body[Symbol.iterator]();
    iterator.return!();
    iterator.return!();
  }],
];

describe('validator', () => {
  it.each(cases)('%s', async (rule, breakIt) => {
    const failure = await (async () => breakIt())().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TsgiComplianceError);
    expect((failure as Error).message).toContain(rule);
    expect((failure as TsgiComplianceError).section).toBe(rule.split(' ')[0]);
  });

  it('reports a body iterator the server never closed (§3.4) to tsgi.errors', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const errors = memoryErrors();
    await (async () => {
      const body = (await validator(replying('200 OK', [], new Set(['x'])))(environ({ 'tsgi.errors': errors }), startResponse)) as Iterable<Chunk>;
      const iterator = body[Symbol.iterator]();
      iterator.next();
      iterator.next(); // exhausted, but never closed
    })();
    for (let i = 0; i < 20 && errors.text() === ''; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(errors.text()).toContain('§3.4 the server never called return() on the body iterator of GET /');
  });

  it('lets a compliant exchange through unchanged', async () => {
    const chunks: string[] = [];
    const app = validator((env, start) => {
      start('200 OK', [['Content-Length', '5']]);
      return (async function* () {
        yield env.PATH_INFO;
        yield 'abcd';
      })();
    });
    const body = (await app(environ(), startResponse)) as AsyncIterable<string>;
    for await (const chunk of body) chunks.push(chunk);
    expect(chunks).toEqual(['/', 'abcd']);
  });
});
