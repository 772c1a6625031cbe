import { match as ptrMatch } from 'path-to-regexp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Carafe } from '../src/index.js';
import { Router } from '../src/routing.js';
import { client } from './helpers.js';

describe('Router', () => {
  afterEach(() => vi.restoreAllMocks());

  it('matches static paths exactly and case-sensitively', () => {
    const router = new Router<string>();
    router.add('/users', ['GET'], 'list');
    expect(router.match('GET', '/users')).toEqual({ kind: 'found', target: 'list', params: {} });
    expect(router.match('GET', '/Users').kind).toBe('not-found');
    expect(router.match('GET', '/users/').kind).toBe('not-found');
  });

  it("finds a literal path of any length before a pattern, and a pattern of a literal's length", () => {
    const router = new Router<string>();
    const long = `/${'a'.repeat(300)}`; // past the lengths the router notes
    router.add(long, ['GET'], 'long literal');
    router.add('/:name', ['GET'], 'pattern');
    router.add('/ab', ['GET'], 'short literal');
    expect(router.match('GET', long)).toEqual({ kind: 'found', target: 'long literal', params: {} });
    expect(router.match('GET', '/ab')).toEqual({ kind: 'found', target: 'short literal', params: {} });
    expect(router.match('GET', '/cd')).toEqual({ kind: 'found', target: 'pattern', params: { name: 'cd' } });
    expect(router.match('GET', `/${'b'.repeat(300)}`)).toMatchObject({ kind: 'found', target: 'pattern' });
  });

  it('finds every literal among few or many of one length, and no other path of that length', () => {
    // Up to four literals of one length are compared one by one, more are looked up in a Map.
    for (const count of [1, 4, 5, 12]) {
      const router = new Router<string>();
      const paths = Array.from({ length: count }, (_, i) => `/p${String(i).padStart(2, '0')}`);
      for (const path of paths) router.add(path, ['GET', 'POST'], `literal ${path}`);
      for (const path of paths) {
        expect(router.match('GET', path)).toEqual({ kind: 'found', target: `literal ${path}`, params: {} });
        expect(router.match('HEAD', path)).toEqual({ kind: 'found', target: `literal ${path}`, params: {} });
        expect(router.match('POST', path)).toEqual({ kind: 'found', target: `literal ${path}`, params: {} });
        expect(router.match('PUT', path)).toMatchObject({ kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'POST', 'OPTIONS'] });
      }
      expect(router.match('GET', '/p99').kind).toBe('not-found');
      expect(router.match('GET', '/p0').kind).toBe('not-found');
      // Merged slashes find a literal through the same lookup.
      expect(router.match('GET', `//${paths[0]!.slice(1)}`)).toEqual({ kind: 'redirect', path: paths[0] });
    }
  });

  it('extracts params, wildcards and optional groups', () => {
    const router = new Router<string>();
    router.add('/users/:id', ['GET'], 'user');
    router.add('/files/*path', ['GET'], 'file');
    router.add('{/:lang}/about', ['GET'], 'about');
    router.add('/a/:name.:ext', ['GET'], 'ext');
    expect(router.match('GET', '/users/42')).toEqual({ kind: 'found', target: 'user', params: { id: '42' } });
    expect(router.match('GET', '/files/a/b/c.txt')).toEqual({ kind: 'found', target: 'file', params: { path: ['a', 'b', 'c.txt'] } });
    expect(router.match('GET', '/about')).toEqual({ kind: 'found', target: 'about', params: {} });
    expect(router.match('GET', '/fr/about')).toEqual({ kind: 'found', target: 'about', params: { lang: 'fr' } });
    expect(router.match('GET', '/a/report.pdf')).toEqual({ kind: 'found', target: 'ext', params: { name: 'report', ext: 'pdf' } });
    expect(router.match('GET', '/users/42/extra').kind).toBe('not-found');
  });

  it('prefers static paths, then the longest static prefix, then registration order', () => {
    const router = new Router<string>();
    router.add('/:a/:b', ['GET'], 'generic');
    router.add('/users/:id', ['GET'], 'user');
    router.add('/users/:name', ['GET'], 'shadowed');
    router.add('/users/me', ['GET'], 'me');
    expect(router.match('GET', '/users/me')).toMatchObject({ target: 'me' });
    expect(router.match('GET', '/users/7')).toMatchObject({ target: 'user' });
    expect(router.match('GET', '/posts/7')).toMatchObject({ target: 'generic', params: { a: 'posts', b: '7' } });
  });

  it('answers 405 data with every allowed method across matching patterns', () => {
    const router = new Router<string>();
    router.add('/items/:id', ['GET'], 'get');
    router.add('/items/:id', ['DELETE'], 'delete');
    router.add('/items/special', ['PUT'], 'put');
    expect(router.match('POST', '/items/special')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
    });
    expect(router.match('OPTIONS', '/items/1')).toEqual({ kind: 'options', allow: ['GET', 'HEAD', 'DELETE', 'OPTIONS'] });
  });

  it('uses the GET target for HEAD and a catch-all for any method', () => {
    const router = new Router<string>();
    router.add('/x', ['GET'], 'get');
    router.add('/any', null, 'any');
    expect(router.match('HEAD', '/x')).toMatchObject({ kind: 'found', target: 'get' });
    expect(router.match('PATCH', '/any')).toMatchObject({ kind: 'found', target: 'any' });
  });

  it('redirects to the slash form only when the route was declared with one', () => {
    const router = new Router<string>();
    router.add('/docs/', ['GET'], 'docs');
    router.add('/posts/:id/', ['GET'], 'post');
    router.add('/strict', ['GET'], 'strict');
    expect(router.match('GET', '/docs')).toEqual({ kind: 'redirect', path: '/docs/' });
    expect(router.match('OPTIONS', '/posts/3')).toEqual({ kind: 'redirect', path: '/posts/3/' });
    // As in Werkzeug, only when the slash form answers the method: a POST would only meet a 405 there.
    expect(router.match('POST', '/posts/3').kind).toBe('not-found');
    expect(router.match('GET', '/strict/').kind).toBe('not-found');
  });

  it('rejects a method registered twice on one path', () => {
    const router = new Router<string>();
    router.add('/x/:id', ['GET'], 'a');
    expect(() => router.add('/x/:id', ['GET'], 'b')).toThrow(/already registered/);
  });

  it('tests only the patterns under the request path prefix, however many routes exist', () => {
    const countExecs = (routes: number) => {
      const router = new Router<number>();
      for (let i = 0; i < routes; i++) {
        router.add(`/r${i}/:id`, ['GET'], i);
        router.add(`/api/v1/r${i}/:id/items/:item`, ['GET'], i);
        router.add(`/static/${i}`, ['GET'], i);
      }
      const exec = vi.spyOn(RegExp.prototype, 'exec');
      expect(router.match('GET', `/r${routes - 1}/5`)).toMatchObject({ target: routes - 1, params: { id: '5' } });
      expect(router.match('GET', `/api/v1/r${routes - 1}/5/items/9`)).toMatchObject({ target: routes - 1 });
      expect(router.match('GET', `/static/${routes - 1}`)).toMatchObject({ target: routes - 1 });
      const calls = exec.mock.calls.length;
      exec.mockRestore();
      return calls;
    };
    const few = countExecs(10);
    const many = countExecs(1000);
    expect(many).toBe(few);
    expect(many).toBeLessThanOrEqual(2);
  });

  it('prefers, segment by segment, static text over a param over a wildcard, whatever the order', () => {
    const router = new Router<string>();
    router.add('/files/*path', ['GET'], 'rest');
    router.add('/files/:id', ['GET'], 'one');
    router.add('/files/new', ['GET'], 'new');
    router.add('/x/:a/:b', ['GET'], 'params');
    router.add('/x/:a/c', ['GET'], 'static tail');
    expect(router.match('GET', '/files/new')).toEqual({ kind: 'found', target: 'new', params: {} });
    expect(router.match('GET', '/files/7')).toEqual({ kind: 'found', target: 'one', params: { id: '7' } });
    expect(router.match('GET', '/files/a/b')).toEqual({ kind: 'found', target: 'rest', params: { path: ['a', 'b'] } });
    expect(router.match('GET', '/x/1/c')).toEqual({ kind: 'found', target: 'static tail', params: { a: '1' } });
    expect(router.match('GET', '/x/1/d')).toEqual({ kind: 'found', target: 'params', params: { a: '1', b: 'd' } });
  });

  it('backtracks from a static segment to the param when the rest does not match below it', () => {
    const router = new Router<string>();
    router.add('/users/me', ['GET'], 'me');
    router.add('/users/me/avatar', ['GET'], 'avatar');
    router.add('/users/:id/settings', ['GET'], 'settings');
    router.add('/users/*rest', ['GET'], 'rest');
    expect(router.match('GET', '/users/me/settings')).toEqual({ kind: 'found', target: 'settings', params: { id: 'me' } });
    expect(router.match('GET', '/users/me/other')).toEqual({ kind: 'found', target: 'rest', params: { rest: ['me', 'other'] } });
  });

  it('tries a segment with text around params before a plain param', () => {
    const router = new Router<string>();
    router.add('/files/:id', ['GET'], 'id');
    router.add('/files/:name.:ext', ['GET'], 'named');
    expect(router.match('GET', '/files/report.pdf')).toEqual({ kind: 'found', target: 'named', params: { name: 'report', ext: 'pdf' } });
    expect(router.match('GET', '/files/report')).toEqual({ kind: 'found', target: 'id', params: { id: 'report' } });
  });

  it('captures wildcards as path-to-regexp does: never empty, keeping empty segments', () => {
    const router = new Router<string>();
    router.add('/files/*path', ['GET'], 'file');
    router.add('/edit/*path/raw', ['GET'], 'raw');
    expect(router.match('GET', '/files/').kind).toBe('not-found');
    expect(router.match('GET', '/files').kind).toBe('not-found');
    expect(router.match('GET', '/files/a//b/')).toMatchObject({ params: { path: ['a', '', 'b', ''] } });
    expect(router.match('GET', '/edit/a/b/raw')).toEqual({ kind: 'found', target: 'raw', params: { path: ['a', 'b'] } });
    router.add('/*all', ['POST'], 'all');
    expect(router.match('POST', '/x/y')).toEqual({ kind: 'found', target: 'all', params: { all: ['x', 'y'] } });
    expect(router.match('GET', '/files/')).toEqual({ kind: 'method-not-allowed', allow: ['POST', 'OPTIONS'] });
  });

  it('expands optional groups, nested or not, keeping path-to-regexp’s choice among variants', () => {
    const router = new Router<string>();
    router.add('/x{/:a}{/:b}', ['GET'], 'x');
    router.add('/products{.:format}', ['GET'], 'products');
    router.add('{/:lang}/docs{/*path}', ['GET'], 'docs');
    router.add('/v{/:major{.:minor}}/info', ['GET'], 'info');
    expect(router.match('GET', '/x')).toMatchObject({ params: {} });
    expect(router.match('GET', '/x/1')).toMatchObject({ params: { a: '1' } });
    expect(router.match('GET', '/x/1/2')).toMatchObject({ params: { a: '1', b: '2' } });
    expect(router.match('GET', '/x/1/2/3').kind).toBe('not-found');
    expect(router.match('GET', '/products')).toMatchObject({ target: 'products', params: {} });
    expect(router.match('GET', '/products.json')).toMatchObject({ target: 'products', params: { format: 'json' } });
    expect(router.match('GET', '/docs')).toMatchObject({ target: 'docs', params: {} });
    expect(router.match('GET', '/fr/docs/a/b')).toMatchObject({ target: 'docs', params: { lang: 'fr', path: ['a', 'b'] } });
    expect(router.match('GET', '/v/info')).toMatchObject({ params: {} });
    expect(router.match('GET', '/v/2/info')).toMatchObject({ params: { major: '2' } });
    expect(router.match('GET', '/v/2.1/info')).toMatchObject({ params: { major: '2', minor: '1' } });
  });

  it('extracts exactly the params path-to-regexp’s own matcher does, for any one pattern', () => {
    const patterns = [
      '/',
      '/a/',
      '/users/:id',
      '/:a/:b',
      '/files/*path',
      '/a/:name.:ext',
      '/a-:x-:y',
      '/:x{-:y}',
      '{/:lang}/about',
      '/x{/:a}{/:b}',
      '/w/*p/end',
      '/q/:"quoted name"',
      '/s\\:t/:u',
      '/{a/}b',
      '/:id/',
      '/é/:ü',
    ];
    const paths = [
      '/',
      '//',
      '/a',
      '/a/',
      '/a/b',
      '/a/b/',
      '/users/42',
      '/users/',
      '/users/4/2',
      '/files/x',
      '/files/x/y/',
      '/a/r.pdf',
      '/a/r.tar.gz',
      '/a-1-2',
      '/a-1-2-3',
      '/1-2',
      '/1',
      '/fr/about',
      '/about',
      '/x',
      '/x/1',
      '/x/1/2',
      '/w/1/2/end',
      '/w/end',
      '/q/v',
      '/s:t/v',
      '/a/b',
      '/b',
      '/7/',
      '/é/ö',
      '/x//y',
      '',
    ];
    for (const pattern of patterns) {
      const router = new Router<string>();
      router.add(pattern, ['GET'], pattern);
      // Identity decoding: the router sees PATH_INFO, which the gateway has already decoded.
      const reference = ptrMatch(pattern, { decode: (value) => value, sensitive: true, trailing: false });
      for (const path of paths) {
        const expected = reference(path);
        const found = router.match('GET', path);
        expect({ pattern, path, params: found.kind === 'found' ? found.params : false }).toEqual({
          pattern,
          path,
          params: expected === false ? false : expected.params,
        });
      }
    }
  });

  it('computes Allow over every pattern of the tree that matches the path', () => {
    const router = new Router<string>();
    router.add('/docs/:id', ['GET'], 'get');
    router.add('/docs/:name.:ext', ['PUT'], 'put');
    router.add('/docs/*rest', ['DELETE'], 'delete');
    router.add('/docs/a.txt', ['POST'], 'post');
    router.add('/other/:id', ['PATCH'], 'unrelated');
    expect(router.match('PATCH', '/docs/a.txt')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    });
    expect(router.match('OPTIONS', '/docs/b')).toEqual({ kind: 'options', allow: ['GET', 'HEAD', 'DELETE', 'OPTIONS'] });
    expect(router.match('HEAD', '/docs/b.md')).toMatchObject({ kind: 'found', target: 'get' });
    expect(router.match('PUT', '/docs/b.md')).toMatchObject({ kind: 'found', target: 'put', params: { name: 'b', ext: 'md' } });
    expect(router.match('DELETE', '/docs/a.txt')).toMatchObject({ kind: 'found', target: 'delete', params: { rest: ['a.txt'] } });
  });

  it('redirects to the slash form through params, groups and wildcards, never over an existing route', () => {
    const router = new Router<string>();
    router.add('/shop/:id/', ['GET'], 'shop');
    router.add('{/:lang}/help/', ['GET'], 'help');
    router.add('/tree/*path/', ['GET'], 'tree');
    router.add('/both', ['GET'], 'bare');
    router.add('/both/', ['GET'], 'slashed');
    expect(router.match('GET', '/shop/3')).toEqual({ kind: 'redirect', path: '/shop/3/' });
    expect(router.match('GET', '/help')).toEqual({ kind: 'redirect', path: '/help/' });
    expect(router.match('GET', '/de/help')).toEqual({ kind: 'redirect', path: '/de/help/' });
    expect(router.match('GET', '/tree/a/b')).toEqual({ kind: 'redirect', path: '/tree/a/b/' });
    expect(router.match('GET', '/both')).toMatchObject({ kind: 'found', target: 'bare' });
    expect(router.match('GET', '/shop').kind).toBe('not-found');
  });

  it('finds each of many static siblings, including shared beginnings, empty and non-ASCII segments', () => {
    const router = new Router<string>();
    const names = ['', 'v', 'v1', 'v10', 'v2', 'users', 'user', 'usersx', 'é', 'éa', 'ü', '日本', 'a b'];
    for (let i = 0; i < 300; i++) names.push(`r${i}`);
    for (const name of names) {
      router.add(`/s/${name}`, ['GET'], `static ${name}`);
      router.add(`/p/${name}/:id`, ['GET'], `param ${name}`);
    }
    for (const name of names) {
      expect(router.match('GET', `/s/${name}`)).toEqual({ kind: 'found', target: `static ${name}`, params: {} });
      expect(router.match('GET', `/p/${name}/9`)).toEqual({ kind: 'found', target: `param ${name}`, params: { id: '9' } });
    }
    expect(router.match('GET', '/s/v3').kind).toBe('not-found');
    expect(router.match('GET', '/p/r300/9').kind).toBe('not-found');
    expect(router.match('GET', '/p/users/9/').kind).toBe('not-found');
  });

  it('answers not-found, without throwing, for a path not starting with "/"', () => {
    const router = new Router<string>();
    router.add('/:id', ['GET'], 'id');
    router.add('/*all', ['POST'], 'all');
    expect(router.match('GET', '').kind).toBe('not-found');
    expect(router.match('GET', 'x').kind).toBe('not-found');
  });

  it('matches params against the decoded PATH_INFO, decoding once, with %2F already a "/"', async () => {
    const app = new Carafe();
    app.get('/users/:id', (req) => ({ route: 'user', params: req.params }));
    app.get('/files/*path', (req) => ({ route: 'file', params: req.params }));
    const http = client(app);
    expect((await http.get('/users/a%20b').expect(200)).body).toEqual({ route: 'user', params: { id: 'a b' } });
    expect((await http.get('/users/caf%C3%A9').expect(200)).body).toEqual({ route: 'user', params: { id: 'café' } });
    expect((await http.get('/users/100%2541').expect(200)).body).toEqual({ route: 'user', params: { id: '100%41' } });
    await http.get('/users/a%2Fb').expect(404);
    expect((await http.get('/files/a%2Fb/c').expect(200)).body).toEqual({ route: 'file', params: { path: ['a', 'b', 'c'] } });
  });

  it('answers 405 with Allow and 308 redirects from the tree through the app', async () => {
    const app = new Carafe();
    app.get('/items/:id', () => 'item');
    app.delete('/items/*rest', () => null);
    app.get('/shelves/:id/', () => 'shelf');
    const http = client(app);
    const res = await http.post('/items/3').expect(405);
    expect(res.headers.allow).toBe('GET, HEAD, DELETE, OPTIONS');
    await http.options('/items/3').expect(200).expect('allow', 'GET, HEAD, DELETE, OPTIONS');
    await http.get('/shelves/2?x=1').expect(308).expect('location', '/shelves/2/?x=1');
  });
});
