import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BodyTooLargeError,
  ClientDisconnected,
  HttpStatusError,
  createServer,
  toNodeListener,
  validator,
  type Environ,
  type FinishedRecord,
  type HeaderList,
  type TsgiApplication,
  type TsgiResponse,
} from '@carafe/gateway';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { deferred, useServers, dechunk, memoryErrors, parseResponse, problemOf, rawExchange, reply } from './helpers.js';

const serveApp = useServers();

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;

describe('response framing', () => {
  it('sends a single-chunk body with Content-Length', async () => {
    const port = await serveApp(() => reply(200, [['Content-Type', 'text/plain']], ['héllo']));
    const { headers, body } = parseResponse((await rawExchange(port, get('/'))).text);
    expect(headers['content-length']).toBe('6');
    expect(headers['transfer-encoding']).toBeUndefined();
    expect(Buffer.from(body, 'latin1').toString()).toBe('héllo');
  });

  it('sends an array of several chunks with their total Content-Length', async () => {
    const port = await serveApp(() => reply(200, [], ['ab', new TextEncoder().encode('cd'), 'e']));
    const { headers, body } = parseResponse((await rawExchange(port, get('/'))).text);
    expect(headers['content-length']).toBe('5');
    expect(body).toBe('abcde');
  });

  it('gives an async body of one chunk a Content-Length', async () => {
    const port = await serveApp(() =>
      reply(
        200,
        [],
        (async function* () {
          await sleep(5);
          yield 'only';
        })(),
      ),
    );
    const { headers, body } = parseResponse((await rawExchange(port, get('/'))).text);
    expect(headers['content-length']).toBe('4');
    expect(body).toBe('only');
  });

  it('streams a slow async body with chunked encoding, chunk by chunk', async () => {
    const release = deferred();
    const port = await serveApp(() =>
      reply(
        200,
        [['Content-Type', 'text/event-stream']],
        (async function* () {
          yield 'first;';
          await release.promise;
          yield 'second';
        })(),
      ),
    );
    let sawFirstAlone = false;
    const exchange = rawExchange(port, get('/'), {
      until: (text) => {
        if (text.includes('first;') && !text.includes('second')) {
          sawFirstAlone = true;
          release.resolve();
        }
        return false;
      },
    });
    const { headers, body } = parseResponse((await exchange).text);
    expect(sawFirstAlone).toBe(true);
    expect(headers['transfer-encoding']).toBe('chunked');
    expect(dechunk(body)).toBe('first;second');
  });

  it('streams a synchronous generator of several chunks', async () => {
    const port = await serveApp(() =>
      reply(
        200,
        [],
        (function* () {
          yield 'a';
          yield 'b';
          yield 'c';
        })(),
      ),
    );
    const { headers, body } = parseResponse((await rawExchange(port, get('/'))).text);
    expect(headers['transfer-encoding']).toBe('chunked');
    expect(dechunk(body)).toBe('abc');
  });

  it('sends an empty array as Content-Length: 0', async () => {
    const port = await serveApp(() => reply(200));
    const { headers, body } = parseResponse((await rawExchange(port, get('/'))).text);
    expect(headers['content-length']).toBe('0');
    expect(body).toBe('');
  });

  it('sends no body for HEAD but the Content-Length a GET would have', async () => {
    const port = await serveApp(() => reply(200, [], ['twelve bytes']));
    const { text, closedByServer } = await rawExchange(port, `HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    expect(closedByServer).toBe(true);
    const { headers, body } = parseResponse(text);
    expect(headers['content-length']).toBe('12');
    expect(body).toBe('');
  });

  it('sends no body and no framing for 204 and 304', async () => {
    const port = await serveApp((env) => reply(env.PATH_INFO === '/204' ? 204 : 304, [['ETag', '"x"']]));
    for (const path of ['/204', '/304']) {
      const { statusLine, headers, body } = parseResponse((await rawExchange(port, get(path))).text);
      expect(statusLine).toContain(path.slice(1));
      expect(headers['transfer-encoding']).toBeUndefined();
      expect(headers['content-length']).toBeUndefined();
      expect(body).toBe('');
    }
  });

  it('keeps repeated headers such as Set-Cookie', async () => {
    const app: TsgiApplication = () =>
      reply(
        200,
        [
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
        ],
        ['ok'],
      );
    const res = await request(toNodeListener(validator(app))).get('/');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('sends the response of an async application once its promise resolves', async () => {
    const port = await serveApp(async (env) => {
      await sleep(5);
      return reply(201, [['Location', env.PATH_INFO]], ['made']);
    });
    const { statusLine, headers, body } = parseResponse((await rawExchange(port, get('/thing'))).text);
    expect(statusLine).toBe('HTTP/1.1 201 Created');
    expect(headers.location).toBe('/thing');
    expect(headers['content-length']).toBe('4');
    expect(body).toBe('made');
  });

  it('sends the reason phrase for the status code the application gave', async () => {
    const port = await serveApp((env) => reply(Number(env.PATH_INFO.slice(1)), [], ['x']));
    for (const code of [202, 418, 503]) {
      const { statusLine } = parseResponse((await rawExchange(port, get(`/${code}`))).text);
      expect(statusLine).toBe(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}`);
    }
    expect(parseResponse((await rawExchange(port, get('/599'))).text).statusLine).toMatch(/^HTTP\/1\.1 599 /);
  });

  it("sends a synchronous application's response before the request listener returns", async () => {
    let ended: boolean | undefined;
    const listener = toNodeListener(validator(() => reply(200, [], ['now'])));
    const port = await serveApp.listen(
      http.createServer((req, res) => {
        listener(req, res);
        ended = res.writableEnded;
      }),
    );
    expect(parseResponse((await rawExchange(port, get('/'))).text).body).toBe('now');
    expect(ended).toBe(true);
  });

  it('streams close-delimited to an HTTP/1.0 client', async () => {
    const port = await serveApp(() =>
      reply(
        200,
        [],
        (async function* () {
          yield 'x';
          await sleep(5);
          yield 'y';
        })(),
      ),
    );
    const { text, closedByServer } = await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n');
    const { statusLine, headers, body } = parseResponse(text);
    expect(statusLine).toBe('HTTP/1.1 200 OK');
    expect(headers['transfer-encoding']).toBeUndefined();
    expect(closedByServer).toBe(true);
    expect(body).toBe('xy');
  });

  // An HTTP/1.1 whole body has its length written by Node from the response's `_contentLength`,
  // HTTP/1.0 and HEAD from a header added to a copy of the list (exchange.ts): every way, one
  // Content-Length line, exact, on a connection that stays usable.
  it('gives a whole body exactly one Content-Length line, on HTTP/1.1 keep-alive and on HTTP/1.0', async () => {
    const port = await serveApp((env) =>
      reply(200, [['Content-Type', 'text/plain']], env.PATH_INFO === '/two' ? ['ab', 'cde'] : ['héllo']),
    );
    const keepAlive = `GET /one HTTP/1.1\r\nHost: t\r\n\r\nGET /two HTTP/1.1\r\nHost: t\r\n\r\nGET /one HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`;
    const { text } = await rawExchange(port, keepAlive);
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(3);
    for (const [i, answer] of answers.entries()) {
      expect(answer.match(/^content-length:/gim)).toHaveLength(1);
      expect(answer).not.toMatch(/^transfer-encoding:/im);
      const { headers, body } = parseResponse(answer);
      expect(headers['content-length']).toBe(i === 1 ? '5' : '6');
      expect(Buffer.from(body, 'latin1').toString()).toBe(i === 1 ? 'abcde' : 'héllo');
    }
    const old = await rawExchange(port, 'GET /one HTTP/1.0\r\n\r\n');
    expect(old.text.match(/^content-length:/gim)).toHaveLength(1);
    expect(parseResponse(old.text).headers['content-length']).toBe('6');
    expect(old.closedByServer).toBe(true);
  });

  it('uses the Content-Length the application declared for a streamed body', async () => {
    const port = await serveApp(() =>
      reply(
        200,
        [['Content-Length', '6']],
        (async function* () {
          yield 'abc';
          await sleep(5);
          yield 'def';
        })(),
      ),
    );
    const { headers, body } = parseResponse((await rawExchange(port, get('/'))).text);
    expect(headers['content-length']).toBe('6');
    expect(headers['transfer-encoding']).toBeUndefined();
    expect(body).toBe('abcdef');
  });
});

describe('body iterator return()', () => {
  it('is called once after a body is sent in full', async () => {
    let returns = 0;
    const port = await serveApp(() => {
      const chunks = ['a', 'b'];
      return reply(200, [], {
        [Symbol.iterator]: () => ({
          next: () => (chunks.length ? { value: chunks.shift()!, done: false as const } : { value: undefined, done: true as const }),
          return: () => {
            returns++;
            return { value: undefined, done: true as const };
          },
        }),
      });
    });
    const { body } = parseResponse((await rawExchange(port, get('/'))).text);
    expect(dechunk(body)).toBe('ab');
    await expect.poll(() => returns).toBe(1);
  });

  it('is called when the client disconnects mid-stream, and tsgi.signal fires', async () => {
    const returned = deferred();
    let signal: AbortSignal | undefined;
    const finished = deferred<FinishedRecord>();
    const port = await serveApp(
      (env) => {
        signal = env['tsgi.signal'];
        return reply(
          200,
          [],
          (async function* () {
            try {
              for (let i = 0; ; i++) {
                yield `tick ${i}\n`;
                await sleep(2);
              }
            } finally {
              returned.resolve();
            }
          })(),
        );
      },
      { onFinished: (record) => finished.resolve(record) },
    );
    const { text } = await rawExchange(port, get('/'), { until: (t) => t.includes('tick 1') });
    expect(text).toContain('tick 0');
    await returned.promise;
    expect(signal?.aborted).toBe(true);
    const record = await finished.promise;
    expect(record.aborted).toBe(true);
    expect(record.status).toBe(200);
  });

  it('is called at once when the client disconnects while the body waits for its next chunk', async () => {
    const returnCalled = deferred();
    const port = await serveApp(() => {
      let sent = false;
      const never = new Promise<IteratorResult<string>>(() => {});
      return reply(200, [], {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            if (sent) return never;
            sent = true;
            return Promise.resolve({ value: 'waiting', done: false as const });
          },
          return: () => {
            returnCalled.resolve();
            return Promise.resolve({ value: undefined, done: true as const });
          },
        }),
      });
    });
    await rawExchange(port, get('/'), { until: (t) => t.includes('waiting') });
    await returnCalled.promise;
  });

  it('is called when the client is gone before the application returns its body', async () => {
    const returnCalled = deferred();
    const appDone = deferred();
    const disconnected = deferred();
    const port = await serveApp(async (env) => {
      env['tsgi.signal'].addEventListener('abort', () => disconnected.resolve());
      await disconnected.promise;
      appDone.resolve();
      // A hand-written iterator: a generator that never started would skip its finally block.
      return reply(200, [], {
        [Symbol.iterator]: () => ({
          next: () => ({ value: 'never sent', done: false as const }),
          return: () => {
            returnCalled.resolve();
            return { value: undefined, done: true as const };
          },
        }),
      });
    });
    await rawExchange(port, get('/'), { until: () => true, timeoutMs: 200 }).catch(() => undefined);
    await appDone.promise;
    await returnCalled.promise;
  });
});

describe('backpressure', () => {
  it('streams 10 MB to a slow reader, producing only what the socket can take', async () => {
    const chunk = Buffer.alloc(64 * 1024, 120);
    const total = 160; // 10 MiB
    let produced = 0;
    let maxQueued = 0;
    let response: http.ServerResponse | undefined;
    const listener = toNodeListener(
      validator(() =>
        reply(
          200,
          [['Content-Type', 'application/octet-stream']],
          (async function* () {
            for (let i = 0; i < total; i++) {
              // What the process holds beyond what the kernel accepted: the binding's and Node's queues.
              maxQueued = Math.max(maxQueued, response!.writableLength);
              produced++;
              yield chunk;
            }
          })(),
        ),
      ),
    );
    const port = await serveApp.listen(
      http.createServer((req, res) => {
        response = res;
        listener(req, res);
      }),
    );
    const received = await new Promise<{ bytes: number; samples: number[] }>((resolve, reject) => {
      http
        .get({ port, host: '127.0.0.1', path: '/' }, (res) => {
          let bytes = 0;
          const samples: number[] = [];
          res.pause();
          setTimeout(() => samples.push(produced), 200);
          setTimeout(() => {
            samples.push(produced);
            res.on('data', (data: Buffer) => (bytes += data.length));
            res.on('end', () => resolve({ bytes, samples }));
            res.resume();
          }, 300);
        })
        .on('error', reject);
    });
    expect(received.bytes).toBe(total * chunk.length);
    // While the reader is paused the producer waits: once the kernel's socket buffers are full
    // (a few MB on loopback, more on Node 24, which sizes them larger) nothing more is produced.
    const [early, late] = received.samples;
    expect(late).toBe(early);
    expect(late).toBeLessThan(total);
    // The process itself never queues more than one chunk past the stream's high-water mark.
    expect(maxQueued).toBeLessThanOrEqual(response!.writableHighWaterMark + chunk.length);
  });
});

describe('errors', () => {
  it('turns an exception before the response started into a 500 problem, logged with its stack', async () => {
    const errors = memoryErrors();
    const finished = deferred<FinishedRecord>();
    const port = await serveApp(
      () => {
        throw new Error('secret database password wrong');
      },
      { errors, onFinished: (record) => finished.resolve(record) },
    );
    const { text } = await rawExchange(port, get('/boom'));
    const problem = problemOf(text);
    expect(problem.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(problem.type).toBe('application/problem+json');
    expect(problem.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(text).not.toContain('secret');
    expect(errors.text()).toContain('GET /boom');
    expect(errors.text()).toContain('secret database password wrong');
    expect(errors.text()).toMatch(/at .*response\.test\.ts/);
    const record = await finished.promise;
    expect(record.status).toBe(500);
    expect((record.error as Error).message).toBe('secret database password wrong');
  });

  it('turns a promise that rejects before anything was sent into a 500 problem, logged', async () => {
    const errors = memoryErrors();
    const port = await serveApp(
      async () => {
        await sleep(1);
        throw new Error('late failure');
      },
      { errors },
    );
    const { text } = await rawExchange(port, get('/'));
    const problem = problemOf(text);
    expect(problem.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(problem.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(text).not.toContain('late failure');
    expect(errors.text()).toContain('late failure');
  });

  it('answers a thrown BodyTooLargeError with a 413 problem+json and does not log it', async () => {
    const errors = memoryErrors();
    const finished = deferred<FinishedRecord>();
    const port = await serveApp(
      () => {
        throw new BodyTooLargeError(10);
      },
      { errors, onFinished: (record) => finished.resolve(record) },
    );
    const { text } = await rawExchange(port, get('/'));
    const problem = problemOf(text);
    expect(problem.statusLine).toBe(`HTTP/1.1 413 ${http.STATUS_CODES[413]}`);
    expect(problem.type).toBe('application/problem+json');
    expect(problem.body).toEqual({
      type: 'about:blank',
      title: http.STATUS_CODES[413],
      status: 413,
      detail: 'The request body exceeds 10 bytes.',
    });
    const record = await finished.promise;
    expect(record.status).toBe(413);
    expect(record.error).toBeInstanceOf(BodyTooLargeError);
    expect(record.aborted).toBe(false);
    expect(errors.text()).toBe('');
  });

  it('answers a rejection with an HttpStatusError with its status and message, without a body for HEAD', async () => {
    const errors = memoryErrors();
    const port = await serveApp(
      async () => {
        await sleep(1);
        throw new HttpStatusError(503, 'The backend is down.');
      },
      { errors },
    );
    const problem = problemOf((await rawExchange(port, get('/'))).text);
    expect(problem.statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    expect(problem.body).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The backend is down.' });
    const head = await rawExchange(port, 'HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const { statusLine, headers, body } = parseResponse(head.text);
    expect(statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    expect(headers['content-type']).toBe('application/problem+json');
    expect(body).toBe('');
    expect(errors.text()).toBe('');
  });

  it('answers an HttpStatusError thrown by the body before its first chunk with that status, and calls return()', async () => {
    const returned = deferred();
    const port = await serveApp(() =>
      reply(
        200,
        [['X-Lost', 'yes']],
        // biome-ignore lint/correctness/useYield: a body that fails before its first chunk.
        (async function* () {
          try {
            await sleep(1);
            throw new HttpStatusError(409, 'Already taken.');
          } finally {
            returned.resolve();
          }
        })(),
      ),
    );
    const { text } = await rawExchange(port, get('/'));
    const problem = problemOf(text);
    expect(problem.statusLine).toBe('HTTP/1.1 409 Conflict');
    expect(problem.body).toMatchObject({ status: 409, detail: 'Already taken.' });
    expect(text.toLowerCase()).not.toContain('x-lost');
    await returned.promise;
  });

  it('does not log a ClientDisconnected the application rethrows', async () => {
    const errors = memoryErrors();
    const finished = deferred<FinishedRecord>();
    const port = await serveApp(
      () => {
        throw new ClientDisconnected();
      },
      { errors, onFinished: (record) => finished.resolve(record) },
    );
    await rawExchange(port, get('/'));
    expect((await finished.promise).error).toBeInstanceOf(ClientDisconnected);
    expect(errors.text()).toBe('');
  });

  it('aborts the connection when the body fails after the response started, and calls return()', async () => {
    const errors = memoryErrors();
    const returned = deferred();
    const finished = deferred<FinishedRecord>();
    const port = await serveApp(
      () =>
        reply(
          200,
          [],
          (async function* () {
            try {
              yield 'partial';
              await sleep(5);
              throw new Error('stream broke');
            } finally {
              returned.resolve();
            }
          })(),
        ),
      { errors, onFinished: (record) => finished.resolve(record) },
    );
    const { text, closedByServer } = await rawExchange(port, get('/'));
    expect(closedByServer).toBe(true);
    const { statusLine, body } = parseResponse(text);
    expect(statusLine).toBe('HTTP/1.1 200 OK');
    expect(body).toContain('partial');
    expect(() => dechunk(body)).toThrow(/truncated/);
    await returned.promise;
    expect(errors.text()).toContain('stream broke');
    const record = await finished.promise;
    expect(record.aborted).toBe(true);
    expect((record.error as Error).message).toBe('stream broke');
  });

  it('gives a 500 when a known body disagrees with the declared Content-Length', async () => {
    const errors = memoryErrors();
    const app: TsgiApplication = () => reply(200, [['Content-Length', '10']], ['12345']);
    // Without the validator: the binding itself refuses to send a corrupt response.
    const res = await request(toNodeListener(app, { errors })).get('/');
    expect(res.status).toBe(500);
    expect(errors.text()).toContain('§3.7 Content-Length is 10 but the body has 5 bytes');
  });

  it('cuts the connection when a streamed body overruns its Content-Length', async () => {
    const errors = memoryErrors();
    const server = createServer(
      () =>
        reply(
          200,
          [['Content-Length', '4']],
          (async function* () {
            yield 'abc';
            await sleep(5);
            yield 'def';
          })(),
        ),
      { errors },
    );
    const port = await serveApp.listen(server);
    // The keep-alive connection is closed rather than left with bytes that belong to no response.
    const { text, closedByServer } = await rawExchange(port, `GET / HTTP/1.1\r\nHost: t\r\n\r\n`);
    expect(closedByServer).toBe(true);
    expect(parseResponse(text).body).toBe('abc');
    expect(errors.text()).toContain('§3.7 body is longer than its Content-Length of 4 bytes');
  });

  it('cuts the connection when a streamed body ends short of its Content-Length', async () => {
    const errors = memoryErrors();
    const server = createServer(
      () =>
        reply(
          200,
          [['Content-Length', '10']],
          (async function* () {
            yield 'abc';
            await sleep(5);
            yield 'de';
          })(),
        ),
      { errors },
    );
    const port = await serveApp.listen(server);
    const { closedByServer } = await rawExchange(port, `GET / HTTP/1.1\r\nHost: t\r\n\r\n`);
    expect(closedByServer).toBe(true);
    expect(errors.text()).toContain('§3.7 body ended after 5 of its Content-Length of 10 bytes');
  });

  it.each([
    ['a hop-by-hop header', [['Connection', 'close']], '§3.3 hop-by-hop header "Connection" is reserved to the server'],
    ['Transfer-Encoding', [['Transfer-Encoding', 'chunked']], '§3.3 hop-by-hop header "Transfer-Encoding" is reserved to the server'],
    ['CR/LF in a value', [['X-Evil', 'a\r\nSet-Cookie: admin=1']], '§3.3 value of header "X-Evil" contains CR, LF'],
    ['LF alone in a value', [['X-Evil', 'a\nSet-Cookie: admin=1']], '§3.3 value of header "X-Evil" contains CR, LF'],
    ['CR/LF in a name', [['X-Evil\r\nSet-Cookie', 'admin=1']], '§3.3 header name "X-Evil\\r\\nSet-Cookie" is not an HTTP token'],
  ] as const)('refuses %s with a 500 and never sends it', async (_label, headers, rule) => {
    const errors = memoryErrors();
    const app: TsgiApplication = () => reply(200, headers as unknown as HeaderList, ['ok']);
    const port = await serveApp.listen(createServer(app, { errors }));
    const { text } = await rawExchange(port, get('/'));
    expect(parseResponse(text).statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(text).not.toContain('admin=1');
    expect(text.toLowerCase()).not.toContain('chunked');
    expect(errors.text()).toContain(rule);
  });

  it.each([
    ['nothing', undefined, '§3.2 application must return a response object {status, headers, body}, got undefined'],
    [
      'an array (a draft TSGI body)',
      ['hello'],
      '§3.2 application must return a response object {status, headers, body}, got an array (a body, not a response)',
    ],
    ['a string', 'hello', '§3.2 application must return a response object {status, headers, body}, got string'],
    [
      'a status line instead of a code',
      { status: '200 OK', headers: [], body: [] },
      '§3.2 status must be an integer such as 200, got "200 OK"',
    ],
    ['an interim status', { status: 101, headers: [], body: [] }, '§3.2 status 101 is not a final status (200-599)'],
    ['a status past 599', { status: 600, headers: [], body: [] }, '§3.2 status 600 is not a final status (200-599)'],
    ['headers as an object', { status: 200, headers: { 'X-A': '1' }, body: [] }, '§3.3 headers must be an array of [name, value] pairs'],
    [
      'a bare string body',
      { status: 200, headers: [], body: 'hello' },
      '§3.2 application must return an Iterable or AsyncIterable of chunks, got string',
    ],
    ['a chunk that is a number', { status: 200, headers: [], body: [42] }, '§3.2 body chunk must be a Uint8Array or a string, got number'],
    [
      'a Content-Length on a 204',
      { status: 204, headers: [['Content-Length', '0']], body: [] },
      '§3.7 a 204 response must not have a Content-Length',
    ],
    [
      'a known body that breaks its Content-Length',
      { status: 200, headers: [['Content-Length', '1']], body: ['ab'] },
      '§3.7 Content-Length is 1 but the body has 2 bytes',
    ],
    [
      'a response whose body getter throws',
      {
        status: 200,
        headers: [],
        get body(): never {
          throw new Error('getter failed');
        },
      },
      'Error: getter failed',
    ],
  ] as const)('answers an application that returns %s with a 500 (no validator), logging the rule', async (_label, returned, rule) => {
    const errors = memoryErrors();
    for (const app of [() => returned as unknown as TsgiResponse, async () => returned as unknown as TsgiResponse]) {
      const res = await request(toNodeListener(app, { errors })).get('/');
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toBe('application/problem+json');
    }
    expect(errors.text().split(rule)).toHaveLength(3);
  });

  it('still calls return() on the body of a response it refuses', async () => {
    const errors = memoryErrors();
    let returns = 0;
    const body = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ value: 'never sent', done: false as const }),
        return: () => {
          returns++;
          return Promise.resolve({ value: undefined, done: true as const });
        },
      }),
    };
    const finished = deferred<FinishedRecord>();
    const app: TsgiApplication = () => reply(200, [['Connection', 'keep-alive']], body);
    const res = await request(toNodeListener(app, { errors, onFinished: (record) => finished.resolve(record) })).get('/');
    expect(res.status).toBe(500);
    await finished.promise;
    expect(returns).toBe(1);
  });

  it('logs an error thrown by return() without changing the response', async () => {
    const errors = memoryErrors();
    const finished = deferred<FinishedRecord>();
    const app: TsgiApplication = () =>
      reply(200, [], {
        [Symbol.iterator]: () => {
          const chunks = ['a', 'b'];
          return {
            next: () => (chunks.length ? { value: chunks.shift()!, done: false as const } : { value: undefined, done: true as const }),
            return: () => {
              throw new Error('cleanup failed');
            },
          };
        },
      });
    const res = await request(toNodeListener(app, { errors, onFinished: (record) => finished.resolve(record) })).get('/');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ab');
    const record = await finished.promise;
    expect(record.aborted).toBe(false);
    expect(errors.text()).toContain('cleanup failed');
  });

  it('answers a malformed percent-encoded path with a 400 problem without calling the app', async () => {
    let called = false;
    const port = await serveApp(() => {
      called = true;
      return reply(200);
    });
    const { text } = await rawExchange(port, get('/bad%E0%A4%A'));
    const { statusLine, headers, body } = parseResponse(text);
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(called).toBe(false);
  });

  it('answers a request Node cannot parse with a 400 problem', async () => {
    const port = await serveApp(() => reply(200));
    const { text } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n');
    const { statusLine, headers } = parseResponse(text);
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(headers['content-type']).toBe('application/problem+json');
  });

  it('answers a client too slow to send its request head with a 408 problem', async () => {
    const port = await serveApp(() => reply(200), { headersTimeout: 200, requestTimeout: 300, connectionsCheckingInterval: 50 });
    const { text } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\n');
    const { statusLine, headers, body } = parseResponse(text);
    expect(statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ status: 408, detail: 'The request was not received in time.' });
  });
});

describe('onFinished', () => {
  it('is called once with what was sent', async () => {
    const records: FinishedRecord[] = [];
    const port = await serveApp(() => reply(201, [['Location', '/x']], ['made']), { onFinished: (record) => records.push(record) });
    const before = process.hrtime.bigint();
    await rawExchange(port, `POST /x?y=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    await expect.poll(() => records.length).toBe(1);
    const [record] = records as [FinishedRecord];
    expect(record.status).toBe(201);
    expect(record.bytesSent).toBe(4);
    expect(record.aborted).toBe(false);
    expect(record.error).toBeUndefined();
    expect(record.headers).toContainEqual(['Location', '/x']);
    expect(record.startTime).toBeGreaterThanOrEqual(before - 10_000_000_000n);
    expect((record.environ as Environ).RAW_URI).toBe('/x?y=1');
    await sleep(20);
    expect(records).toHaveLength(1);
  });

  it("reports a streamed body's bytes and 0 bytes for HEAD", async () => {
    const records: FinishedRecord[] = [];
    const port = await serveApp(
      () =>
        reply(
          200,
          [],
          (async function* () {
            yield 'abc';
            await sleep(2);
            yield 'defg';
          })(),
        ),
      { onFinished: (record) => records.push(record) },
    );
    await rawExchange(port, get('/'));
    await rawExchange(port, 'HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    await expect.poll(() => records.length).toBe(2);
    expect(records.map((r) => [r.environ.REQUEST_METHOD, r.bytesSent, r.aborted])).toEqual([
      ['GET', 7, false],
      ['HEAD', 0, false],
    ]);
  });
});
