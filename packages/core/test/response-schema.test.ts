/**
 * Response schemas apply to whatever the handler answers with a covered status: a plain value,
 * `json(value, { status })`, a Response built by hand with a JSON body. What does not fit is a
 * logged 500, never a coerced or leaking body.
 */
import { describe, expect, it } from 'vitest';
import { Carafe, Response, json, stream, text, NotFound } from '@carafe/core';
import { call, client, makeEnviron, memoryErrors } from './helpers.js';

const user = {
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' } },
  required: ['id', 'name'],
} as const;
const stored = { id: 7, name: 'Ada', passwordHash: 'secret-hash' };

function leakyApp(options: ConstructorParameters<typeof Carafe>[0] = {}) {
  const app = new Carafe(options);
  const schema = { response: { 200: user, 201: user } } as const;
  app.post('/created', { schema }, () => json({ ...stored }, { status: 201, headers: { location: '/users/7' } }));
  app.get('/json', { schema }, () => json({ ...stored }));
  app.get('/plain', { schema }, () => ({ ...stored }));
  app.get(
    '/by-hand',
    { schema },
    () => new Response(JSON.stringify(stored), { headers: { 'content-type': 'application/json', 'content-length': '999' } }),
  );
  app.get(
    '/bytes',
    { schema },
    () => new Response(Buffer.from(JSON.stringify(stored)), { headers: { 'content-type': 'application/json; charset=utf-8' } }),
  );
  app.get('/streamed', { schema }, () =>
    stream(
      (async function* () {
        yield '{"id":7,"name":"Ada",';
        yield '"passwordHash":"secret-hash"}';
      })(),
      { headers: { 'content-type': 'application/json' } },
    ),
  );
  app.get(
    '/problem-json',
    { schema: { response: { 404: user } } },
    () => new Response(JSON.stringify(stored), { status: 404, headers: { 'content-type': 'application/problem+json' } }),
  );
  return app;
}

describe('response schemas filter every JSON answer', () => {
  for (const [path, method, status] of [
    ['/created', 'post', 201],
    ['/json', 'get', 200],
    ['/plain', 'get', 200],
    ['/by-hand', 'get', 200],
    ['/bytes', 'get', 200],
    ['/streamed', 'get', 200],
    ['/problem-json', 'get', 404],
  ] as const) {
    it(`never sends passwordHash: ${method.toUpperCase()} ${path}`, async () => {
      const res = await client(leakyApp())[method](path).expect(status);
      expect(res.text).toBe('{"id":7,"name":"Ada"}');
      expect(res.headers['content-length']).toBe(String(res.text.length));
      expect(res.text).not.toContain('secret');
    });
  }

  it('does the same on the full pipeline (hooks) and keeps the headers', async () => {
    const app = leakyApp();
    const seen: string[] = [];
    app.afterRequest((response) => {
      seen.push(String(response.body));
    });
    const res = await client(app).post('/created').expect(201).expect('location', '/users/7');
    expect(res.body).toEqual({ id: 7, name: 'Ada' });
    expect(seen).toEqual(['{"id":7,"name":"Ada"}']); // after-request hooks see what is sent
  });

  it('does not change the value the handler returned (no defaults, no deletions written into it)', async () => {
    const app = new Carafe();
    const value = { id: 1, name: 'x', extra: true };
    app.get(
      '/',
      { schema: { response: { 200: { ...user, properties: { ...user.properties, role: { type: 'string', default: 'member' } } } } } },
      () => value,
    );
    const res = await client(app).get('/').expect(200);
    expect(res.body).toEqual({ id: 1, name: 'x', role: 'member' });
    expect(value).toEqual({ id: 1, name: 'x', extra: true });
  });

  it('stays on the synchronous fast path for a plain value under response[200]', () => {
    const app = new Carafe();
    app.get(
      '/users/:id',
      { schema: { response: { 200: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } } },
      (req) => ({ id: req.params.id, secret: 1 }),
    );
    app.get('/json/:id', { schema: { response: { 200: { type: 'object', properties: { id: { type: 'string' } } } } } }, (req) =>
      json({ id: req.params.id, secret: 1 }),
    );
    for (const path of ['/users/42', '/json/42']) {
      const result = app(makeEnviron({ PATH_INFO: path }));
      expect(result).not.toBeInstanceOf(Promise);
      expect((result as unknown as { body: string[] }).body.join('')).toBe('{"id":"42"}');
    }
  });
});

describe('a value that does not fit is a logged 500, never coerced', () => {
  const stringId = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;

  for (const debug of [false, true]) {
    it(`number where a string is declared → 500 (debug ${debug})`, async () => {
      const errors = memoryErrors();
      const app = new Carafe({ debug });
      // The types reject these too (see test/fixtures/typed-responses.ts); `as never` lets them run.
      app.get('/plain', { schema: { response: { 200: stringId } } }, () => ({ id: 5 }) as never);
      app.get('/json', { schema: { response: { 201: stringId } } }, () => json({ id: 5 }, { status: 201 }) as never);
      app.get('/hooked', { schema: { response: { 200: stringId } } }, () => ({ id: 5 }) as never);
      app.beforeRequest(() => undefined);
      for (const path of ['/plain', '/json', '/hooked']) {
        const res = await client(app, errors).get(path).expect(500).expect('content-type', 'application/problem+json');
        expect(res.text).not.toContain('"5"');
      }
      expect(errors.text()).toMatch(/ResponseValidationError: The response \(status 200\) does not match its schema: \/id must be string/);
      expect(errors.text()).toMatch(/status 201/);
    });
  }

  it('a JSON body that does not parse is a 500 under a schema', async () => {
    const app = new Carafe();
    app.get('/', { schema: { response: { 200: user } } }, () => new Response('{nope', { headers: { 'content-type': 'application/json' } }));
    const errors = memoryErrors();
    await client(app, errors).get('/').expect(500);
    expect(errors.text()).toMatch(/is not JSON/);
  });

  it('accepts a value in its JSON form: a Date for a date-time string, toJSON()', async () => {
    const app = new Carafe();
    const schema = {
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' }, id: { type: 'string' } },
      required: ['at', 'id'],
    } as const;
    app.get('/', { schema: { response: { 200: schema } } }, () => ({
      at: new Date(0),
      id: { toJSON: () => 'abc' } as unknown as string,
      hidden: 1,
    }));
    await client(app).get('/').expect(200, { at: '1970-01-01T00:00:00.000Z', id: 'abc' });
  });

  it('removes properties additionalProperties: false forbids rather than failing', async () => {
    const app = new Carafe();
    const closed = { ...user, additionalProperties: false } as const;
    app.get('/', { schema: { response: { 200: { type: 'array', items: closed } } } }, () => [
      { ...stored },
      { id: 8, name: 'Bob', other: 1 },
    ]);
    await client(app)
      .get('/')
      .expect(200, [
        { id: 7, name: 'Ada' },
        { id: 8, name: 'Bob' },
      ]);
  });
});

describe('response keys: exact status, then NXX, then default', () => {
  function app() {
    const app = new Carafe();
    const only = (name: string) => ({ type: 'object', properties: { [name]: { type: 'string' } } });
    app.get(
      '/:status',
      {
        schema: { response: { 201: only('exact'), '2XX': only('range'), default: only('fallback') } },
      },
      (req) => json({ exact: 'e', range: 'r', fallback: 'f', secret: 's' }, { status: Number(req.params.status) }),
    );
    app.get('/none/:status', { schema: { response: { 200: only('ok') } } }, (req) =>
      json({ ok: 'y', other: 'passes' }, { status: Number(req.params.status) }),
    );
    return app;
  }

  it('picks the most specific schema', async () => {
    const http = client(app());
    await http.get('/201').expect(201, { exact: 'e' });
    await http.get('/202').expect(202, { range: 'r' });
    await http.get('/418').expect(418, { fallback: 'f' });
  });

  it('sends a status no key covers as built, and a 204 without a body', async () => {
    const http = client(app());
    await http.get('/none/202').expect(202, { ok: 'y', other: 'passes' });
    await http.get('/none/204').expect(204, '');
  });

  it('applies to the handler’s answers only: an error is answered as a problem, not checked', async () => {
    const app = new Carafe();
    app.get(
      '/',
      { schema: { response: { default: { type: 'object', properties: { code: { type: 'integer' } }, required: ['code'] } } } },
      () => {
        throw new NotFound('nothing here');
      },
    );
    const res = await client(app).get('/').expect(404).expect('content-type', 'application/problem+json');
    expect(res.body.detail).toBe('nothing here');
  });

  it('leaves non-JSON answers alone', async () => {
    const app = new Carafe();
    app.get('/', { schema: { response: { 200: user } } }, () => text('not json'));
    await client(app).get('/').expect(200, 'not json');
  });

  it('rejects an unknown response key at registration', () => {
    expect(() => new Carafe().get('/', { schema: { response: { '2xx': {} } as never } }, () => null)).toThrow(/2xx/);
  });
});

describe('HEAD and in-process calls', () => {
  it('HEAD gets the filtered length', async () => {
    const app = leakyApp();
    const head = await call(app, makeEnviron({ REQUEST_METHOD: 'HEAD', PATH_INFO: '/json' }));
    expect(head.headers).toContainEqual(['content-length', String('{"id":7,"name":"Ada"}'.length)]);
    expect(head.text).toBe('');
  });
});
