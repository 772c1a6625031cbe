import { describe, expect, it } from 'vitest';
import { Carafe, json, text } from '@carafe/core';
import { client, memoryErrors } from './helpers.js';

function app() {
  const app = new Carafe();
  app.get(
    '/users/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
        query: {
          type: 'object',
          properties: { verbose: { type: 'boolean' }, fields: { type: 'array', items: { type: 'string' } } },
        },
      } as const,
    },
    (req) => ({ id: req.params.id, idType: typeof req.params.id, verbose: req.query.verbose, fields: req.query.fields }),
  );
  app.post(
    '/users',
    {
      schema: {
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1 }, email: { type: 'string', format: 'email' }, age: { type: 'integer' } },
          required: ['name', 'email'],
          additionalProperties: false,
        },
        headers: { type: 'object', properties: { 'x-tenant': { type: 'string', pattern: '^[a-z]+$' } }, required: ['x-tenant'] },
      } as const,
    },
    (req) => ({ created: req.body.name, email: req.body.email }),
  );
  return app;
}

describe('schema routes', () => {
  it('coerces params and query to the declared types', async () => {
    const res = await client(app()).get('/users/42?verbose=true&fields=a&fields=b').expect(200);
    expect(res.body).toEqual({ id: 42, idType: 'number', verbose: true, fields: ['a', 'b'] });
  });

  it('answers 400 listing every failing field', async () => {
    const res = await client(app()).get('/users/zero?verbose=maybe').expect(400).expect('content-type', 'application/problem+json');
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400, instance: '/users/zero' });
    const fields = (res.body.errors as Array<{ location: string; field: string }>).map((e) => `${e.location}${e.field}`);
    expect(fields).toEqual(expect.arrayContaining(['params/id', 'query/verbose']));
  });

  it('validates the JSON body and headers, giving the handler the validated body', async () => {
    const http = client(app());
    await http
      .post('/users')
      .set('x-tenant', 'acme')
      .send({ name: 'Ada', email: 'ada@example.com' })
      .expect(200, { created: 'Ada', email: 'ada@example.com' });
    const res = await http.post('/users').set('x-tenant', 'ACME!').send({ name: '', email: 'nope', extra: 1 }).expect(400);
    const fields = (res.body.errors as Array<{ location: string; field: string; message: string }>).map((e) => `${e.location}${e.field}`);
    expect(fields).toEqual(expect.arrayContaining(['headers/x-tenant', 'body/name', 'body/email', 'body/extra']));
    for (const error of res.body.errors) expect(typeof error.message).toBe('string');
  });

  it('answers 415 for a non-JSON body and 400 for malformed JSON', async () => {
    const http = client(app());
    const wrongType = await http.post('/users').set('x-tenant', 'acme').type('form').send('name=Ada').expect(415);
    expect(wrongType.body).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
    const malformed = await http
      .post('/users')
      .set('x-tenant', 'acme')
      .set('content-type', 'application/json')
      .send('{"name":')
      .expect(400);
    expect(malformed.body.detail).toMatch(/does not parse/);
  });

  it('answers 413 for an oversized body on a schema route', async () => {
    const big = new Carafe({ maxContentLength: 100 });
    big.post('/x', { schema: { body: { type: 'object' } } }, (req) => req.body);
    await client(big)
      .post('/x')
      .send({ pad: 'x'.repeat(200) })
      .expect(413);
    await client(big).post('/x').send({ ok: 1 }).expect(200, { ok: 1 });
  });

  it('rejects an invalid schema at registration', () => {
    const bad = new Carafe();
    expect(() => bad.get('/x', { schema: { query: { type: 'nonsense' } } }, () => null)).toThrow();
  });
});

describe('response schemas', () => {
  const user = {
    type: 'object',
    properties: { id: { type: 'integer' }, name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
    required: ['id', 'name'],
  } as const;

  function usersApp() {
    const app = new Carafe();
    app.get('/users/:id', { schema: { response: { 200: user } } }, (req) =>
      req.params.id === '0'
        ? ({ name: 'nobody' } as never) // `id` is required by the schema (and the type says so)
        : { id: Number(req.params.id), name: 'Ada', tags: ['x'], passwordHash: 'secret' },
    );
    app.get('/async/:id', { schema: { response: { 200: user } } }, async (req) => ({
      id: Number(req.params.id),
      name: 'Grace',
      internal: true,
    }));
    app.get('/response', { schema: { response: { 200: user } } }, () => json({ id: 1, name: 'Ada', extra: 'kept' }));
    app.get('/text', { schema: { response: { 200: user } } }, () => text('plain text'));
    return app;
  }

  it('serializes a plain return value through response[200]: undeclared properties are not sent', async () => {
    const http = client(usersApp());
    const res = await http
      .get('/users/7')
      .expect(200)
      .expect('content-type', /^application\/json/);
    expect(res.text).toBe('{"id":7,"name":"Ada","tags":["x"]}');
    expect(res.headers['content-length']).toBe(String(res.text.length));
    await http.get('/async/8').expect(200, { id: 8, name: 'Grace' });
  });

  it('does the same on the full pipeline, with hooks', async () => {
    const app = usersApp();
    let hooked = 0;
    app.beforeRequest(() => {
      hooked++;
    });
    const res = await client(app).get('/users/7').expect(200);
    expect(res.body).toEqual({ id: 7, name: 'Ada', tags: ['x'] });
    expect(hooked).toBe(1);
  });

  it('answers 500 when a required property is missing, and logs why', async () => {
    const errors = memoryErrors();
    const res = await client(usersApp(), errors).get('/users/0').expect(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(errors.text()).toMatch(/ResponseValidationError: The response \(status 200\) does not match its schema: \/id is required/);
  });

  it('filters json() responses too, and leaves non-JSON values alone', async () => {
    const http = client(usersApp());
    const res = await http.get('/response').expect(200);
    expect(res.text).toBe('{"id":1,"name":"Ada"}');
    await http.get('/text').expect(200, 'plain text');
  });
});
