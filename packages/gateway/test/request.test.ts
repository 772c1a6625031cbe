import { createHash } from 'node:crypto';
import http, { STATUS_CODES } from 'node:http';
import {
  BodyTooLargeError,
  ClientDisconnected,
  HttpStatusError,
  createServer,
  validator,
  type Environ,
  type FinishedRecord,
  type TsgiApplication,
} from '@carafe/gateway';
import { describe, expect, it, vi } from 'vitest';
import { deferred, useServers, dechunk, memoryErrors, parseResponse, problemOf, rawExchange, reply } from './helpers.js';

const serveApp = useServers();
/** `413 Payload Too Large` or `413 Content Too Large`, as this Node version words it. */
const statusLine413 = `413 ${STATUS_CODES[413]}`;

/** Echoes the body and how it arrived: "<chunks>:<bytes>:<body>". */
const echo: TsgiApplication = async (env) => {
  const parts: Uint8Array[] = [];
  for await (const chunk of env['tsgi.input']) parts.push(chunk);
  const body = Buffer.concat(parts);
  return reply(200, [['Content-Type', 'text/plain']], [`${env.CONTENT_LENGTH ?? '-'}:${body.length}:${body.toString()}`]);
};

/** Captures the environ of each request (copied: the binding owns the original after the response). */
function capture(): { app: TsgiApplication; seen: Environ[] } {
  const seen: Environ[] = [];
  return {
    seen,
    app: (env) => {
      seen.push({ ...env });
      return reply(200);
    },
  };
}

describe('tsgi.input', () => {
  it('yields a Content-Length body exactly', async () => {
    const port = await serveApp(echo);
    const { text } = await rawExchange(
      port,
      ['POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello', ' world'],
      { gapMs: 10 },
    );
    expect(parseResponse(text).body).toBe('11:11:hello world');
  });

  it("reads a body that came with its headers at once, without waiting for Node's 'readable'", async () => {
    // The app reads as it is called, inside the parser's callback for the headers: the body of the
    // same read is pushed right after, and the first read takes it from there (see RequestBody's
    // pollLater) rather than through a 'readable' listener and Node's nextTick.
    const readableListeners: string[] = [];
    const on = http.IncomingMessage.prototype.on;
    const spy = vi.spyOn(http.IncomingMessage.prototype, 'on').mockImplementation(function (this: http.IncomingMessage, event, listener) {
      if (event === 'readable') readableListeners.push(String(event));
      return on.call(this, event, listener);
    });
    try {
      const port = await serveApp(echo);
      const body = 'x'.repeat(1000);
      const { text } = await rawExchange(port, `POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n${body}`);
      expect(parseResponse(text).body).toBe(`1000:1000:${body}`);
      expect(readableListeners).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it('yields a chunked body without its framing', async () => {
    const port = await serveApp(echo);
    const { text } = await rawExchange(
      port,
      [
        'POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n',
        '5\r\nhello\r\n',
        '6\r\n world\r\n0\r\n\r\n',
      ],
      { gapMs: 10 },
    );
    expect(parseResponse(text).body).toBe('-:11:hello world');
  });

  it('is empty for an empty body and for a GET', async () => {
    const port = await serveApp(echo);
    const post = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    expect(parseResponse(post.text).body).toBe('0:0:');
    const get = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(parseResponse(get.text).body).toBe('-:0:');
  });

  it('never yields the next request of a pipelined connection', async () => {
    const port = await serveApp(echo);
    const { text } = await rawExchange(
      port,
      'POST /1 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc' +
        'POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nde',
    );
    expect(text).toContain('\r\n\r\n3:3:abcHTTP/1.1 200 OK');
    expect(text).toMatch(/\r\n\r\n2:2:de$/);
  });

  it('streams a 10 MB upload in pieces, never holding it whole', async () => {
    let largest = 0;
    let total = 0;
    const hash = createHash('sha256');
    const port = await serveApp(async (env) => {
      for await (const chunk of env['tsgi.input']) {
        largest = Math.max(largest, chunk.byteLength);
        total += chunk.byteLength;
        hash.update(chunk);
      }
      return reply(200, [], [hash.digest('hex')]);
    });
    const piece = Buffer.alloc(1024 * 1024, 'z');
    const expected = createHash('sha256');
    const response = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'Content-Length': 10 * piece.length } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 10) {
          sent++;
          expected.update(piece);
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(total).toBe(10 * piece.length);
    expect(response).toBe(expected.digest('hex'));
    expect(largest).toBeLessThan(2 * 1024 * 1024);
  });

  it('fails the read when the client disconnects mid-body', async () => {
    const failure = deferred<unknown>();
    const errors = memoryErrors();
    const port = await serveApp(
      async (env) => {
        try {
          for await (const _chunk of env['tsgi.input']) {
            // reading until the client goes away
          }
        } catch (error) {
          failure.resolve(error);
        }
        return reply(200);
      },
      { errors },
    );
    await rawExchange(port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b', {
      until: () => true,
      timeoutMs: 100,
    }).catch(() => undefined);
    expect(await failure.promise).toBeInstanceOf(ClientDisconnected);
    await new Promise((r) => setTimeout(r, 20));
    expect(errors.text()).toBe('');
  });

  it('does not log a ClientDisconnected the application lets propagate', async () => {
    const errors = memoryErrors();
    const finished = deferred<FinishedRecord>();
    const port = await serveApp(
      async (env) => {
        for await (const _chunk of env['tsgi.input']) {
          // reading until the client goes away; the error escapes the app
        }
        return reply(200);
      },
      { errors, onFinished: (record) => finished.resolve(record) },
    );
    await rawExchange(port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b', {
      until: () => true,
      timeoutMs: 100,
    }).catch(() => undefined);
    const record = await finished.promise;
    expect(record.error).toBeInstanceOf(ClientDisconnected);
    expect(record.aborted).toBe(true);
    expect(errors.text()).toBe('');
  });

  it('leaves a keep-alive connection usable when the app ignores the body', async () => {
    const port = await serveApp((env) => reply(200, [], [env.PATH_INFO]));
    const { text } = await rawExchange(
      port,
      'POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello' + 'GET /second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    );
    expect(text).toContain('/first');
    expect(text).toContain('/second');
  });

  it('leaves a keep-alive connection usable when the app stops reading early', async () => {
    const port = await serveApp(async (env) => {
      for await (const _chunk of env['tsgi.input']) break;
      return reply(200, [], [env.PATH_INFO]);
    });
    const { text } = await rawExchange(
      port,
      [
        'POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello',
        'world' + 'GET /second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
      ],
      { gapMs: 20 },
    );
    expect(text).toContain('/first');
    expect(text).toContain('/second');
  });
});

describe('Expect: 100-continue', () => {
  const expecting = 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n';

  it('sends 100 Continue when the application reads the body', async () => {
    const errors = memoryErrors();
    const port = await serveApp(echo, { errors });
    const { text } = await rawExchange(port, expecting, { until: (received) => received.includes('\r\n\r\n') });
    expect(text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const full = await new Promise<string>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', headers: { Expect: '100-continue', 'Content-Length': 4 } });
      req.on('continue', () => req.end('body'));
      req.on('response', (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
    });
    expect(full).toBe('4:4:body');
    // The first client left after the 100: its request failed, which is not logged as an app error.
    expect(errors.text()).toBe('');
  });

  it('answers without 100 Continue, and closes, when the application does not read the body', async () => {
    const port = await serveApp(() => reply(413, [], ['too big']));
    const { text, closedByServer } = await rawExchange(port, expecting);
    expect(text).not.toContain('100 Continue');
    const { statusLine, headers } = parseResponse(text);
    expect(statusLine).toBe(`HTTP/1.1 ${statusLine413}`);
    expect(headers.connection).toBe('close');
    expect(closedByServer).toBe(true);
  });

  it('answers a BodyTooLargeError thrown before reading with its 413, without 100 Continue, and closes', async () => {
    const errors = memoryErrors();
    const port = await serveApp(
      (env) => {
        if (Number(env.CONTENT_LENGTH) > 2) throw new BodyTooLargeError(2);
        return reply(200);
      },
      { errors },
    );
    const { text, closedByServer } = await rawExchange(port, expecting);
    expect(text).not.toContain('100 Continue');
    const problem = problemOf(text);
    expect(problem.statusLine).toBe(`HTTP/1.1 ${statusLine413}`);
    expect(problem.body).toMatchObject({ status: 413, detail: 'The request body exceeds 2 bytes.' });
    expect(closedByServer).toBe(true);
    expect(errors.text()).toBe('');
  });
});

describe('HttpStatusError from the application', () => {
  /** Reads the body, throwing a BodyTooLargeError once more than `limit` bytes arrived. */
  const limited =
    (limit: number): TsgiApplication =>
    async (env) => {
      let size = 0;
      for await (const chunk of env['tsgi.input']) {
        size += chunk.byteLength;
        if (size > limit) throw new BodyTooLargeError(limit);
      }
      return reply(200, [], [`${size}`]);
    };

  it('answers a BodyTooLargeError with a 413 problem, does not log it, and closes a connection whose body was not read', async () => {
    const errors = memoryErrors();
    const finished = deferred<FinishedRecord>();
    const port = await serveApp(limited(10), { errors, onFinished: (record) => finished.resolve(record) });
    // The client sends 20 of the 100 bytes it announced and waits: the rest of the body is never read.
    const { text, closedByServer } = await rawExchange(port, `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n${'x'.repeat(20)}`);
    const problem = problemOf(text);
    expect(problem.statusLine).toBe(`HTTP/1.1 ${statusLine413}`);
    expect(problem.type).toBe('application/problem+json');
    expect(problem.body).toEqual({
      type: 'about:blank',
      title: STATUS_CODES[413],
      status: 413,
      detail: 'The request body exceeds 10 bytes.',
    });
    expect(parseResponse(text).headers.connection).toBe('close');
    expect(closedByServer).toBe(true);
    const record = await finished.promise;
    expect(record.status).toBe(413);
    expect(record.error).toBeInstanceOf(BodyTooLargeError);
    expect(errors.text()).toBe('');
  });

  it('keeps the connection when the body was read in full', async () => {
    const errors = memoryErrors();
    const port = await serveApp(
      async (env) => {
        for await (const _chunk of env['tsgi.input']) {
          // read it all
        }
        if (env.PATH_INFO === '/bad') throw new HttpStatusError(422, 'The widget is not valid.');
        return reply(200, [], ['second']);
      },
      { errors },
    );
    const { text, closedByServer } = await rawExchange(
      port,
      'POST /bad HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello' + 'GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    );
    expect(text).toMatch(/^HTTP\/1\.1 422 Unprocessable Entity\r\n/);
    expect(text).toContain('"detail":"The widget is not valid."');
    expect(text).toMatch(/HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nsecond$/);
    expect(closedByServer).toBe(true);
    expect(errors.text()).toBe('');
  });

  it('keeps a keep-alive connection when a request without a body is refused synchronously', async () => {
    const port = await serveApp((env) => {
      if (env.PATH_INFO === '/gone') throw new HttpStatusError(410, 'It left.');
      return reply(200, [], ['after']);
    });
    const { text } = await rawExchange(
      port,
      'GET /gone HTTP/1.1\r\nHost: t\r\n\r\n' + 'GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    );
    expect(text).toMatch(/^HTTP\/1\.1 410 Gone\r\n/);
    expect(text.split('\r\n\r\n')[0]!.toLowerCase()).not.toContain('connection: close');
    expect(text).toMatch(/\r\n\r\nafter$/);
  });
});

describe('requests Node refuses', () => {
  it('answers Content-Length together with Transfer-Encoding (request smuggling) with a 400, without calling the app', async () => {
    let called = false;
    const port = await serveApp(() => {
      called = true;
      return reply(200);
    });
    const { text, closedByServer } = await rawExchange(
      port,
      'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n',
    );
    const problem = problemOf(text);
    expect(problem.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(problem.type).toBe('application/problem+json');
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(closedByServer).toBe(true);
    expect(called).toBe(false);
  });
});

describe('createServer seams', () => {
  it('admit() answering and returning false keeps the request from the app', async () => {
    const seen: string[] = [];
    const port = await serveApp.listen(
      createServer(
        validator((env) => reply(200, [], [`app saw ${env.PATH_INFO}`])),
        {
          admit: (req, res) => {
            seen.push(req.url!);
            if (req.url !== '/blocked') return true;
            res.statusCode = 429;
            res.setHeader('Content-Type', 'text/plain');
            res.end('slow down');
            return false;
          },
        },
      ),
    );
    const blocked = parseResponse((await rawExchange(port, 'GET /blocked HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')).text);
    expect(blocked.statusLine).toBe('HTTP/1.1 429 Too Many Requests');
    expect(blocked.body).toBe('slow down');
    const open = parseResponse((await rawExchange(port, 'GET /open HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')).text);
    expect(open.body).toBe('app saw /open');
    expect(seen).toEqual(['/blocked', '/open']);
  });

  it('admit() is asked about an Expect: 100-continue request before any 100 Continue is sent', async () => {
    let called = false;
    const port = await serveApp.listen(
      createServer(
        validator(async (env) => {
          called = true;
          return echo(env);
        }),
        {
          admit: (req, res) => {
            if (Number(req.headers['content-length']) <= 4) return true;
            res.writeHead(413).end();
            return false;
          },
        },
      ),
    );
    const refused = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    expect(refused.text).not.toContain('100 Continue');
    expect(parseResponse(refused.text).statusLine).toBe(`HTTP/1.1 ${statusLine413}`);
    expect(called).toBe(false);
    const admitted = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n', {
      until: (received) => received.includes('\r\n\r\n'),
    });
    expect(admitted.text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
  });

  it('onClientError replaces the answer to requests Node cannot parse', async () => {
    const codes: string[] = [];
    const port = await serveApp.listen(
      createServer(
        validator(() => reply(200)),
        {
          onClientError: (error, socket) => {
            codes.push(error.code ?? '');
            socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 6\r\nConnection: close\r\n\r\ncustom');
          },
        },
      ),
    );
    const { text } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n');
    expect(parseResponse(text).body).toBe('custom');
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatch(/^HPE_/);
  });
});

describe('environ', () => {
  it('has the CGI keys, RAW_URI and the tsgi keys', async () => {
    const { app, seen } = capture();
    const port = await serveApp(app, { multiprocess: true, urlScheme: 'https' });
    await rawExchange(
      port,
      'POST /caf%C3%A9/a%2Fb?q=%20x&y HTTP/1.1\r\nHost: example.org:8443\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n' +
        'X-Custom-Header: one\r\nConnection: close\r\n\r\nhi',
    );
    const env = seen[0]!;
    expect(env).toMatchObject({
      REQUEST_METHOD: 'POST',
      SCRIPT_NAME: '',
      PATH_INFO: '/café/a/b',
      QUERY_STRING: 'q=%20x&y',
      RAW_URI: '/caf%C3%A9/a%2Fb?q=%20x&y',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '2',
      SERVER_NAME: 'example.org',
      SERVER_PORT: '8443',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'example.org:8443',
      HTTP_X_CUSTOM_HEADER: 'one',
      HTTP_CONNECTION: 'close',
      'tsgi.version': [1, 0],
      'tsgi.url_scheme': 'https',
      'tsgi.multiprocess': true,
      'tsgi.multithread': false,
      'tsgi.run_once': false,
    });
    expect(env.REMOTE_PORT).toMatch(/^\d+$/);
    expect(env).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(env).not.toHaveProperty('HTTP_CONTENT_LENGTH');
    expect(env['tsgi.signal']).toBeInstanceOf(AbortSignal);
    expect(env['tsgi.errors']).toHaveProperty('write');
  });

  it('joins repeated headers with ", " and cookies with "; "', async () => {
    const { app, seen } = capture();
    const port = await serveApp(app);
    await rawExchange(
      port,
      'GET / HTTP/1.1\r\nHost: t\r\nAccept: text/html\r\naccept: application/json\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n',
    );
    expect(seen[0]).toMatchObject({ HTTP_ACCEPT: 'text/html, application/json', HTTP_COOKIE: 'a=1; b=2' });
  });

  it('drops header names with "_" so they cannot pose as a "-" header', async () => {
    const { app, seen } = capture();
    const port = await serveApp(app);
    await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nX_Forwarded_For: 6.6.6.6\r\nConnection: close\r\n\r\n');
    expect(seen[0]).not.toHaveProperty('HTTP_X_FORWARDED_FOR');
  });

  it('takes the server name from the socket when there is no Host header', async () => {
    const { app, seen } = capture();
    const port = await serveApp(app);
    await rawExchange(port, 'GET /old HTTP/1.0\r\n\r\n');
    expect(seen[0]).toMatchObject({ SERVER_NAME: '127.0.0.1', SERVER_PORT: String(port), SERVER_PROTOCOL: 'HTTP/1.0' });
  });

  // Targets of at most 12 characters are scanned by hand, longer ones searched (environ.ts): both
  // must split, decode and refuse alike.
  it.each([
    ['/a%2Fb?c%20', '/a/b', 'c%20'],
    ['/long/a%2Fb/path?c%20&d=%', '/long/a/b/path', 'c%20&d=%'],
    ['/a?b?c', '/a', 'b?c'],
    ['/a/very/long/path?b?c', '/a/very/long/path', 'b?c'],
    ['/q?', '/q', ''],
    ['/%E2%82%AC', '/€', ''],
  ])('splits the target %s into PATH_INFO and QUERY_STRING', async (target, path, query) => {
    const { app, seen } = capture();
    const port = await serveApp(app);
    await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    expect(seen[0]).toMatchObject({ PATH_INFO: path, QUERY_STRING: query, RAW_URI: target });
  });

  it.each(['/a#b', '/?x#y', '/a/very/long/path#b', '/a/very/long/path?x#y', '/%FF', '/a/very/long/%FF'])(
    'answers the target %s with a 400 problem, without the application',
    async (target) => {
      const { app, seen } = capture();
      const port = await serveApp(app);
      const { text } = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      const response = parseResponse(text);
      expect(response.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(seen).toHaveLength(0);
    },
  );

  it('maps an absolute-form target to its path', async () => {
    const { app, seen } = capture();
    const port = await serveApp(app);
    await rawExchange(port, 'GET http://example.org/a/b?c=d HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n');
    expect(seen[0]).toMatchObject({ PATH_INFO: '/a/b', QUERY_STRING: 'c=d', RAW_URI: 'http://example.org/a/b?c=d' });
  });

  it('is a plain object whose copies carry a working tsgi.signal', async () => {
    const copies = deferred<{ plain: boolean; copy: Environ; keys: string[] }>();
    const port = await serveApp((env) => {
      const copy = { ...env };
      copies.resolve({ plain: Object.getPrototypeOf(env) === Object.prototype, copy, keys: Object.keys(env) });
      return reply(200);
    });
    await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const { plain, copy, keys } = await copies.promise;
    expect(plain).toBe(true);
    expect(keys).toContain('tsgi.signal');
    expect(copy['tsgi.signal']).toBeInstanceOf(AbortSignal);
    expect(Object.getOwnPropertyDescriptor(copy, 'tsgi.signal')).toHaveProperty('value');
  });

  it('lets middleware replace tsgi.signal by assignment', async () => {
    const seen = deferred<boolean>();
    const replacement = new AbortController().signal;
    const port = await serveApp((env) => {
      env['tsgi.signal'] = replacement;
      seen.resolve(env['tsgi.signal'] === replacement);
      return reply(200);
    });
    await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(await seen.promise).toBe(true);
  });
});

describe('hand-written HTTP/1.1', () => {
  it('serves several keep-alive requests on one connection', async () => {
    const port = await serveApp((env) => reply(200, [['Content-Type', 'text/plain']], [`${env.REQUEST_METHOD} ${env.PATH_INFO}`]));
    const { text } = await rawExchange(
      port,
      'GET /a HTTP/1.1\r\nHost: t\r\n\r\nHEAD /b HTTP/1.1\r\nHost: t\r\n\r\nDELETE /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    );
    const statuses = text.match(/HTTP\/1\.1 200 OK/g) ?? [];
    expect(statuses).toHaveLength(3);
    expect(text).toContain('GET /a');
    expect(text).not.toContain('HEAD /b');
    expect(text).toContain('DELETE /c');
  });

  it('streams a response chunk by chunk to a raw client', async () => {
    const port = await serveApp(() =>
      reply(
        200,
        [],
        (async function* () {
          for (let i = 0; i < 3; i++) {
            await new Promise((r) => setTimeout(r, 2));
            yield `${i}`;
          }
        })(),
      ),
    );
    const { text } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(dechunk(parseResponse(text).body)).toBe('012');
  });
});
