import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  BodyTooLargeError,
  TsgiComplianceError,
  validator,
  type Chunk,
  type Environ,
  type ResponseBody,
  type TsgiApplication,
  type TsgiResponse,
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

/** Plays a correct server: calls the app, pulls the whole body once, calls return(). */
async function serveOnce(app: TsgiApplication, env: Environ = environ()): Promise<void> {
  const { body } = await app(env);
  const iterator =
    Symbol.asyncIterator in body ? (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]() : (body as Iterable<Chunk>)[Symbol.iterator]();
  try {
    for (;;) if ((await iterator.next()).done) break;
  } finally {
    await iterator.return?.();
  }
}

/** The body the validator hands the server for `body`, obtained the way a server would. */
async function bodyFor(body: ResponseBody, env: Environ = environ()): Promise<ResponseBody> {
  return (await validator(replying(200, [], body))(env)).body;
}

const ok: TsgiApplication = () => ({ status: 200, headers: [['Content-Type', 'text/plain']], body: ['ok'] });
/** An application that returns `response` as it is, however malformed. */
const returning =
  (response: unknown): TsgiApplication =>
  () =>
    response as TsgiResponse;
const replying = (status: unknown, headers: unknown, body: unknown = []): TsgiApplication => returning({ status, headers, body });
const streaming = (status: number, headers: Array<[string, string]>, ...chunks: unknown[]): TsgiApplication =>
  replying(
    status,
    headers,
    (async function* () {
      for (const chunk of chunks) {
        await Promise.resolve();
        yield chunk;
      }
    })(),
  );
const readAll = async (env: Environ) => {
  for await (const _chunk of env['tsgi.input']) {
    // drain
  }
};
const readingApp: TsgiApplication = async (env) => {
  await readAll(env);
  return { status: 200, headers: [], body: [] };
};

type Case = [rule: string, breakIt: () => unknown];

const cases: Case[] = [
  // §3.1, §4: the application object and its lifespan
  ['§3.1 an application must be a function', () => validator('not an app' as unknown as TsgiApplication)],
  [
    '§4 lifespan must be an object whose startup and shutdown, when present, are functions',
    () =>
      validator(
        Object.assign(() => ({ status: 200, headers: [], body: [] }), { lifespan: { startup: 'soon' } }) as unknown as TsgiApplication,
      ),
  ],
  [
    '§4 startup called twice',
    async () => {
      const app = validator(ok);
      await app.lifespan!.startup!();
      await app.lifespan!.startup!();
    },
  ],
  ['§4 shutdown called before startup', () => validator(ok).lifespan!.shutdown!()],
  [
    '§4 shutdown called twice',
    async () => {
      const app = validator(ok);
      await app.lifespan!.startup!();
      await app.lifespan!.shutdown!();
      await app.lifespan!.shutdown!();
    },
  ],
  [
    '§4 the server called the application after shutdown',
    async () => {
      const app = validator(ok);
      await app.lifespan!.startup!();
      await app.lifespan!.shutdown!();
      await serveOnce(app);
    },
  ],

  // §2: the environ the server builds
  ['§2.1 environ must be an object', () => serveOnce(validator(ok), null as unknown as Environ)],
  ['§2.1 environ must be a plain object', () => serveOnce(validator(ok), Object.assign(new Map(), environ()) as unknown as Environ)],
  [
    '§2.1 PATH_INFO must be an own, enumerable property of the environ',
    () => serveOnce(validator(ok), Object.defineProperty(environ(), 'PATH_INFO', { value: '/', enumerable: false })),
  ],
  ['§2.4 extension key "route" must contain a dot', () => serveOnce(validator(ok), environ({ route: '/x' }))],
  ['§2.2 REQUEST_METHOD must be a non-empty token', () => serveOnce(validator(ok), environ({ REQUEST_METHOD: 'GE T' }))],
  ['§2.2 REMOTE_ADDR must be a string', () => serveOnce(validator(ok), environ({ REMOTE_ADDR: undefined }))],
  [
    '§2.2 SCRIPT_NAME must be empty or start with "/" and not end with "/"',
    () => serveOnce(validator(ok), environ({ SCRIPT_NAME: '/app/' })),
  ],
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

  // §2.5: what the server yields from tsgi.input
  [
    '§2.5 next() on tsgi.input must return a Promise',
    () => serveOnce(validator(readingApp), environ({ 'tsgi.input': { [Symbol.asyncIterator]: () => ({ next: () => ({ done: true }) }) } })),
  ],
  [
    '§2.5 tsgi.input must yield Uint8Array chunks',
    () => serveOnce(validator(readingApp), environ({ CONTENT_LENGTH: '3', 'tsgi.input': input(['abc']) })),
  ],
  [
    '§2.5 tsgi.input yielded more than CONTENT_LENGTH (2) bytes',
    () => serveOnce(validator(readingApp), environ({ CONTENT_LENGTH: '2', 'tsgi.input': input([new Uint8Array(3)]) })),
  ],
  [
    '§2.5 tsgi.input ended after 1 of CONTENT_LENGTH 3 bytes without an error',
    () => serveOnce(validator(readingApp), environ({ CONTENT_LENGTH: '3', 'tsgi.input': input([new Uint8Array(1)]) })),
  ],

  [
    '§2.5 the application called next() on tsgi.input before the previous call settled',
    () =>
      serveOnce(
        validator(async (env) => {
          const iterator = env['tsgi.input'][Symbol.asyncIterator]();
          await Promise.all([iterator.next(), iterator.next()]);
          return { status: 200, headers: [], body: [] };
        }),
        environ({ CONTENT_LENGTH: '2', 'tsgi.input': input([new Uint8Array(1), new Uint8Array(1)]) }),
      ),
  ],

  // §2.3: what the application writes to tsgi.errors
  [
    '§2.3 tsgi.errors.write takes a string',
    () =>
      serveOnce(
        validator((env) => {
          env['tsgi.errors'].write({ not: 'a string' } as unknown as string);
          return { status: 200, headers: [], body: [] };
        }),
      ),
  ],

  // §3.2: the response object
  [
    '§3.2 application must return a response object {status, headers, body}, got undefined',
    () => serveOnce(validator(returning(undefined))),
  ],
  [
    '§3.2 application must return a response object {status, headers, body}, got null',
    () => serveOnce(validator(async () => null as unknown as TsgiResponse)),
  ],
  [
    '§3.2 application must return a response object {status, headers, body}, got an array (a body, not a response)',
    () => serveOnce(validator(returning(['hello']))),
  ],
  ['§3.2 application must return a response object {status, headers, body}, got string', () => serveOnce(validator(returning('200 OK')))],

  // §3.2: status
  ['§3.2 status must be an integer such as 200, got "200 OK"', () => serveOnce(validator(replying('200 OK', [])))],
  ['§3.2 status must be an integer such as 200, got "200"', () => serveOnce(validator(replying('200', [])))],
  ['§3.2 status must be an integer such as 200, got undefined', () => serveOnce(validator(returning({ headers: [], body: [] })))],
  ['§3.2 status must be an integer such as 200, got number', () => serveOnce(validator(replying(200.5, [])))],
  ['§3.2 status 101 is not a final status (200-599)', () => serveOnce(validator(replying(101, [])))],
  ['§3.2 status 100 is not a final status (200-599)', () => serveOnce(validator(async () => ({ status: 100, headers: [], body: [] })))],
  ['§3.2 status 600 is not a final status (200-599)', () => serveOnce(validator(replying(600, [])))],

  // §3.3: headers
  ['§3.3 headers must be an array of [name, value] pairs', () => serveOnce(validator(replying(200, { 'Content-Type': 'text/plain' })))],
  ['§3.3 headers must be an array of [name, value] pairs', () => serveOnce(validator(returning({ status: 200, body: [] })))],
  ['§3.3 each header must be a [name, value] pair', () => serveOnce(validator(replying(200, [['Content-Type']])))],
  ['§3.3 header name must be a string', () => serveOnce(validator(replying(200, [[1, 'x']])))],
  ['§3.3 value of header "X-Count" must be a string', () => serveOnce(validator(replying(200, [['X-Count', 3]])))],
  ['§3.3 header name "Bad Name" is not an HTTP token', () => serveOnce(validator(replying(200, [['Bad Name', 'x']])))],
  ['§3.3 header name "X-A\\r\\nX-B" is not an HTTP token', () => serveOnce(validator(replying(200, [['X-A\r\nX-B', 'x']])))],
  ['§3.3 value of header "X-Evil" contains CR, LF', () => serveOnce(validator(replying(200, [['X-Evil', 'a\r\nSet-Cookie: admin=1']])))],
  ['§3.3 value of header "X-Evil" contains CR, LF', () => serveOnce(validator(replying(200, [['X-Evil', 'a\nb']])))],
  ['§3.3 hop-by-hop header "Connection" is reserved to the server', () => serveOnce(validator(replying(200, [['Connection', 'close']])))],
  [
    '§3.3 hop-by-hop header "Transfer-Encoding" is reserved to the server',
    () => serveOnce(validator(replying(200, [['Transfer-Encoding', 'chunked']]))),
  ],
  [
    '§3.3 hop-by-hop header "keep-alive" is reserved to the server',
    () => serveOnce(validator(replying(200, [['keep-alive', 'timeout=5']]))),
  ],
  ['§3.3 Content-Length "1e3" is not a non-negative integer', () => serveOnce(validator(replying(200, [['Content-Length', '1e3']])))],
  [
    '§3.3 Content-Length given twice with different values',
    () =>
      serveOnce(
        validator(
          replying(
            200,
            [
              ['Content-Length', '1'],
              ['content-length', '2'],
            ],
            ['x'],
          ),
        ),
      ),
  ],

  // §3.2: the body
  [
    '§3.2 body must be an Iterable or AsyncIterable of chunks, not a single string or Uint8Array',
    () => serveOnce(validator(replying(200, [], 'hello'))),
  ],
  [
    '§3.2 body must be an Iterable or AsyncIterable of chunks, not a single string or Uint8Array',
    () => serveOnce(validator(replying(200, [], new TextEncoder().encode('hello')))),
  ],
  [
    '§3.2 body must be an Iterable or AsyncIterable of chunks, got Object',
    () => serveOnce(validator(replying(200, [], { chunks: ['x'] }))),
  ],
  [
    '§3.2 body must be an Iterable or AsyncIterable of chunks, got undefined',
    () => serveOnce(validator(returning({ status: 200, headers: [] }))),
  ],
  ['§3.2 body must be an Iterable or AsyncIterable of chunks, got number', () => serveOnce(validator(replying(200, [], 42)))],
  ['§3.2 body chunks must be Uint8Array or string, got number', () => serveOnce(validator(replying(200, [], [42])))],
  ['§3.2 body chunks must be Uint8Array or string, got an array', () => serveOnce(validator(replying(200, [], [['nested']])))],
  ['§3.2 body chunks must be Uint8Array or string, got Object', () => serveOnce(validator(streaming(200, [], 'fine', { not: 'a chunk' })))],
  [
    '§3.2 body chunks must be Uint8Array or string, got Promise',
    () => serveOnce(validator(replying(200, [], new Set([Promise.resolve('x')])))),
  ],

  // §3.7: framing
  ['§3.7 a 204 response must not have a body', () => serveOnce(validator(replying(204, [], ['x'])))],
  ['§3.7 a 304 response must not have a body', () => serveOnce(validator(streaming(304, [], 'x')))],
  ['§3.7 a 204 response must not have a Content-Length', () => serveOnce(validator(replying(204, [['Content-Length', '0']])))],
  ['§3.7 body is longer than its Content-Length of 1 bytes', () => serveOnce(validator(replying(200, [['Content-Length', '1']], ['xy'])))],
  [
    '§3.7 body is longer than its Content-Length of 3 bytes',
    () => serveOnce(validator(streaming(200, [['Content-Length', '3']], 'ab', 'cd'))),
  ],
  ['§3.7 body ended after 1 of its Content-Length of 2 bytes', () => serveOnce(validator(replying(200, [['Content-Length', '2']], ['x'])))],
  [
    '§3.7 body ended after 2 of its Content-Length of 5 bytes',
    () => serveOnce(validator(streaming(200, [['Content-Length', '5']], 'a', 'b'))),
  ],
  ['§3.7 body ended after 0 of its Content-Length of 5 bytes', () => serveOnce(validator(replying(200, [['Content-Length', '5']], [])))],
  [
    '§3.7 body ended after 0 of its Content-Length of 5 bytes',
    () => serveOnce(validator(async () => ({ status: 200, headers: [['Content-Length', '5']], body: [] }))),
  ],

  // §3.4: how the server iterates and closes the body
  [
    '§3.4 the server must iterate the body only once',
    async () => {
      const body = (await bodyFor(new Set(['x']))) as Iterable<Chunk>;
      body[Symbol.iterator]();
      body[Symbol.iterator]();
    },
  ],
  [
    '§3.4 the server called next() after return()',
    async () => {
      const iterator = ((await bodyFor(new Set(['x']))) as Iterable<Chunk>)[Symbol.iterator]();
      iterator.return!();
      iterator.next();
    },
  ],
  [
    '§3.4 the server called next() before the previous call settled',
    async () => {
      const slow = (async function* () {
        await new Promise((r) => setTimeout(r, 5));
        yield 'x';
      })();
      const iterator = ((await bodyFor(slow)) as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
      void iterator.next();
      await iterator.next();
    },
  ],
  [
    '§3.4 the server called return() twice',
    async () => {
      const iterator = ((await bodyFor(new Set(['x']))) as Iterable<Chunk>)[Symbol.iterator]();
      iterator.return!();
      iterator.return!();
    },
  ],
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
      const body = (await bodyFor(new Set(['x']), environ({ 'tsgi.errors': errors }))) as Iterable<Chunk>;
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

  it('reports nothing for a body iterator the server closed', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const errors = memoryErrors();
    await serveOnce(validator(streaming(200, [], 'a', 'b')), environ({ 'tsgi.errors': errors }));
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(errors.text()).toBe('');
  });

  it('lets a compliant streamed exchange through, as a new response object around the same headers', async () => {
    const chunks: string[] = [];
    let returned = 0;
    const headers: Array<[string, string]> = [['Content-Length', '5']];
    const original: TsgiResponse = {
      status: 200,
      headers,
      body: {
        [Symbol.asyncIterator]: () => {
          const queue = ['/', 'abcd'];
          return {
            next: async () => (queue.length ? { value: queue.shift()!, done: false as const } : { value: undefined, done: true as const }),
            return: async () => {
              returned++;
              return { value: undefined, done: true as const };
            },
          };
        },
      },
    };
    const originalBody = original.body;
    const response = await validator(() => original)(environ());
    expect(response).not.toBe(original);
    expect(response.status).toBe(200);
    expect(response.headers).toBe(headers);
    // §5.4: the application's response is not modified.
    expect(original.body).toBe(originalBody);
    expect(headers).toEqual([['Content-Length', '5']]);
    const iterator = (response.body as AsyncIterable<string>)[Symbol.asyncIterator]();
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) chunks.push(step.value);
    await iterator.return!();
    expect(chunks).toEqual(['/', 'abcd']);
    expect(returned).toBe(1);
  });

  it('hands an array body to the server as it is', async () => {
    const body = ['a', new Uint8Array([98])];
    const response = await validator(() => ({ status: 200, headers: [['Content-Length', '2']], body }))(environ());
    expect(response.body).toBe(body);
  });

  it('keeps a synchronous application synchronous, and an asynchronous one asynchronous', async () => {
    const sync = validator(ok)(environ());
    expect(sync).not.toBeInstanceOf(Promise);
    expect((sync as TsgiResponse).status).toBe(200);
    const later = validator(async () => ({ status: 201, headers: [], body: [] }))(environ());
    expect(later).toBeInstanceOf(Promise);
    expect((await later).status).toBe(201);
  });

  it.each([
    ['HEAD with the Content-Length a GET would have and no body', 'HEAD', 200, [['Content-Length', '5']], []],
    ['HEAD with the whole body', 'HEAD', 200, [['Content-Length', '5']], ['hello']],
    [
      '304 with the Content-Length of the 200 and no body',
      'GET',
      304,
      [
        ['Content-Length', '5'],
        ['ETag', '"v1"'],
      ],
      [],
    ],
    ['204 with no body and no Content-Length', 'GET', 204, [], ['']],
    ['every status from 200 to 599', 'GET', 599, [], []],
    [
      'repeated headers and an equal repeated Content-Length',
      'GET',
      200,
      [
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Content-Length', '2'],
        ['content-length', '2'],
      ],
      ['ok'],
    ],
    ['tab and obs-text in a header value', 'GET', 200, [['X-Text', 'a\tb \u00e9']], []],
  ] as const)('accepts %s', async (_label, method, status, headers, body) => {
    await expect(serveOnce(validator(replying(status, headers, body)), environ({ REQUEST_METHOD: method }))).resolves.toBeUndefined();
  });

  it('passes an HttpStatusError from the application through unchanged', async () => {
    const error = new BodyTooLargeError(10);
    const app = validator(() => {
      throw error;
    });
    expect(() => app(environ())).toThrow(error);
    await expect(validator(async () => Promise.reject(error))(environ())).rejects.toBe(error);
  });

  it("runs the application's own lifespan hooks, in order", async () => {
    const events: string[] = [];
    const app: TsgiApplication = () => ({ status: 200, headers: [], body: [] });
    app.lifespan = { startup: () => void events.push('startup'), shutdown: async () => void events.push('shutdown') };
    const checked = validator(app);
    await checked.lifespan!.startup!();
    await serveOnce(checked);
    await checked.lifespan!.shutdown!();
    expect(events).toEqual(['startup', 'shutdown']);
  });
});
