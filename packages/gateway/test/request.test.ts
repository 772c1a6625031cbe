import { createHash } from 'node:crypto';
import http from 'node:http';
import { ClientDisconnected, type Environ, type TsgiApplication } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';
import { deferred, useServers, dechunk, memoryErrors, parseResponse, rawExchange } from './helpers.js';

const serveApp = useServers();

/** Echoes the body and how it arrived: "<chunks>:<bytes>:<body>". */
const echo: TsgiApplication = async (env, start) => {
  const parts: Uint8Array[] = [];
  for await (const chunk of env['tsgi.input']) parts.push(chunk);
  const body = Buffer.concat(parts);
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [`${env.CONTENT_LENGTH ?? '-'}:${body.length}:${body.toString()}`];
};

/** Captures the environ of each request (copied: the binding owns the original after the response). */
function capture(): { app: TsgiApplication; seen: Environ[] } {
  const seen: Environ[] = [];
  return {
    seen,
    app: (env, start) => {
      seen.push({ ...env });
      start('200 OK', []);
      return [];
    },
  };
}

describe('tsgi.input', () => {
  it('yields a Content-Length body exactly', async () => {
    const port = await serveApp(echo);
    const { text } = await rawExchange(port, [
      'POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello',
      ' world',
    ], { gapMs: 10 });
    expect(parseResponse(text).body).toBe('11:11:hello world');
  });

  it('yields a chunked body without its framing', async () => {
    const port = await serveApp(echo);
    const { text } = await rawExchange(port, [
      'POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n',
      '5\r\nhello\r\n',
      '6\r\n world\r\n0\r\n\r\n',
    ], { gapMs: 10 });
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
    const port = await serveApp(async (env, start) => {
      for await (const chunk of env['tsgi.input']) {
        largest = Math.max(largest, chunk.byteLength);
        total += chunk.byteLength;
        hash.update(chunk);
      }
      start('200 OK', []);
      return [hash.digest('hex')];
    });
    const piece = Buffer.alloc(1024 * 1024, 'z');
    const expected = createHash('sha256');
    const response = await new Promise<string>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'Content-Length': 10 * piece.length } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      });
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
    const port = await serveApp(async (env, start) => {
      try {
        for await (const _chunk of env['tsgi.input']) {
          // reading until the client goes away
        }
      } catch (error) {
        failure.resolve(error);
      }
      start('200 OK', []);
      return [];
    }, { errors });
    await rawExchange(port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b', {
      until: () => true,
      timeoutMs: 100,
    }).catch(() => undefined);
    expect(await failure.promise).toBeInstanceOf(ClientDisconnected);
    await new Promise((r) => setTimeout(r, 20));
    expect(errors.text()).toBe('');
  });

  it('leaves a keep-alive connection usable when the app ignores the body', async () => {
    const port = await serveApp((env, start) => {
      start('200 OK', []);
      return [env.PATH_INFO];
    });
    const { text } = await rawExchange(
      port,
      'POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello' + 'GET /second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    );
    expect(text).toContain('/first');
    expect(text).toContain('/second');
  });

  it('leaves a keep-alive connection usable when the app stops reading early', async () => {
    const port = await serveApp(async (env, start) => {
      for await (const _chunk of env['tsgi.input']) break;
      start('200 OK', []);
      return [env.PATH_INFO];
    });
    const { text } = await rawExchange(
      port,
      ['POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello', 'world' + 'GET /second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'],
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
    const port = await serveApp((_env, start) => {
      start('413 Content Too Large', []);
      return ['too big'];
    });
    const { text, closedByServer } = await rawExchange(port, expecting);
    expect(text).not.toContain('100 Continue');
    const { statusLine, headers } = parseResponse(text);
    expect(statusLine).toBe('HTTP/1.1 413 Content Too Large');
    expect(headers.connection).toBe('close');
    expect(closedByServer).toBe(true);
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

  it('maps an absolute-form target to its path', async () => {
    const { app, seen } = capture();
    const port = await serveApp(app);
    await rawExchange(port, 'GET http://example.org/a/b?c=d HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n');
    expect(seen[0]).toMatchObject({ PATH_INFO: '/a/b', QUERY_STRING: 'c=d', RAW_URI: 'http://example.org/a/b?c=d' });
  });

  it('is a plain object whose copies carry a working tsgi.signal', async () => {
    const copies = deferred<{ plain: boolean; copy: Environ; keys: string[] }>();
    const port = await serveApp((env, start) => {
      const copy = { ...env };
      copies.resolve({ plain: Object.getPrototypeOf(env) === Object.prototype, copy, keys: Object.keys(env) });
      start('200 OK', []);
      return [];
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
    const port = await serveApp((env, start) => {
      env['tsgi.signal'] = replacement;
      seen.resolve(env['tsgi.signal'] === replacement);
      start('200 OK', []);
      return [];
    });
    await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(await seen.promise).toBe(true);
  });
});

describe('hand-written HTTP/1.1', () => {
  it('serves several keep-alive requests on one connection', async () => {
    const port = await serveApp((env, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [`${env.REQUEST_METHOD} ${env.PATH_INFO}`];
    });
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
    const port = await serveApp((_env, start) => {
      start('200 OK', []);
      return (async function* () {
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, 2));
          yield `${i}`;
        }
      })();
    });
    const { text } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(dechunk(parseResponse(text).body)).toBe('012');
  });
});
