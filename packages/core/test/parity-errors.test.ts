/**
 * Flask's error and hook behaviours (tests/test_basic.py, test_blueprints.py,
 * test_user_error_handler.py), as Carafe answers them.
 */
import { describe, expect, it } from 'vitest';
import {
  Blueprint,
  Carafe,
  Forbidden,
  HttpError,
  InternalServerError,
  NotFound,
  Response,
  abort,
  afterThisRequest,
  json,
} from '@carafe/core';
import { client, makeEnviron, memoryErrors } from './helpers.js';

class ForbiddenSubclass extends Forbidden {}

describe('error handler lookup', () => {
  it('prefers a handler for the exact class over one for its status, and the status over base classes', async () => {
    const app = new Carafe();
    app.errorHandler(ForbiddenSubclass, (error) => {
      expect(error).toBeInstanceOf(ForbiddenSubclass);
      return 'banana';
    });
    app.errorHandler(403, (error) => {
      expect(error).not.toBeInstanceOf(ForbiddenSubclass);
      return 'apple';
    });
    app.errorHandler(HttpError, () => 'any http error');
    app.get('/1', () => {
      throw new ForbiddenSubclass();
    });
    app.get('/2', () => abort(403));
    app.get('/3', () => {
      throw new Forbidden();
    });
    app.get('/4', () => {
      throw new HttpError(403); // no Forbidden in its chain: the status handler still applies
    });
    app.get('/5', () => abort(409));
    const http = client(app);
    await http.get('/1').expect(200, 'banana');
    await http.get('/2').expect(200, 'apple');
    await http.get('/3').expect(200, 'apple');
    await http.get('/4').expect(200, 'apple');
    await http.get('/5').expect(200, 'any http error');
  });

  it('looks in the blueprint before the app, the status before the base classes', async () => {
    const app = new Carafe();
    const bp = new Blueprint('bp');
    bp.errorHandler(403, () => 'blueprint 403');
    app.errorHandler(ForbiddenSubclass, () => 'app subclass');
    app.errorHandler(Error, () => 'app Error');
    bp.get('/bp', () => {
      throw new ForbiddenSubclass();
    });
    app.get('/app', () => {
      throw new ForbiddenSubclass();
    });
    app.register(bp);
    const http = client(app);
    await http.get('/bp').expect(200, 'blueprint 403');
    await http.get('/app').expect(200, 'app subclass');
  });

  it('refuses handlers that could never match', () => {
    const app = new Carafe();
    expect(() => app.errorHandler(999, () => null)).toThrow(RangeError);
    expect(() => app.errorHandler(new NotFound() as never, () => null)).toThrow(/not an instance/);
  });
});

describe('errors outside the handler', () => {
  it('sends an error of an after hook, or of a before hook, through the 500 handler', async () => {
    let trigger = '';
    const seen: unknown[] = [];
    const app = new Carafe();
    app.beforeRequest(() => {
      if (trigger === 'before') throw new TypeError('before failed');
    });
    app.afterRequest((response) => void response.headers.set('x-after', 'ran'));
    app.afterRequest(() => {
      if (trigger === 'after') throw new TypeError('after failed');
    });
    app.teardownRequest((error) => void seen.push(error));
    app.errorHandler(
      500,
      (error: InternalServerError) => new Response(`Hello Server Error: ${(error.cause as Error).message}`, { status: 500 }),
    );
    app.get('/', () => 'Foo');
    const errors = memoryErrors();
    const http = client(app, errors);
    for (trigger of ['before', 'after']) {
      const res = await http.get('/').expect(500);
      expect(res.text).toBe(`Hello Server Error: ${trigger} failed`);
    }
    // The after hooks ran again on the error answer; the failing one only logged the second time.
    expect(errors.text()).toMatch(/Finishing the error response failed/);
    expect(seen.map((error) => (error as Error).message)).toEqual(['before failed', 'after failed']);
  });

  it('answers through the 500 handler when an error handler fails', async () => {
    const app = new Carafe();
    app.errorHandler(404, () => {
      throw new Error('handler broke');
    });
    app.errorHandler(InternalServerError, () => new Response('500 handler', { status: 500 }));
    await client(app, memoryErrors()).get('/missing').expect(500, '500 handler');
  });
});

describe('abort(response)', () => {
  it('sends a ready response as it is, past the error handlers, through the after hooks', async () => {
    const app = new Carafe();
    app.errorHandler(401, () => 'never');
    app.errorHandler(Error, () => 'never');
    app.afterRequest((response) => void response.headers.set('x-after', '1'));
    app.beforeRequest((req) => {
      if (!req.header('authorization')) abort(json({ login: '/login' }, { status: 401, headers: { 'www-authenticate': 'Bearer' } }));
    });
    app.get('/', () => abort(new Response('teapot', { status: 418 })));
    const http = client(app);
    await http.get('/').expect(401, { login: '/login' }).expect('www-authenticate', 'Bearer').expect('x-after', '1');
    await http.get('/').set('authorization', 'x').expect(418, 'teapot').expect('x-after', '1');
  });
});

describe('app-wide hooks and handlers of a blueprint', () => {
  it('runs before/after/teardown app hooks on every request, once however often the blueprint is registered', async () => {
    const events: string[] = [];
    const bp = new Blueprint('bp');
    bp.beforeAppRequest(() => void events.push('before'));
    bp.afterAppRequest((response) => {
      events.push('after');
      return new Response(`${response.body as string}|after`, { status: response.status });
    });
    bp.teardownAppRequest(() => void events.push('teardown'));
    const app = new Carafe();
    app.register(bp);
    app.register(bp, { name: 'again', urlPrefix: '/again' });
    app.get('/', () => 'request');
    const http = client(app);
    await http.get('/').expect(200, 'request|after');
    expect(events).toEqual(['before', 'after', 'teardown']);
    await http.get('/missing').expect(404);
    expect(events).toEqual(['before', 'after', 'teardown', 'before', 'after', 'teardown']);
  });

  it('handles errors of the whole app with app error handlers', async () => {
    const errors = new Blueprint('errors');
    errors.appErrorHandler(403, () => new Response('you shall not pass', { status: 403 }));
    errors.appErrorHandler(NotFound, (_error, req) => json({ missing: req.path }, { status: 404 }));
    const forbidden = new Blueprint('forbidden_bp');
    forbidden.get('/nope', () => abort(403));
    const app = new Carafe();
    app.get('/forbidden', () => abort(403));
    app.register(errors);
    app.register(forbidden);
    const http = client(app);
    await http.get('/forbidden').expect(403, 'you shall not pass');
    await http.get('/nope').expect(403, 'you shall not pass');
    await http.get('/elsewhere').expect(404, { missing: '/elsewhere' });
  });

  it("lets the app's own handler win over a blueprint's app-wide one, and a blueprint's own over both", async () => {
    const bp = new Blueprint('bp');
    bp.appErrorHandler(403, () => 'app-wide');
    bp.errorHandler(403, () => 'blueprint');
    bp.get('/in-bp', () => abort(403));
    const app = new Carafe();
    app.get('/in-app', () => abort(403));
    app.register(bp);
    const http = client(app);
    await http.get('/in-bp').expect(200, 'blueprint');
    await http.get('/in-app').expect(200, 'app-wide');
    app.errorHandler(403, () => 'app');
    await http.get('/in-app').expect(200, 'app');
  });
});

describe('afterThisRequest', () => {
  it('runs on this response only, before the after hooks, on the fast path and on error answers', async () => {
    const order: string[] = [];
    const app = new Carafe();
    app.get('/plain', (req) => {
      req.afterThisRequest((response) => void response.headers.set('x-foo', 'a header'));
      return 'Test';
    });
    app.get('/other', () => 'no header');
    const hooked = new Blueprint('hooked');
    hooked.afterRequest(() => void order.push('afterRequest'));
    hooked.get('/order', (req) => {
      afterThisRequest(req, () => void order.push('first'));
      afterThisRequest(req, () => void order.push('second'));
      return 'ok';
    });
    hooked.get('/fails', (req) => {
      afterThisRequest(req, (response) => void response.headers.set('x-cleanup', 'yes'));
      return abort(409);
    });
    hooked.get('/replaces', (req) => {
      req.afterThisRequest(() => ({ replaced: true }));
      return 'original';
    });
    app.register(hooked);
    const http = client(app);
    await http.get('/plain').expect(200, 'Test').expect('x-foo', 'a header');
    const other = await http.get('/other').expect(200);
    expect(other.headers['x-foo']).toBeUndefined();
    await http.get('/order').expect(200);
    expect(order).toEqual(['first', 'second', 'afterRequest']);
    await http.get('/fails').expect(409).expect('x-cleanup', 'yes');
    await http.get('/replaces').expect(200, { replaced: true });
  });

  it('keeps a route without hooks synchronous when nobody registers one', () => {
    const app = new Carafe();
    app.get('/', () => 'sync');
    const result = app(makeEnviron());
    expect(result).not.toBeInstanceOf(Promise);
  });
});
