import { afterEach, describe, expect, it, vi } from 'vitest';
import { Router } from '../src/routing.js';

describe('Router', () => {
  afterEach(() => vi.restoreAllMocks());

  it('matches static paths exactly and case-sensitively', () => {
    const router = new Router<string>();
    router.add('/users', ['GET'], 'list');
    expect(router.match('GET', '/users')).toEqual({ kind: 'found', target: 'list', params: {} });
    expect(router.match('GET', '/Users').kind).toBe('not-found');
    expect(router.match('GET', '/users/').kind).toBe('not-found');
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
    expect(router.match('POST', '/posts/3')).toEqual({ kind: 'redirect', path: '/posts/3/' });
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
});
