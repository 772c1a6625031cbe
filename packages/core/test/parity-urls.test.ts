/**
 * Flask's URL building (tests/test_helpers.py, test_basic.py, test_blueprints.py) and Werkzeug's
 * rule choice when building (tests/test_routing.py), as Carafe answers them.
 */
import { describe, expect, it } from 'vitest';
import type { Environ } from '@carafe/gateway';
import { Blueprint, Carafe, type Request } from '@carafe/core';
import { call, client, makeEnviron, mount } from './helpers.js';

/** The text a GET of `path` answers, in process, for `Host: example.com` unless `environ` says otherwise. */
async function get(app: Carafe, path: string, environ: Partial<Environ> = {}): Promise<string> {
  return (await call(app, makeEnviron({ PATH_INFO: path, HTTP_HOST: 'example.com', ...environ }))).text;
}

describe('urlFor options', () => {
  const app = new Carafe({ serverName: 'api.example.com', preferredUrlScheme: 'https' });
  app.get('/hello/:name', function hello() {
    return null;
  });
  app.get('/', function index(req: Request) {
    return JSON.stringify([
      req.urlFor('hello', { name: 'test x' }),
      req.urlFor('hello', { name: 'test x' }, { external: true }),
      req.urlFor('index', {}, { external: true, scheme: 'https' }),
      req.urlFor('index', {}, { scheme: 'https' }),
      req.urlFor('index', {}, { anchor: 'x y' }),
      req.urlFor('hello', { name: 'a' }, { query: { q: 'tea' }, anchor: 'top', external: true }),
    ]);
  });

  it('builds external URLs on the request host, with a scheme and an anchor (Flask: _external, _scheme, _anchor)', async () => {
    expect(JSON.parse(await get(app, '/'))).toEqual([
      '/hello/test%20x',
      'http://example.com/hello/test%20x',
      'https://example.com/',
      'https://example.com/',
      '/#x%20y',
      'http://example.com/hello/a?q=tea#top',
    ]);
    const mounted = JSON.parse(await get(app, '/', { SCRIPT_NAME: '/app', HTTP_HOST: 'example.com:8080' }));
    expect(mounted[1]).toBe('http://example.com:8080/app/hello/test%20x');
  });

  it('builds external URLs outside a request on config.serverName and config.preferredUrlScheme', () => {
    expect(app.urlFor('hello', { name: 'x' }, { external: true })).toBe('https://api.example.com/hello/x');
    expect(app.urlFor('hello', { name: 'x' }, { scheme: 'http' })).toBe('http://api.example.com/hello/x');
    const bare = new Carafe();
    bare.get('/', function index() {
      return null;
    });
    expect(() => bare.urlFor('index', {}, { external: true })).toThrow(/config\.serverName/);
  });

  it("refuses what would otherwise land in the query string: Flask's _external spelling, unknown options", () => {
    expect(() => app.urlFor('index', { _external: true })).toThrow(/pass \{ external: … \}/);
    expect(() => app.urlFor('index', {}, { tag: 'a' } as never)).toThrow(/unknown option "tag"/);
    expect(() => app.urlFor('index', {}, { scheme: 'https', external: false })).toThrow(TypeError);
  });
});

describe('an endpoint with several rules', () => {
  it('builds from the rule the params fit, most params first (Werkzeug)', () => {
    const app = new Carafe();
    const index = () => null;
    app.get('/', index);
    app.get('/:test/', index);
    expect(app.urlFor('index')).toBe('/');
    expect(app.urlFor('index', { test: 'b' })).toBe('/b/');
  });

  it('builds from the rule that answers the method (Flask: _method)', () => {
    const app = new Carafe();
    const myview = () => null;
    app.get('/myview/', myview);
    app.get('/myview/:id', myview);
    app.post('/myview/create', myview);
    expect(app.urlFor('myview', {}, { method: 'GET' })).toBe('/myview/');
    expect(app.urlFor('myview', { id: 42 }, { method: 'GET' })).toBe('/myview/42');
    expect(app.urlFor('myview', {}, { method: 'POST' })).toBe('/myview/create');
    expect(app.urlFor('myview')).toBe('/myview/');
    expect(() => app.urlFor('myview', {}, { method: 'DELETE' })).toThrow(/no route answers DELETE/);
  });

  it('builds from a GET route first when no method is given (test_method_fallback)', () => {
    const app = new Carafe();
    const search = () => null;
    app.post('/search_post', search);
    app.get('/search_get', search);
    expect(app.urlFor('search')).toBe('/search_get');
    expect(app.urlFor('search', {}, { method: 'POST' })).toBe('/search_post');
    expect(app.urlFor('search', {}, { method: 'HEAD' })).toBe('/search_get');
  });

  it('merges the methods of one path registered under one name', () => {
    const app = new Carafe();
    const item = () => null;
    app.route('/item').get(item).put(item);
    app.get('/item/:id', item);
    expect(app.urlFor('item', {}, { method: 'PUT' })).toBe('/item');
  });

  it('skips a rule whose params schema the values do not fit', () => {
    const app = new Carafe();
    const item = () => null;
    app.get('/items/:key', { name: 'item', schema: { params: { type: 'object', properties: { key: { type: 'integer' } } } } }, item);
    app.get('/by-slug/:key', { name: 'item' }, item);
    expect(app.urlFor('item', { key: 42 })).toBe('/items/42');
    expect(app.urlFor('item', { key: 'tea-pot' })).toBe('/by-slug/tea-pot');
  });
});

describe('urlDefaults and urlValuePreprocessor', () => {
  it('carry a language code from URL to URL on the app (Flask test_url_processors)', async () => {
    const app = new Carafe();
    app.urlDefaults((name, params, req) => {
      if (req?.state.lang !== undefined && name !== 'somethingElse') params.lang ??= req.state.lang;
    });
    app.urlValuePreprocessor((_name, params, req) => {
      req.state.lang = params.lang;
      delete params.lang;
    });
    app.get('/:lang/', function index(req) {
      return req.urlFor('about');
    });
    app.get('/:lang/about', function about(req) {
      return req.urlFor('somethingElse');
    });
    app.get('/foo', function somethingElse(req) {
      return req.urlFor('about', { lang: 'en' });
    });
    const http = client(app);
    await http.get('/de/').expect(200, '/de/about');
    await http.get('/de/about').expect(200, '/foo');
    await http.get('/foo').expect(200, '/en/about');
  });

  it("write a language-prefix blueprint like Flask's docs (test_blueprint_url_processors)", async () => {
    const bp = new Blueprint('frontend', { urlPrefix: '/:lang' });
    bp.urlDefaults((_name, params, req) => {
      params.lang ??= req?.state.lang;
    });
    bp.urlValuePreprocessor((_name, params, req) => {
      req.state.lang = params.lang;
      delete params.lang;
    });
    bp.get('/', { name: 'index' }, (req) => ({ url: req.urlFor('.about'), params: req.params }));
    bp.get('/about', { name: 'about' }, (req) => ({ url: req.urlFor('.index'), params: req.params }));
    const app = new Carafe();
    app.register(bp);
    const http = client(mount('/site', app));
    await http.get('/site/de/').expect(200, { url: '/site/de/about', params: {} });
    await http.get('/site/de/about').expect(200, { url: '/site/de/', params: {} });
    // Outside a request the defaults see no request: the value must be given.
    expect(app.urlFor('frontend.about', { lang: 'fr' })).toBe('/fr/about');
  });

  it('register app-wide from a blueprint (Flask: app_url_defaults, app_url_value_preprocessor)', async () => {
    const bp = new Blueprint('bp');
    bp.appUrlDefaults((_name, params, req) => {
      params.lang ??= req?.state.lang;
    });
    bp.appUrlValuePreprocessor((_name, params, req) => {
      req.state.lang = params.lang;
      delete params.lang;
    });
    const app = new Carafe();
    app.get('/:lang/', function index(req) {
      return req.urlFor('about');
    });
    app.get('/:lang/about', function about(req) {
      return req.urlFor('index');
    });
    app.register(bp);
    const http = client(app);
    await http.get('/de/').expect(200, '/de/about');
    await http.get('/de/about').expect(200, '/de/');
  });

  it("run the defaults of the target route's blueprints, outermost first", () => {
    const calls: string[] = [];
    const outer = new Blueprint('outer', { urlPrefix: '/o' });
    const inner = new Blueprint('inner', { urlPrefix: '/i' });
    outer.urlDefaults(() => void calls.push('outer'));
    inner.urlDefaults((_name, params) => {
      calls.push('inner');
      params.page = 'login';
    });
    inner.get('/:page', { name: 'view' }, () => null);
    outer.register(inner);
    const app = new Carafe();
    app.urlDefaults((name) => void calls.push(`app ${name}`));
    app.register(outer);
    expect(app.urlFor('outer.inner.view')).toBe('/o/i/login');
    expect(calls).toEqual(['app outer.inner.view', 'outer', 'inner']);
  });
});

describe('blueprint rule paths', () => {
  it.each([
    ['', '/', '/'],
    ['/', '', '/'],
    ['/', '/', '/'],
    ['/foo', '', '/foo'],
    ['/foo/', '', '/foo/'],
    ['', '/bar', '/bar'],
    ['/foo/', '/bar', '/foo/bar'],
    ['/foo/', 'bar', '/foo/bar'],
    ['/foo', 'bar', '/foo/bar'],
    ['', 'bar', '/bar'],
    ['/foo/', '//bar', '/foo/bar'],
    ['/foo//', '/bar', '/foo/bar'],
  ])('joins prefix %j and rule %j into %j, like Flask', async (prefix, rule, url) => {
    const bp = new Blueprint('test', { urlPrefix: prefix });
    bp.get(rule, () => null);
    const app = new Carafe();
    app.register(bp);
    await client(app).get(url).expect(204);
  });

  it('refuses a relative rule on the app itself, as Werkzeug does', () => {
    expect(() => new Carafe().get('bar', () => null)).toThrow(/must start with "\/"/);
  });
});
