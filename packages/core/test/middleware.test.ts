/**
 * TSGI middleware on an app (`app.use`), a blueprint (`bp.use`) and a route (`middleware` option),
 * content negotiation (`req.accepts*`, `produces` → 406), `req.auth`/`req.user`, and what OpenAPI
 * reads from middleware that describe themselves.
 */
import { describe, expect, it } from 'vitest';
import { keepLifespan, mapResponse, withHeader, type TsgiMiddleware } from '@carafe/gateway';
import { ALLOWED_METHODS_KEY, Blueprint, Carafe, text } from '@carafe/core';
import { makeEnviron } from './helpers.js';

/** A middleware that tags responses with `X-Via: name` (appended in order) and counts how often it was composed. */
function tag(name: string, composed: string[] = []): TsgiMiddleware {
  return (app) => {
    composed.push(name);
    return keepLifespan((environ) => mapResponse(app(environ), (res) => withHeader(res, 'X-Via', name)), app);
  };
}

const via = (res: Response) => res.headers.get('x-via');

describe('app.use, bp.use and route middleware', () => {
  it('wraps the whole app with app.use (404s included) and only a blueprint’s routes with bp.use', async () => {
    const app = new Carafe();
    app.use(tag('app'));
    const bp = new Blueprint('bp', { urlPrefix: '/bp' });
    bp.use(tag('bp'));
    bp.get('/a', () => 'a');
    bp.get('/b', { middleware: [tag('route')] }, () => 'b');
    app.register(bp);
    app.get('/top', () => 'top');
    expect(via(await app.request('/bp/a'))).toBe('bp, app');
    expect(via(await app.request('/bp/b'))).toBe('route, bp, app');
    expect(via(await app.request('/top'))).toBe('app');
    expect(via(await app.request('/nowhere'))).toBe('app');
  });

  it('composes once, when the routes are built, and leaves routes without middleware on the synchronous path', async () => {
    const composed: string[] = [];
    const app = new Carafe();
    app.get('/plain', () => ({ ok: true }));
    app.get('/wrapped', { middleware: [tag('r', composed)] }, () => ({ ok: true }));
    for (let i = 0; i < 3; i++) await app.request('/wrapped');
    expect(composed).toEqual(['r']);
    const result = app(makeEnviron({ PATH_INFO: '/plain' }));
    expect(result).not.toBeInstanceOf(Promise);
  });

  it('lets route middleware answer without calling the route, and outer ones see that answer', async () => {
    const deny: TsgiMiddleware = () => () => ({ status: 403, headers: [], body: [] });
    let called = false;
    const app = new Carafe();
    app.use(tag('app'));
    app.post('/x', { middleware: [deny] }, () => {
      called = true;
      return null;
    });
    const res = await app.request('/x', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(via(res)).toBe('app');
    expect(called).toBe(false);
  });

  it('gives middleware the methods a path answers (environ resolver, app.allowedMethods) and runs route middleware for automatic OPTIONS', async () => {
    let seen: unknown;
    const spy: TsgiMiddleware = (app) => (environ) => {
      seen = (environ[ALLOWED_METHODS_KEY] as (p: string) => unknown)?.(environ.PATH_INFO);
      return app(environ);
    };
    const app = new Carafe();
    app
      .route('/items/:id')
      .get(() => 'x')
      .delete(() => null);
    app.post('/bp-only', { middleware: [spy, tag('route')] }, () => null);
    expect(app.allowedMethods('/items/3')).toEqual(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
    expect(app.allowedMethods('/none')).toBeUndefined();
    const options = await app.request('/bp-only', { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    expect(via(options)).toBe('route');
    expect(seen).toEqual(['POST', 'OPTIONS']);
    app.use(spy);
    await app.request('/items/3');
    expect(seen).toEqual(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
  });

  it('runs the lifespan of app-level middleware with the app’s', async () => {
    const events: string[] = [];
    const withLifespan: TsgiMiddleware = (inner) => {
      const outer = (environ: Parameters<typeof inner>[0]) => inner(environ);
      outer.lifespan = { startup: () => void events.push('mw up'), shutdown: () => void events.push('mw down') };
      return outer;
    };
    const app = new Carafe();
    app.use(withLifespan);
    app.onStartup(() => void events.push('app up'));
    app.onShutdown(() => void events.push('app down'));
    await app.lifespan.startup();
    await app.lifespan.shutdown();
    expect(events).toEqual(['mw up', 'app up', 'app down', 'mw down']);
  });

  it('refuses what is not a middleware', () => {
    expect(() => new Carafe().use('cors' as never)).toThrow(TypeError);
  });
});

describe('content negotiation', () => {
  const app = new Carafe();
  app.get('/report', { produces: ['application/json', 'text/csv'] }, (req) =>
    req.accepts('json', 'csv') === 'csv' ? text('a,b\n1,2\n', { headers: { 'content-type': 'text/csv' } }) : [{ a: 1, b: 2 }],
  );
  app.get('/neg', (req) => ({
    type: req.accepts('text/html', 'application/json'),
    all: req.accepts(),
    encoding: req.acceptsEncodings('br', 'gzip'),
    charset: req.acceptsCharsets('utf-8', 'iso-8859-1'),
    language: req.acceptsLanguages('en', 'fr'),
  }));

  it('answers 406 when the route produces nothing the client accepts, and lets the handler pick', async () => {
    const refused = await app.request('/report', { headers: { accept: 'image/png' } });
    expect(refused.status).toBe(406);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await refused.json()) as { detail: string }).detail).toContain('application/json, text/csv');
    expect(await (await app.request('/report', { headers: { accept: 'text/csv' } })).text()).toBe('a,b\n1,2\n');
    expect(await (await app.request('/report', { headers: { accept: 'application/*' } })).json()).toEqual([{ a: 1, b: 2 }]);
    expect((await app.request('/report')).status).toBe(200);
    expect((await app.request('/report', { headers: { accept: '*/*;q=0.1, text/csv' } })).headers.get('content-type')).toBe('text/csv');
  });

  it('negotiates types, encodings, charsets and languages by q-values', async () => {
    const res = await app.request('/neg', {
      headers: {
        accept: 'application/json;q=0.9, text/html',
        'accept-encoding': 'gzip, br;q=0.5',
        'accept-charset': 'iso-8859-1',
        'accept-language': 'fr-CH, fr;q=0.9, en;q=0.8',
      },
    });
    expect(await res.json()).toEqual({
      type: 'text/html',
      all: ['text/html', 'application/json'],
      encoding: 'gzip',
      charset: 'iso-8859-1',
      language: 'fr',
    });
    const none = await app.request('/neg', { headers: { accept: 'image/png', 'accept-language': 'de' } });
    expect(await none.json()).toMatchObject({ type: false, language: false });
  });

  it('documents produced media types in OpenAPI', () => {
    const doc = app.openapi({ title: 't', version: '1' }) as any;
    expect(Object.keys(doc.paths['/report'].get.responses['200'].content)).toEqual(['application/json', 'text/csv']);
  });
});

describe('req.auth and OpenAPI from middleware', () => {
  it('reads the identity an authentication middleware left in environ["carafe.auth"]', async () => {
    const fakeAuth: TsgiMiddleware = (app) => (environ) => {
      environ['carafe.auth'] = { scheme: 'Bearer', subject: 'ada', scopes: ['w'], user: { name: 'Ada' } };
      return app(environ);
    };
    const app = new Carafe();
    app.get('/me', { middleware: [fakeAuth] }, (req) => ({ subject: req.auth?.subject, user: req.user }));
    app.get('/anon', (req) => ({ auth: req.auth ?? null }));
    expect(await (await app.request('/me')).json()).toEqual({ subject: 'ada', user: { name: 'Ada' } });
    expect(await (await app.request('/anon')).json()).toEqual({ auth: null });
  });

  it('puts what middleware describe into securitySchemes, security (ANDed when stacked) and responses', () => {
    const described = (name: string, scopes: string[]) =>
      Object.assign(((app) => app) as TsgiMiddleware, {
        openapi: {
          securitySchemes: { [name]: { type: 'http', scheme: name } },
          security: [{ [name]: scopes }],
          responses: { '401': { description: `no ${name}` } },
        },
      });
    const app = new Carafe();
    app.use(described('basic', []));
    const bp = new Blueprint('admin', { urlPrefix: '/admin' });
    bp.use(described('bearer', ['admin']));
    bp.delete('/users/:id', () => null);
    app.register(bp);
    app.get('/public', () => 'x');
    const doc = app.openapi({ title: 't', version: '1' }) as any;
    expect(doc.components.securitySchemes).toEqual({
      basic: { type: 'http', scheme: 'basic' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    expect(doc.paths['/admin/users/{id}'].delete.security).toEqual([{ basic: [], bearer: ['admin'] }]);
    expect(doc.paths['/admin/users/{id}'].delete.responses['401']).toEqual({ description: 'no bearer' });
    expect(doc.paths['/public'].get.security).toEqual([{ basic: [] }]);
  });
});
