import { describe, expect, it } from 'vitest';
import { BadRequest, Blueprint, Carafe, Conflict, HttpError, NotFound, Response, abort, httpError } from '@carafe/core';
import { client, memoryErrors } from './helpers.js';

class AppError extends Error {}
class PaymentError extends AppError {}

describe('errors', () => {
  it('answers abort() and HttpErrors as RFC 9457 problems', async () => {
    const app = new Carafe();
    app.get('/gone', () => abort(404, 'No such user'));
    app.get('/conflict', () => {
      throw new Conflict('Email taken', { type: 'https://example.com/problems/taken', extensions: { email: 'a@b.c' } });
    });
    app.get('/teapot', () => abort(418));
    app.get('/retry', () => abort(503, undefined, { headers: { 'retry-after': '5' } }));
    const http = client(app);
    const gone = await http.get('/gone').expect(404).expect('content-type', 'application/problem+json');
    expect(gone.body).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such user', instance: '/gone' });
    const conflict = await http.get('/conflict').expect(409);
    expect(conflict.body).toEqual({
      type: 'https://example.com/problems/taken',
      title: 'Conflict',
      status: 409,
      detail: 'Email taken',
      instance: '/conflict',
      email: 'a@b.c',
    });
    const teapot = await http.get('/teapot').expect(418);
    expect(teapot.body.title).toBe("I'm a Teapot");
    await http.get('/retry').expect(503).expect('retry-after', '5');
  });

  it('throws typed errors from abort', () => {
    expect(() => abort(404)).toThrow(NotFound);
    expect(() => abort(400, 'x')).toThrow(BadRequest);
    expect(httpError(499)).toBeInstanceOf(HttpError);
    expect(() => abort(200)).toThrow(RangeError);
  });

  it('logs unknown errors to tsgi.errors and hides their message unless debug is on', async () => {
    const app = new Carafe();
    app.get('/boom', () => {
      throw new Error('database password is hunter2');
    });
    const errors = memoryErrors();
    const res = await client(app, errors).get('/boom').expect(500).expect('content-type', 'application/problem+json');
    expect(res.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, instance: '/boom' });
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2/);
    expect(errors.text()).toMatch(/GET \/boom/);
    expect(errors.text()).toMatch(/hunter2/);

    app.config.debug = true;
    const debug = await client(app, memoryErrors()).get('/boom').expect(500);
    expect(debug.body.detail).toMatch(/hunter2/);
  });

  it('handles async rejections the same way', async () => {
    const app = new Carafe();
    app.get('/async', async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw new NotFound('later');
    });
    const res = await client(app).get('/async').expect(404);
    expect(res.body.detail).toBe('later');
  });

  it('dispatches to error handlers by status and by class', async () => {
    const app = new Carafe();
    app.errorHandler(404, (error: HttpError, req) => new Response(`custom 404 for ${req.path}`, { status: 404 }));
    app.errorHandler(AppError, () => ({ handled: 'AppError' }));
    app.get('/app-error', () => {
      throw new AppError('x');
    });
    const http = client(app);
    await http.get('/missing').expect(404, 'custom 404 for /missing');
    await http.get('/app-error').expect(200, { handled: 'AppError' });
  });

  it('prefers the exact class over a base class', async () => {
    const app = new Carafe();
    app.errorHandler(AppError, () => 'base');
    app.errorHandler(PaymentError, () => new Response('exact', { status: 402 }));
    app.errorHandler(HttpError, (e: HttpError) => new Response(`http ${e.status}`, { status: e.status }));
    app.errorHandler(NotFound, () => new Response('not found class', { status: 404 }));
    app.get('/pay', () => {
      throw new PaymentError('no money');
    });
    app.get('/app', () => {
      throw new AppError('generic');
    });
    app.get('/nf', () => abort(404));
    app.get('/conflict', () => abort(409));
    const http = client(app);
    await http.get('/pay').expect(402, 'exact');
    await http.get('/app').expect(200, 'base');
    await http.get('/nf').expect(404, 'not found class');
    await http.get('/conflict').expect(409, 'http 409');
  });

  it('prefers blueprint handlers over app handlers, for the blueprint routes only', async () => {
    const app = new Carafe();
    const api = new Blueprint('api', { urlPrefix: '/api' });
    app.errorHandler(AppError, () => 'app handler');
    app.errorHandler(404, () => new Response('app 404', { status: 404 }));
    api.errorHandler(AppError, () => 'blueprint handler');
    api.errorHandler(404, () => new Response('api 404', { status: 404 }));
    api.get('/fail', () => {
      throw new PaymentError();
    });
    api.get('/missing', () => abort(404));
    app.get('/fail', () => {
      throw new PaymentError();
    });
    app.register(api);
    const http = client(app);
    await http.get('/api/fail').expect(200, 'blueprint handler');
    await http.get('/fail').expect(200, 'app handler');
    await http.get('/api/missing').expect(404, 'api 404');
    await http.get('/api/unrouted').expect(404, 'app 404');
  });

  it('calls a 500 handler for unhandled errors, which still get logged', async () => {
    const app = new Carafe();
    app.errorHandler(500, (e: HttpError) => new Response(`oops: ${(e.cause as Error).message}`, { status: 500 }));
    app.get('/', () => {
      throw new TypeError('bad');
    });
    const errors = memoryErrors();
    await client(app, errors).get('/').expect(500, 'oops: bad');
    expect(errors.text()).toMatch(/TypeError: bad/);
  });

  it('answers 500 when an error handler itself fails', async () => {
    const app = new Carafe();
    app.errorHandler(NotFound, () => {
      throw new Error('handler broke');
    });
    const errors = memoryErrors();
    const res = await client(app, errors).get('/x').expect(500);
    expect(res.body.status).toBe(500);
    expect(errors.text()).toMatch(/handler broke/);
  });
});
