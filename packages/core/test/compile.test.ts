import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe, type RouteDefinition } from '../src/index.js';
import { compileRoutes, joinPath } from '../src/compile.js';

const noSchemas = () => undefined;

describe('compileRoutes', () => {
  it('flattens nested blueprints into full paths, names and matched-route info', () => {
    const app = new Carafe();
    const api = new Blueprint('api', { urlPrefix: '/api' });
    const users = new Blueprint('users', { urlPrefix: '/users' });
    app.get('/', function home() {
      return null;
    });
    users.get('/:id', { name: 'detail' }, () => null);
    api.register(users);
    app.register(api);
    app.register(users, { name: 'legacy', urlPrefix: '/u' });
    const { routes, router, urls } = compileRoutes(app, noSchemas);
    expect(routes.map((r) => [r.name, r.path, r.blueprint])).toEqual([
      ['home', '/', undefined],
      ['api.users.detail', '/api/users/:id', 'api.users'],
      ['legacy.detail', '/u/:id', 'legacy'],
    ]);
    const found = router.match('GET', '/api/users/7');
    expect(found).toMatchObject({ kind: 'found', params: { id: '7' } });
    if (found.kind !== 'found') throw new Error('no match');
    expect(found.target.info).toEqual({ name: 'api.users.detail', path: '/api/users/:id', blueprint: 'api.users' });
    expect(urls.build('legacy.detail', { id: 3 })).toBe('/u/3');
  });

  it('chains hooks once: before outermost first, after and teardown innermost first and reversed', () => {
    const app = new Carafe();
    const bp = new Blueprint('bp', { urlPrefix: '/bp' });
    const hook = (label: string) => Object.defineProperty(() => undefined, 'name', { value: label });
    app.beforeRequest(hook('app.before'));
    bp.beforeRequest(hook('bp.before'));
    app.afterRequest(hook('app.after1'));
    app.afterRequest(hook('app.after2'));
    bp.afterRequest(hook('bp.after'));
    bp.teardownRequest(hook('bp.teardown'));
    bp.get('/x', () => null);
    app.register(bp);
    const { router, appScope } = compileRoutes(app, noSchemas);
    const found = router.match('GET', '/bp/x');
    if (found.kind !== 'found') throw new Error('no match');
    const names = (hooks: readonly Function[]) => hooks.map((h) => h.name);
    expect(names(found.target.before)).toEqual(['app.before', 'bp.before']);
    expect(names(found.target.after)).toEqual(['bp.after', 'app.after2', 'app.after1']);
    expect(names(found.target.teardown)).toEqual(['bp.teardown']);
    expect(found.target.errorScopes).toEqual([bp, app]);
    expect(found.target.plain).toBe(false);
    expect(names(appScope.before)).toEqual(['app.before']);
    expect(appScope.errorScopes).toEqual([app]);
  });

  it('marks routes without hooks or request validation as plain (the synchronous fast path)', () => {
    const app = new Carafe();
    app.get('/plain', () => null);
    app.get('/documented', { schema: { response: { 200: { type: 'object' } } } }, () => null);
    app.get('/validated', { schema: { query: { type: 'object' } } }, () => null);
    const { router } = compileRoutes(app, (route) => (route.schema ? app.schemaCompiler(route.schema) : undefined));
    const plain = (path: string) => {
      const found = router.match('GET', path);
      return found.kind === 'found' && found.target.plain;
    };
    expect([plain('/plain'), plain('/documented'), plain('/validated')]).toEqual([true, true, false]);
  });

  it('compiles each schema through the given function', () => {
    const app = new Carafe();
    const bp = new Blueprint('bp');
    bp.get('/a', { schema: { query: { type: 'object' } } }, () => null);
    app.register(bp);
    const seen: RouteDefinition[] = [];
    compileRoutes(app, (route) => {
      seen.push(route);
      return undefined;
    });
    expect(seen.map((r) => r.path)).toEqual(['/a']);
  });

  it('rejects one name for two different routes, and accepts one handler under two paths', () => {
    const app = new Carafe();
    const a = new Blueprint('a');
    a.get('/one', { name: 'x' }, () => 1);
    a.get('/two', { name: 'x' }, () => 2);
    app.register(a);
    expect(() => compileRoutes(app, noSchemas)).toThrow(/Route name "a.x" is used by \/one and \/two/);

    const ok = new Carafe();
    const show = () => null;
    ok.get('/items/:id', show);
    ok.get('/things/:id', show);
    const { urls } = compileRoutes(ok, noSchemas);
    expect(urls.build('show', { id: 1 })).toBe('/items/1');
  });
});

describe('joinPath', () => {
  it('joins prefixes and rules the way Flask does', () => {
    expect(joinPath('/users', '/')).toBe('/users/');
    expect(joinPath('/users', '')).toBe('/users');
    expect(joinPath('/users/', '/:id')).toBe('/users/:id');
    expect(joinPath('/docs', '{/:lang}/intro')).toBe('/docs{/:lang}/intro');
    expect(joinPath('', '/x')).toBe('/x');
  });
});
