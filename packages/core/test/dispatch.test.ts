import { describe, expect, it } from 'vitest';
import { Carafe, Response, json, redirect, stream, text } from '@carafe/core';
import { client } from './helpers.js';

describe('registration', () => {
  it('supports the shorthand, chained and explicit forms', async () => {
    const app = new Carafe();
    app.get('/a', () => 'get a');
    app.post('/a', () => 'post a');
    app.put('/a', () => 'put a');
    app.patch('/a', () => 'patch a');
    app.delete('/a', () => 'delete a');
    app
      .route('/b')
      .get(() => 'get b')
      .post(() => 'post b');
    app.addRoute({ methods: ['PUT', 'PATCH'], path: '/c', handler: () => 'c', name: 'cee' });
    app.addRoute({ method: 'delete', path: '/d', handler: () => 'd' });
    app.all('/any', (req) => `any ${req.method}`);
    app.get('/named', { name: 'special' }, () => 'named');
    const http = client(app);
    for (const m of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      await http[m]('/a').expect(200, `${m} a`);
    }
    await http.get('/b').expect(200, 'get b');
    await http.post('/b').expect(200, 'post b');
    await http.patch('/c').expect(200, 'c');
    await http.delete('/d').expect(200, 'd');
    await http.patch('/any').expect(200, 'any PATCH');
    expect(app.routeTable()).toEqual(
      expect.arrayContaining([
        { name: 'cee', path: '/c', methods: ['PUT', 'PATCH'] },
        { name: 'special', path: '/named', methods: ['GET'] },
        { name: '/any', path: '/any', methods: ['*'] },
      ]),
    );
  });

  it('names routes after their handler function by default', () => {
    const app = new Carafe();
    app.get('/users/:id', function showUser() {
      return null;
    });
    expect(app.urlFor('showUser', { id: 3 })).toBe('/users/3');
  });

  it('rejects invalid paths at registration', () => {
    const app = new Carafe();
    expect(() => app.get('users', () => null)).toThrow(TypeError);
    expect(() => app.get('/users/:', () => null)).toThrow(/Missing parameter name/);
  });

  it('rejects a method registered twice on the same path', () => {
    const app = new Carafe();
    app.get('/x', () => 1);
    app.all('/x', () => 2);
    expect(() =>
      app
        .route('/x')
        .post(() => 3)
        .get(() => 4),
    ).toThrow(/GET "\/x" is already registered/);
    expect(() => app.all('/x', () => 5)).toThrow(/catch-all/);
  });

  it('serves routes added after the first request', async () => {
    const app = new Carafe();
    app.get('/one', () => 1);
    await client(app).get('/one').expect(200, '1');
    app.get('/two', () => 2);
    await client(app).get('/two').expect(200, '2');
  });
});

describe('dispatch guarantees', () => {
  const app = new Carafe();
  app.get('/users', () => [{ id: 1 }]);
  app.post('/users', () => new Response('created', { status: 201 }));
  app.get('/users/:id', (req) => ({ id: req.params.id }));
  app.get('/docs/', () => 'docs');
  app.get('/docs/:page/', (req) => req.params.page);
  app.options('/custom', () => new Response(null, { status: 204, headers: { allow: 'GET', 'x-custom': '1' } }));
  const http = client(app);

  it('answers 404 as problem+json', async () => {
    const res = await http.get('/nope').expect(404).expect('content-type', 'application/problem+json');
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Not Found', status: 404, instance: '/nope' });
  });

  it('answers 405 with an Allow header when only the method is wrong', async () => {
    const res = await http.delete('/users').expect(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
    expect(res.body).toMatchObject({ status: 405, title: 'Method Not Allowed' });
  });

  it('answers HEAD for GET routes with the same headers and no body', async () => {
    const get = await http.get('/users/7');
    const head = await http.head('/users/7').expect(200);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.text).toBeUndefined();
  });

  it('answers OPTIONS automatically with Allow, unless a handler is registered', async () => {
    const res = await http.options('/users/7').expect(200);
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
    const custom = await http.options('/custom').expect(204);
    expect(custom.headers['x-custom']).toBe('1');
  });

  it('redirects with 308 to the trailing-slash route, keeping the query', async () => {
    const res = await http.get('/docs?x=1').expect(308);
    expect(res.headers.location).toBe('/docs/?x=1');
    await http.head('/docs/intro').expect(308).expect('location', '/docs/intro/');
    await http.post('/docs/intro').expect(404); // the slash form does not answer POST (Werkzeug's rule)
    await http.get('/docs/intro/').expect(200, 'intro');
    await http.get('/users/').expect(404);
  });
});

describe('handler results', () => {
  it('turns values into JSON, text, 204 and bytes', async () => {
    const app = new Carafe();
    app.get('/obj', () => ({ a: 1 }));
    app.get('/arr', async () => [1, 2]);
    app.get('/str', () => 'héllo');
    app.get('/null', () => null);
    app.get('/undef', () => undefined);
    app.get('/bytes', () => new Uint8Array([1, 2, 3]));
    const http = client(app);
    await http.get('/obj').expect(200, { a: 1 }).expect('content-type', 'application/json');
    await http.get('/arr').expect(200, [1, 2]);
    const str = await http.get('/str').expect(200).expect('content-type', 'text/plain; charset=utf-8');
    expect(str.text).toBe('héllo');
    expect(str.headers['content-length']).toBe(String(Buffer.byteLength('héllo')));
    await http.get('/null').expect(204, '');
    await http.get('/undef').expect(204, '');
    const bytes = await http.get('/bytes').expect(200).expect('content-type', 'application/octet-stream');
    expect([...(bytes.body as Buffer)]).toEqual([1, 2, 3]);
  });

  it('builds responses with helpers, status and headers', async () => {
    const app = new Carafe();
    app.get('/json', () => json({ ok: true }, { status: 201, headers: { 'x-a': 'b' } }));
    app.get('/text', () => text('plain', { status: 202 }));
    app.get('/redirect', () => redirect('/elsewhere', 301));
    app.get('/set', () => {
      const res = new Response('x');
      res.status = 418;
      res.headers.set('X-Tea', 'pot');
      return res;
    });
    const http = client(app);
    await http.get('/json').expect(201, { ok: true }).expect('x-a', 'b');
    await http.get('/text').expect(202, 'plain');
    await http.get('/redirect').expect(301).expect('location', '/elsewhere');
    await http.get('/set').expect(418, 'x').expect('x-tea', 'pot');
    expect(() => redirect('/x', 200)).toThrow(RangeError);
  });

  it('streams async iterables chunk by chunk', async () => {
    const app = new Carafe();
    app.get('/stream', () =>
      stream(
        (async function* () {
          yield 'one,';
          yield new TextEncoder().encode('two,');
          yield 'three';
        })(),
        { headers: { 'content-type': 'text/csv' } },
      ),
    );
    const res = await client(app).get('/stream').expect(200).expect('content-type', 'text/csv');
    expect(res.text).toBe('one,two,three');
    expect(res.headers['content-length']).toBeUndefined();
  });

  it('sets and clears cookies with every attribute', async () => {
    const app = new Carafe();
    app.get('/login', () =>
      new Response('ok')
        .setCookie('sid', 'abc', { httpOnly: true, secure: true, sameSite: 'Strict', maxAge: 60, path: '/app', domain: 'example.com' })
        .setCookie('theme', 'dark'),
    );
    app.get('/logout', () => new Response(null, { status: 204 }).clearCookie('sid', { path: '/app', domain: 'example.com' }));
    const http = client(app);
    const login = await http.get('/login').expect(200);
    const cookies = login.headers['set-cookie'] as unknown as string[];
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^sid=abc/);
    for (const attr of [/HttpOnly/i, /Secure/i, /SameSite=Strict/i, /Max-Age=60/i, /Path=\/app/i, /Domain=example\.com/i]) {
      expect(cookies[0]).toMatch(attr);
    }
    const logout = await http.get('/logout').expect(204);
    const cleared = (logout.headers['set-cookie'] as unknown as string[])[0]!;
    expect(cleared).toMatch(/^sid=;/);
    expect(cleared).toMatch(/Max-Age=0/i);
    expect(cleared).toMatch(/Path=\/app/i);
  });

  it('answers JSON that cannot be serialised with a logged 500', async () => {
    const app = new Carafe();
    app.get('/big', () => ({ n: 1n }));
    const lines: string[] = [];
    const res = await client(app, { write: (m) => void lines.push(m) })
      .get('/big')
      .expect(500);
    expect(res.body).toMatchObject({ status: 500, title: 'Internal Server Error' });
    expect(lines.join('')).toMatch(/BigInt/);
  });
});
