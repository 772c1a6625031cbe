/**
 * Werkzeug's request URL descriptors and trusted hosts (tests/test_wrappers.py, sansio/utils
 * get_host), Flask's session behaviours (tests/test_basic.py) and RFC 9457 `instance`s, as Carafe
 * answers them.
 */
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { describe, expect, it } from 'vitest';
import type { Environ } from '@carafe/gateway';
import { Carafe, NotFound, Session, problem } from '@carafe/core';
import { call, client, makeEnviron, mount } from './helpers.js';

function describeRequest() {
  const app = new Carafe();
  app.get('/bar', (req) => ({
    path: req.path,
    fullPath: req.fullPath,
    scriptName: req.scriptName,
    url: req.url,
    baseUrl: req.baseUrl,
    urlRoot: req.urlRoot,
    hostUrl: req.hostUrl,
    host: req.host,
    scheme: req.scheme,
    isSecure: req.isSecure,
  }));
  return app;
}

async function json(app: Carafe, environ: Partial<Environ>): Promise<{ status: number; body: any }> {
  const res = await call(app, makeEnviron(environ));
  return { status: res.status, body: JSON.parse(res.text) };
}

describe('request URL descriptors (test_url_request_descriptors)', () => {
  it('gives path, fullPath, url, baseUrl, urlRoot, hostUrl, host and scheme', async () => {
    const { body } = await json(describeRequest(), {
      SCRIPT_NAME: '/test',
      PATH_INFO: '/bar',
      QUERY_STRING: 'foo=baz',
      HTTP_HOST: 'example.com',
    });
    expect(body).toEqual({
      path: '/bar',
      fullPath: '/bar?foo=baz',
      scriptName: '/test',
      url: 'http://example.com/test/bar?foo=baz',
      baseUrl: 'http://example.com/test/bar',
      urlRoot: 'http://example.com/test/',
      hostUrl: 'http://example.com/',
      host: 'example.com',
      scheme: 'http',
      isSecure: false,
    });
  });

  it('leaves out a default port, keeps another, and encodes the decoded path', async () => {
    const secure = await json(describeRequest(), { 'tsgi.url_scheme': 'https', HTTP_HOST: 'example.com:443', PATH_INFO: '/bar' });
    expect(secure.body).toMatchObject({
      host: 'example.com',
      hostUrl: 'https://example.com/',
      scheme: 'https',
      isSecure: true,
      fullPath: '/bar',
    });
    const noHost = await json(describeRequest(), { SERVER_NAME: '10.0.0.1', SERVER_PORT: '8080', PATH_INFO: '/bar' });
    expect(noHost.body.urlRoot).toBe('http://10.0.0.1:8080/');
    const plain = await json(describeRequest(), { SERVER_NAME: 'localhost', SERVER_PORT: '80', PATH_INFO: '/bar', SCRIPT_NAME: '/a b' });
    expect(plain.body).toMatchObject({ host: 'localhost', baseUrl: 'http://localhost/a%20b/bar', urlRoot: 'http://localhost/a%20b/' });
  });
});

describe('trusted hosts (Werkzeug TRUSTED_HOSTS)', () => {
  function app() {
    const app = new Carafe({ trustedHosts: ['example.com', '.example.org'] });
    app.get('/', (req) => req.host);
    return app;
  }

  it('answers hosts of the list, subdomains of a dotted entry, whatever the port', async () => {
    const http = client(app());
    await http.get('/').set('Host', 'example.com').expect(200, 'example.com');
    await http.get('/').set('Host', 'example.com:8443').expect(200, 'example.com:8443');
    await http.get('/').set('Host', 'example.org').expect(200, 'example.org');
    await http.get('/').set('Host', 'api.eu.example.org').expect(200, 'api.eu.example.org');
  });

  it("answers any other Host with a 400 problem, through the app's hooks and handlers", async () => {
    const strict = app();
    strict.afterRequest((response) => void response.headers.set('x-after', '1'));
    const http = client(strict);
    const res = await http.get('/').set('Host', 'evil.com').expect(400).expect('x-after', '1');
    expect(res.body).toMatchObject({ status: 400, detail: 'The host "evil.com" is not one this application answers for.' });
    await http.get('/').set('Host', 'api.example.com').expect(400);
    await http.get('/').set('Host', 'notexample.org').expect(400);
    await http.get('/').set('Host', 'example.com@evil.com').expect(400);
    strict.errorHandler(400, () => 'handled');
    await http.get('/').set('Host', 'evil.com').expect(200, 'handled');
  });

  it('believes any host when unset', async () => {
    const open = new Carafe();
    open.get('/', (req) => req.host);
    await client(open).get('/').set('Host', 'evil.com').expect(200, 'evil.com');
  });
});

describe('sessions like Flask', () => {
  const secretKey = 'k';

  it('gives a permanent session a cookie with Max-Age and Expires, and any other one a browser-session cookie', async () => {
    let permanent = true;
    const app = new Carafe({ secretKey, permanentSessionLifetime: 3600 });
    app.get('/', (req) => {
      req.session.set('test', 42);
      req.session.permanent = permanent;
      return null;
    });
    app.get('/test', (req) => String(req.session.permanent));
    const http = client(app);
    const before = Date.now();
    const res = await http.get('/').expect(204);
    const cookie = (res.headers['set-cookie'] as unknown as string[])[0]!;
    expect(cookie).toMatch(/Max-Age=3600/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]!);
    expect(Math.abs(expires - (before + 3600_000))).toBeLessThan(5000);
    await http.get('/test').set('Cookie', cookie.split(';')[0]!).expect(200, 'true');

    permanent = false;
    const session = (await http.get('/').expect(204)).headers['set-cookie'] as unknown as string[];
    expect(session[0]).not.toMatch(/Expires=|Max-Age=/);
  });

  it("sends a permanent session's cookie again on each request that reads it, unless refreshEachRequest is off", async () => {
    const app = new Carafe({ secretKey });
    app.post('/login', (req) => {
      req.session.set('user', 1);
      req.session.permanent = true;
      return null;
    });
    app.get('/me', (req) => ({ user: req.session.get('user') ?? null }));
    const http = client(app);
    const login = (await http.post('/login')).headers['set-cookie'] as unknown as string[];
    const cookie = login[0]!.split(';')[0]!;
    const refreshed = await http.get('/me').set('Cookie', cookie).expect(200, { user: 1 });
    expect(refreshed.headers['set-cookie']?.[0]).toMatch(/^session=.*Max-Age=2678400/);
    app.config.session.refreshEachRequest = false;
    const kept = await http.get('/me').set('Cookie', cookie).expect(200, { user: 1 });
    expect(kept.headers['set-cookie']).toBeUndefined();
  });

  it('saves a session changed by an after hook (test_session_stored_last)', async () => {
    const app = new Carafe({ secretKey });
    app.afterRequest((_response, req) => void req.session.set('foo', 42));
    app.get('/', (req) => String(req.session.get('foo') ?? 'None'));
    const http = client(app);
    const first = await http.get('/').expect(200, 'None');
    const cookie = (first.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    await http.get('/').set('Cookie', cookie).expect(200, '42');
  });

  it('keeps the flag in the data as Flask does (`_permanent`), so clear() resets it', () => {
    const session = new Session({ a: 1 });
    session.permanent = true;
    expect(session.toJSON()).toEqual({ a: 1, _permanent: true });
    expect(new Session(session.toJSON()).permanent).toBe(true);
    session.clear();
    expect(session.permanent).toBe(false);
  });

  it('puts the cookie on the application root: config.applicationRoot, else SCRIPT_NAME, else /', async () => {
    const make = (options = {}) => {
      const app = new Carafe({ secretKey, ...options });
      app.get('/', (req) => {
        req.session.set('testing', 42);
        return 'Hello World';
      });
      return app;
    };
    const path = async (app: Carafe, prefix = '') =>
      /Path=([^;]*)/.exec(
        ((await client(prefix ? mount(prefix, app) : app).get(`${prefix}/`)).headers['set-cookie'] as unknown as string[])[0]!,
      )?.[1];
    expect(await path(make(), '/bar')).toBe('/bar');
    expect(await path(make({ applicationRoot: '/foo' }), '/foo')).toBe('/foo');
    expect(await path(make())).toBe('/');
    expect(await path(make({ session: { path: '/' } }), '/bar')).toBe('/');
  });
});

describe('problem instance', () => {
  const isUriReference = fullFormats['uri-reference'] as RegExp;

  it('is the percent-encoded path, a valid uri-reference, for any request path', async () => {
    const app = new Carafe();
    const http = client(mount('/my app', app));
    const res = await http.get('/my%20app/caf%C3%A9/a%20b%3Fc%23d%25').expect(404);
    expect(res.body.instance).toBe('/my%20app/caf%C3%A9/a%20b%3Fc%23d%25');
    expect(isUriReference.test(res.body.instance)).toBe(true);
    const direct = JSON.parse(String(problem(new NotFound(), { scriptName: '', path: '/[x] y\u{1F600}\uD800' }).body));
    expect(direct.instance).toBe('/%5Bx%5D%20y%F0%9F%98%80%EF%BF%BD');
    expect(isUriReference.test(direct.instance)).toBe(true);
  });
});
