import { describe, expect, it } from 'vitest';
import { BodyTooLargeError, ClientDisconnected, HttpStatusError } from '@carafe/gateway';
import { Carafe, ContentTooLarge, HttpError, NotFound, httpError, json, reasonPhrase } from '@carafe/core';
import { call, failingInput, makeEnviron, memoryErrors } from './helpers.js';

/** A POST whose body the server cuts off with `error` after a first chunk. */
function post(path: string, error: Error) {
  const errors = memoryErrors();
  const environ = makeEnviron({
    REQUEST_METHOD: 'POST',
    PATH_INFO: path,
    CONTENT_TYPE: 'application/json',
    'tsgi.input': failingInput(error, '{"pad":"'),
    'tsgi.errors': errors,
  });
  return { environ, errors };
}

describe('errors the server raises while the body is read', () => {
  function bodyApp() {
    const app = new Carafe();
    app.post('/json', async (req) => req.json());
    app.post('/text', async (req) => req.text());
    app.post('/form', async (req) => req.form());
    app.post('/schema', { schema: { body: { type: 'object' } } }, (req) => req.body);
    return app;
  }

  it.each(['/json', '/text', '/schema'])('answers the server body limit (413) on %s as a problem, not a 500', async (path) => {
    const { environ, errors } = post(path, new BodyTooLargeError(1000));
    const res = await call(bodyApp(), environ);
    expect(res.status).toBe(413);
    expect(res.headers).toContainEqual(['content-type', 'application/problem+json']);
    expect(JSON.parse(res.text)).toEqual({
      type: 'about:blank',
      title: reasonPhrase(413),
      status: 413,
      detail: 'The request body exceeds 1000 bytes.',
      instance: path,
    });
    expect(errors.text()).toBe('');
  });

  it('answers it on a form route too', async () => {
    const { environ, errors } = post('/form', new BodyTooLargeError(1000));
    environ.CONTENT_TYPE = 'application/x-www-form-urlencoded';
    const res = await call(bodyApp(), environ);
    expect(res.status).toBe(413);
    expect(errors.text()).toBe('');
  });

  it('hands it to the error handlers of its status and class, as the HttpError of that status', async () => {
    const app = bodyApp();
    const seen: unknown[] = [];
    app.errorHandler(413, (error) => {
      seen.push(error);
      return json({ tooBig: true }, { status: 413 });
    });
    const { environ } = post('/json', new BodyTooLargeError(1000));
    const res = await call(app, environ);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toEqual({ tooBig: true });
    expect(seen[0]).toBeInstanceOf(ContentTooLarge);
    expect((seen[0] as Error).cause).toBeInstanceOf(BodyTooLargeError);

    const byClass = bodyApp();
    byClass.errorHandler(ContentTooLarge, () => json({ byClass: true }, { status: 413 }));
    expect(JSON.parse((await call(byClass, post('/text', new BodyTooLargeError(10)).environ)).text)).toEqual({ byClass: true });
  });

  it('answers any other HttpStatusError with its status', async () => {
    const app = new Carafe();
    app.get('/', () => {
      throw new HttpStatusError(429, 'Slow down.');
    });
    const res = await call(app, makeEnviron());
    expect(res.status).toBe(429);
    expect(JSON.parse(res.text)).toMatchObject({ status: 429, title: 'Too Many Requests', detail: 'Slow down.' });
  });

  it('does not log a client that went away, nor run error handlers, and tells teardown', async () => {
    const app = bodyApp();
    const handled: unknown[] = [];
    const tornDown: unknown[] = [];
    app.errorHandler(Error, (error) => void handled.push(error));
    app.teardownRequest((error) => void tornDown.push(error));
    for (const path of ['/json', '/text', '/schema']) {
      const { environ, errors } = post(path, new ClientDisconnected());
      const res = await call(app, environ);
      expect(res.status).toBe(400);
      expect(errors.text()).toBe('');
    }
    expect(handled).toEqual([]);
    expect(tornDown).toHaveLength(3);
    expect(tornDown.every((error) => error instanceof ClientDisconnected)).toBe(true);
  });
});

describe('one kind of HTTP error across the stack', () => {
  it("makes core's HttpErrors gateway HttpStatusErrors, so servers answer them with their status", () => {
    const error = new NotFound('gone');
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(404);
    expect(httpError(499)).toBeInstanceOf(HttpStatusError);
    expect(() => new HttpError(302)).toThrow(RangeError);
  });
});
