import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe } from '@carafe/core';
import { client, mount } from './helpers.js';

describe('blueprints', () => {
  it('prefixes paths and names, and nests', async () => {
    const app = new Carafe();
    const api = new Blueprint('api', { urlPrefix: '/api' });
    const users = new Blueprint('users', { urlPrefix: '/users' });
    users.get('', { name: 'list' }, () => 'list');
    users.get('/:id', { name: 'detail' }, (req) => ({ id: req.params.id }));
    api.register(users);
    app.register(api);
    const http = client(app);
    await http.get('/api/users').expect(200, 'list');
    await http.get('/api/users/5').expect(200, { id: '5' });
    expect(app.urlFor('api.users.detail', { id: 5 })).toBe('/api/users/5');
    expect(app.routeTable()).toEqual([
      { name: 'api.users.list', path: '/api/users', methods: ['GET'] },
      { name: 'api.users.detail', path: '/api/users/:id', methods: ['GET'] },
    ]);
  });

  it('follows Flask for a "/" route under a prefix: the prefix alone redirects to the slash form', async () => {
    const app = new Carafe();
    const bp = new Blueprint('bp', { urlPrefix: '/bp' });
    bp.get('/', { name: 'index' }, () => 'index');
    app.register(bp);
    await client(app).get('/bp').expect(308).expect('location', '/bp/');
    await client(app).get('/bp/').expect(200, 'index');
    expect(app.urlFor('bp.index')).toBe('/bp/');
  });

  it('registers one blueprint under several prefixes and names', async () => {
    const app = new Carafe();
    const items = new Blueprint('items');
    items.get('/:id', { name: 'show' }, (req) => `${req.route?.name} ${req.params.id}`);
    app.register(items, { urlPrefix: '/v1/items' });
    app.register(items, { urlPrefix: '/v2/items', name: 'items_v2' });
    expect(() => app.register(items, { urlPrefix: '/v3' })).toThrow(/already registered/);
    const http = client(app);
    await http.get('/v1/items/1').expect(200, 'items.show 1');
    await http.get('/v2/items/2').expect(200, 'items_v2.show 2');
    expect(app.urlFor('items_v2.show', { id: 9 })).toBe('/v2/items/9');
  });

  it('serves routes added to a blueprint after it was registered', async () => {
    const app = new Carafe();
    const bp = new Blueprint('late', { urlPrefix: '/late' });
    app.register(bp);
    bp.get('/x', () => 'added after register');
    await client(app).get('/late/x').expect(200, 'added after register');
  });

  it('attaches a rule that starts with an optional group directly to the prefix', async () => {
    const app = new Carafe();
    const docs = new Blueprint('docs', { urlPrefix: '/docs' });
    docs.get('{/:lang}/intro', { name: 'intro' }, (req) => req.params.lang ?? 'default');
    app.register(docs);
    await client(app).get('/docs/intro').expect(200, 'default');
    await client(app).get('/docs/fr/intro').expect(200, 'fr');
    expect(app.urlFor('docs.intro', { lang: 'de' })).toBe('/docs/de/intro');
  });

  it('refuses cycles', () => {
    const a = new Blueprint('a');
    const b = new Blueprint('b');
    a.register(b);
    expect(() => b.register(a)).toThrow(/inside itself/);
    expect(() => a.register(a, { name: 'self' })).toThrow(/inside itself/);
  });
});

describe('urlFor', () => {
  const app = new Carafe();
  const admin = new Blueprint('admin', { urlPrefix: '/admin' });
  const reports = new Blueprint('reports', { urlPrefix: '/reports' });
  reports.get('/:year{/:month}', { name: 'show' }, (req) => ({
    relative: req.urlFor('.show', { year: 2020 }),
    absolute: req.urlFor('files', { path: ['a', 'b c'] }),
    app: req.app.urlFor('admin.reports.show', { year: 1 }),
  }));
  admin.register(reports);
  app.register(admin);
  app.get('/files/*path', { name: 'files' }, () => null);
  app.get('/search', { name: 'search' }, () => null);

  it('builds nested blueprint URLs with params, optional groups, wildcards and query', () => {
    expect(app.urlFor('admin.reports.show', { year: 2024 })).toBe('/admin/reports/2024');
    expect(app.urlFor('admin.reports.show', { year: 2024, month: 5 })).toBe('/admin/reports/2024/5');
    expect(app.urlFor('files', { path: ['docs', 'a b.txt'] })).toBe('/files/docs/a%20b.txt');
    expect(app.urlFor('files', { path: 'docs/x' })).toBe('/files/docs/x');
    expect(app.urlFor('search', { q: 'tea & cake', page: 2 }, { query: { tag: ['a', 'b'] } })).toBe(
      '/search?q=tea+%26+cake&page=2&tag=a&tag=b',
    );
  });

  it('fails clearly for unknown names and missing params', () => {
    expect(() => app.urlFor('nope')).toThrow(/no route named "nope"/);
    expect(() => app.urlFor('admin.reports.show')).toThrow(/missing params year/);
  });

  it('honours SCRIPT_NAME and resolves ".name" inside the current blueprint', async () => {
    const res = await client(mount('/mounted', app)).get('/mounted/admin/reports/2024').expect(200);
    expect(res.body).toEqual({
      relative: '/mounted/admin/reports/2020',
      absolute: '/mounted/files/a/b%20c',
      app: '/admin/reports/1',
    });
    app.config.applicationRoot = '/root';
    expect(app.urlFor('search')).toBe('/root/search');
    app.config.applicationRoot = '';
  });
});
