/**
 * Werkzeug's routing behaviours (tests/test_routing.py: strict slashes, merged slashes, converters,
 * empty PATH_INFO), as Carafe answers them.
 */
import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe } from '@carafe/core';
import { Router } from '../src/routing.js';
import { call, client, makeEnviron } from './helpers.js';

describe('strict slashes (test_strict_slashes_redirect)', () => {
  it('redirects to the slash form when it answers the method, even if the bare path answers another', async () => {
    for (const order of ['slash first', 'bare first']) {
      const app = new Carafe();
      const slash = () => app.get('/bar/', () => 'get');
      const bare = () => app.post('/bar', () => 'post');
      if (order === 'slash first') {
        slash();
        bare();
      } else {
        bare();
        slash();
      }
      app.post('/foo/', () => 'foo');
      app.get('/*path/', (req) => req.params.path.join('/'));
      const http = client(app);
      await http.get('/bar/').expect(200, 'get');
      await http.post('/bar').expect(200, 'post');
      await http.get('/bar?x=1').expect(308).expect('location', '/bar/?x=1');
      await http.post('/bar/').expect(405).expect('allow', 'GET, HEAD, OPTIONS');
      await http.put('/bar').expect(405).expect('allow', 'POST, OPTIONS');
      await http.post('/foo').expect(308).expect('location', '/foo/');
      await http.get('/abc').expect(308).expect('location', '/abc/');
      await http.get('/abc/').expect(200, 'abc');
    }
  });

  it('percent-encodes the redirect target (test_unicode_rules, test_redirect_path_quoting)', async () => {
    const app = new Carafe();
    app.get('/войти/', () => 'enter');
    app.get('/foo\\+bar/', () => 'foobar'); // '+' is reserved in path-to-regexp: escaped
    const http = client(app);
    await http.get('/%D0%B2%D0%BE%D0%B9%D1%82%D0%B8').expect(308).expect('location', '/%D0%B2%D0%BE%D0%B9%D1%82%D0%B8/');
    await http.get('/foo+bar').expect(308).expect('location', '/foo+bar/');
    await http.get('/%D0%B2%D0%BE%D0%B9%D1%82%D0%B8/').expect(200, 'enter');
  });

  it('redirects before trying a param route, as Werkzeug raises as soon as the walk meets the slash form', () => {
    const router = new Router<string>();
    router.add('/users/', ['GET'], 'list');
    router.add('/:page', ['GET'], 'page');
    expect(router.match('GET', '/users')).toEqual({ kind: 'redirect', path: '/users/' });
    expect(router.match('GET', '/about')).toMatchObject({ kind: 'found', target: 'page' });
  });
});

describe('merged slashes (test_merge_slashes_match)', () => {
  const app = new Carafe();
  app.get('/no/tail', () => 'no_tail');
  app.get('/yes/tail/', () => 'yes_tail');
  app.get('/with/*path', (req) => req.params.path.join('/'));
  app.get('/merge/:some/path', (req) => req.params.some);
  const http = client(app);

  it('redirects a path with empty segments to the merged path that matches', async () => {
    await http.get('/no//tail').expect(308).expect('location', '/no/tail');
    await http.get('/yes//tail').expect(308).expect('location', '/yes/tail/');
    await http.get('/yes/tail//').expect(308).expect('location', '/yes/tail/');
    await http.get('//yes///tail////?q=1').expect(308).expect('location', '/yes/tail/?q=1');
    await http.get('/no/tail').expect(200, 'no_tail');
    await http.get('/merge/%25//path').expect(308).expect('location', '/merge/%25/path');
  });

  it('leaves a path a route matches as it is, and answers 405/404 by the merged path otherwise', async () => {
    await http.get('/with/x//y').expect(200, 'x//y');
    await http.post('/no//tail').expect(405).expect('allow', 'GET, HEAD, OPTIONS');
    await http.get('/nothing//here').expect(404);
  });

  it('never redirects to another host', async () => {
    const open = new Carafe();
    open.get('/*rest/', () => 'x');
    const res = await call(open, makeEnviron({ PATH_INFO: '//evil.example/x' }));
    expect(res.status).toBe(308);
    expect(res.headers.find(([name]) => name === 'location')?.[1]).toMatch(/^\/[^/]/);
  });
});

describe('params typed by their schema, like converters', () => {
  const integerId = { params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } } as const;

  it('lets two rules that differ only by their params types coexist, the typed one first', async () => {
    for (const order of ['typed first', 'typed last']) {
      const app = new Carafe();
      const typed = () => app.get('/items/:id', { schema: integerId }, (req) => ({ id: req.params.id }));
      const slug = () => app.get('/items/:slug', (req) => ({ slug: req.params.slug }));
      if (order === 'typed first') {
        typed();
        slug();
      } else {
        slug();
        typed();
      }
      const http = client(app);
      await http.get('/items/42').expect(200, { id: 42 });
      await http.get('/items/tea-pot').expect(200, { slug: 'tea-pot' });
    }
  });

  it('goes on to a wildcard or another blueprint when a typed param does not fit', async () => {
    const app = new Carafe();
    const numbers = new Blueprint('numbers');
    numbers.get('/n/:id', { schema: integerId }, (req) => `number ${req.params.id}`);
    app.register(numbers);
    app.get('/n/*rest', (req) => `rest ${req.params.rest.join('/')}`);
    const http = client(app);
    await http.get('/n/7').expect(200, 'number 7');
    await http.get('/n/seven').expect(200, 'rest seven');
  });

  it('answers 400 with the field errors when the only matching rule refuses its params (Werkzeug: 404)', async () => {
    const app = new Carafe();
    app.get('/only/:id', { schema: integerId }, (req) => ({ id: req.params.id }));
    const res = await client(app).get('/only/x').expect(400);
    expect(res.body.errors).toEqual([{ location: 'params', field: '/id', message: 'must be integer' }]);
  });

  it('hands URL value preprocessors and before hooks the converted params', async () => {
    const seen: unknown[] = [];
    const app = new Carafe();
    app.urlValuePreprocessor((_name, params) => void seen.push(params.id));
    app.beforeRequest((req) => void seen.push(req.params.id));
    app.get('/p/:id', { schema: integerId }, (req) => ({ id: req.params.id }));
    await client(app).get('/p/5').expect(200, { id: 5 });
    expect(seen).toEqual([5, 5]);
  });
});

describe('empty PATH_INFO (test_empty_path_info)', () => {
  it('redirects a mounted app asked for its bare mount point to its root', async () => {
    const app = new Carafe();
    app.get('/', () => 'index');
    const res = await call(app, makeEnviron({ SCRIPT_NAME: '/approot', PATH_INFO: '', QUERY_STRING: 'a=1' }));
    expect(res.status).toBe(308);
    expect(res.headers).toContainEqual(['location', '/approot/?a=1']);
    expect((await call(app, makeEnviron({ PATH_INFO: '' }))).text).toBe('index');
  });
});
