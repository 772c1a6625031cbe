/**
 * Schemas per app (shared schemas by $id, formats, keywords, ajv options), Standard Schema
 * validators (Zod 4, Valibot) beside JSON Schema, and the OpenAPI document they give — checked
 * with an OpenAPI 3.1 validator.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Blueprint, Carafe, json } from '@carafe/core';
import { client, memoryErrors } from './helpers.js';

const User = {
  $id: 'User',
  type: 'object',
  properties: { id: { type: 'string', format: 'objectid' }, name: { type: 'string', minLength: 1 }, address: { $ref: 'Address#' } },
  required: ['id', 'name'],
} as const;
const Address = { $id: 'Address', type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } as const;

function jsonSchemaApp() {
  const app = new Carafe();
  app.addFormat('objectid', /^[0-9a-f]{24}$/);
  app.addSchema(Address).addSchema(User);
  app.post('/users', { schema: { body: { $ref: 'User#' }, response: { 201: { $ref: 'User' } } } }, (req) =>
    json({ ...(req.body as object), passwordHash: 'x' }, { status: 201 }),
  );
  app.get('/users', { schema: { response: { 200: { type: 'array', items: { $ref: 'User#' } } } } }, () => [
    { id: 'a'.repeat(24), name: 'Ada', address: { city: 'London', zip: 'hidden' }, passwordHash: 'x' },
  ]);
  return app;
}

const ZodUser = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/), name: z.string().min(1) });

function zodApp() {
  const app = new Carafe();
  app.get(
    '/users/:id',
    {
      schema: {
        params: z.object({ id: z.coerce.number().int().positive() }),
        query: z.object({ verbose: z.enum(['yes', 'no']).optional() }),
        response: { 200: ZodUser },
      },
    },
    (req) => ({
      id: String(req.params.id).padStart(24, '0'),
      name: `User ${req.params.id}`,
      verbose: req.query.verbose,
      passwordHash: 'x',
    }),
  );
  app.post(
    '/users',
    {
      schema: {
        body: ZodUser.omit({ id: true }).refine(async (body) => body.name !== 'taken', { message: 'name taken', path: ['name'] }),
        headers: z.object({ 'x-tenant': z.string().regex(/^[a-z]+$/) }),
        response: { 201: ZodUser },
      },
    },
    (req) => json({ id: 'b'.repeat(24), name: req.body.name }, { status: 201 }),
  );
  return app;
}

describe('shared schemas, formats and keywords per app', () => {
  it('validates and filters with $ref to addSchema’d schemas (User# and User), with a custom format', async () => {
    const http = client(jsonSchemaApp());
    const id = 'c'.repeat(24);
    await http
      .post('/users')
      .send({ id, name: 'Ada', address: { city: 'Paris' } })
      .expect(201, { id, name: 'Ada', address: { city: 'Paris' } });
    const bad = await http.post('/users').send({ id: 'nope', name: '', address: {} }).expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['/address/city', '/id', '/name']);
    const list = await http.get('/users').expect(200);
    expect(list.text).toBe(`[{"id":"${'a'.repeat(24)}","name":"Ada","address":{"city":"London"}}]`);
  });

  it('keeps apps apart: another app knows neither the schema nor the format', () => {
    jsonSchemaApp();
    const other = new Carafe();
    expect(() => other.post('/x', { schema: { body: { $ref: 'User#' } } }, () => null)).toThrow(/User/);
    expect(() => other.post('/y', { schema: { body: { type: 'string', format: 'objectid' } } }, () => null)).toThrow(/objectid/);
  });

  it('refuses a shared schema without $id, or twice the same $id', () => {
    const app = new Carafe();
    expect(() => app.addSchema({ type: 'object' } as never)).toThrow(/\$id/);
    app.addSchema(Address);
    expect(() => app.addSchema(Address)).toThrow(/already/);
  });

  it('takes ajv options and plugins, and custom keywords', async () => {
    const plugged: string[] = [];
    const app = new Carafe({ ajv: { options: { allErrors: false }, plugins: [(ajv) => plugged.push(typeof ajv.compile)] } });
    app.addKeyword({
      keyword: 'even',
      type: 'number',
      schemaType: 'boolean',
      validate: (even: boolean, n: number) => !even || n % 2 === 0,
    });
    app.post(
      '/n',
      { schema: { body: { type: 'object', properties: { n: { type: 'integer', even: true }, m: { type: 'string' } } } } },
      (req) => req.body,
    );
    await client(app).post('/n').send({ n: 4 }).expect(200, { n: 4 });
    const res = await client(app).post('/n').send({ n: 3, m: 1 }).expect(400);
    expect(res.body.errors).toHaveLength(1); // allErrors: false stops at the first failure
    expect(plugged.length).toBeGreaterThan(0);
    expect(() => new Carafe({ ajv: {}, schemaCompiler: () => ({ schema: {}, validates: false }) })).toThrow(/either/);
  });
});

describe('Standard Schema validators', () => {
  it('validates params (coerced by the schema), query and the response with Zod', async () => {
    const http = client(zodApp());
    const res = await http.get('/users/42?verbose=yes').expect(200);
    expect(res.body).toEqual({ id: '42'.padStart(24, '0'), name: 'User 42' }); // Zod strips unknown keys
    const bad = await http.get('/users/-1?verbose=maybe').expect(400);
    expect(bad.body.errors.map((e: { location: string; field: string }) => `${e.location}${e.field}`).sort()).toEqual([
      'params/id',
      'query/verbose',
    ]);
  });

  it('validates headers and a body with an async refinement', async () => {
    const http = client(zodApp());
    await http
      .post('/users')
      .set('x-tenant', 'acme')
      .send({ name: 'Ada' })
      .expect(201, { id: 'b'.repeat(24), name: 'Ada' });
    const taken = await http.post('/users').set('x-tenant', 'acme').send({ name: 'taken' }).expect(400);
    expect(taken.body.errors).toEqual([{ location: 'body', field: '/name', message: 'name taken' }]);
    const noTenant = await http.post('/users').send({ name: 'Ada' }).expect(400);
    expect(noTenant.body.errors[0]).toMatchObject({ location: 'headers', field: '/x-tenant' });
  });

  it('answers 500 when a response does not fit a Zod schema', async () => {
    const app = new Carafe();
    app.get('/', { schema: { response: { 200: ZodUser } } }, () => ({ id: 5 }) as never);
    const errors = memoryErrors();
    await client(app, errors).get('/').expect(500);
    expect(errors.text()).toMatch(/ResponseValidationError.*\/id/);
  });

  it('works with Valibot too', async () => {
    const app = new Carafe();
    app.post(
      '/items',
      { schema: { body: v.object({ sku: v.pipe(v.string(), v.regex(/^[A-Z]{3}$/)) }), response: { 200: v.object({ sku: v.string() }) } } },
      (req) => ({ sku: req.body.sku, internal: 1 }),
    );
    await client(app).post('/items').send({ sku: 'ABC' }).expect(200, { sku: 'ABC' });
    const bad = await client(app).post('/items').send({ sku: 'abc' }).expect(400);
    expect(bad.body.errors[0]).toMatchObject({ location: 'body', field: '/sku' });
  });
});

describe('OpenAPI with shared and Standard schemas', () => {
  function documentedApp() {
    const app = jsonSchemaApp();
    const zod = zodApp();
    // The Zod routes, served by the same app through a blueprint.
    const bp = new Blueprint('z', { urlPrefix: '/z' });
    bp.get(
      '/users/:id',
      {
        name: 'detail',
        schema: { params: z.object({ id: z.coerce.number() }), response: { 200: ZodUser, '4XX': z.object({ title: z.string() }) } },
      },
      (req) => ({ id: String(req.params.id), name: 'x' }),
    );
    bp.post('/items', { name: 'items', schema: { body: v.object({ sku: v.string() }) } }, () => null);
    app.register(bp);
    void zod;
    return app;
  }

  it('documents shared schemas as components and points refs at them; Zod schemas as JSON Schema; the document is valid OpenAPI 3.1', async () => {
    const app = documentedApp();
    app.get('/openapi.json', () => app.openapi({ title: 'T', version: '1' }));
    const doc = (await (await app.request('/openapi.json')).json()) as any;
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Address', 'FieldError', 'Problem', 'User']);
    expect(Object.keys(doc.paths)).toContain('/openapi.json');
    expect(doc.components.schemas.User.properties.address).toEqual({ $ref: '#/components/schemas/Address' });
    expect(doc.components.schemas.User.$id).toBeUndefined();
    const create = doc.paths['/users'].post;
    expect(create.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/User' });
    expect(create.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/User' });
    expect(doc.paths['/users'].get.responses['200'].content['application/json'].schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/User' },
    });

    const detail = doc.paths['/z/users/{id}'].get;
    expect(detail.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true, schema: { type: 'number' } });
    expect(detail.responses['200'].content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: { id: { type: 'string', pattern: '^[0-9a-f]{24}$' }, name: { type: 'string', minLength: 1 } },
      required: ['id', 'name'],
    });
    expect(detail.responses['4XX'].description).toBe('Client error');
    // Valibot has no ~standard.jsonSchema: documented as any value unless a converter is given.
    expect(doc.paths['/z/items'].post.requestBody.content['application/json'].schema).toEqual({});

    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('uses the jsonSchema option for libraries without ~standard.jsonSchema, and hoists $defs into components', async () => {
    const app = new Carafe();
    const Tag = z.object({ label: z.string() }).meta({ id: 'Tag' });
    app.post('/tagged', { schema: { body: z.object({ tags: z.array(Tag), main: Tag }) } }, () => null);
    app.post('/items', { schema: { body: v.object({ sku: v.string() }) } }, () => null);
    const doc = app.openapi(
      { title: 'T', version: '1' },
      { jsonSchema: (schema) => (schema === undefined ? undefined : { type: 'object', description: 'converted' }) },
    ) as any;
    expect(doc.paths['/items'].post.requestBody.content['application/json'].schema).toEqual({ type: 'object', description: 'converted' });
    const tagged = doc.paths['/tagged'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(tagged)).not.toContain('$defs');
    expect(tagged.properties.main).toEqual({ $ref: '#/components/schemas/Tag' });
    expect(doc.components.schemas.Tag).toMatchObject({ type: 'object', properties: { label: { type: 'string' } } });
    const validator = new Validator();
    expect((await validator.validate(doc)).valid).toBe(true);
    expect(() => validator.resolveRefs()).not.toThrow();
  });
});
