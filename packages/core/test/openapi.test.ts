import { describe, expect, it } from 'vitest';
import { buildOpenApi, expandPath, type OpenApiRoute } from '../src/openapi.js';
import { createAjv } from '../src/schema.js';

const user = {
  type: 'object',
  properties: { id: { type: 'integer' }, email: { type: 'string', format: 'email' } },
  required: ['id', 'email'],
};

const routes: OpenApiRoute[] = [
  {
    methods: ['GET', 'HEAD'],
    path: '/users',
    name: 'users.list',
    schema: {
      query: {
        type: 'object',
        properties: { limit: { type: 'integer', default: 20 }, tag: { type: 'array', items: { type: 'string' } } },
        required: ['limit'],
      },
      headers: { type: 'object', properties: { 'x-tenant': { type: 'string' }, Accept: { type: 'string' } } },
      response: { 200: { type: 'array', items: user } },
      summary: 'List users',
      tags: ['users'],
    },
  },
  {
    methods: ['POST'],
    path: '/users',
    name: 'users.create',
    schema: {
      body: { type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'] },
      response: { 201: user },
      description: 'Creates a user.',
    },
  },
  {
    methods: ['GET', 'HEAD', 'PUT', 'DELETE'],
    path: '/users/:id',
    name: 'users.item',
    schema: {
      params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } } },
      response: { 200: user, 204: true },
    },
  },
  { methods: ['GET', 'HEAD'], path: '/files/*path', name: 'files' },
  { methods: ['GET', 'HEAD'], path: '/docs{/:lang}/intro', name: 'docs' },
  { methods: ['OPTIONS'], path: '/users', name: 'users.options' },
  { methods: ['HEAD'], path: '/ping', name: 'ping' },
];

type Doc = {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
type Operation = {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; required: boolean; schema: unknown }>;
  requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

const doc = buildOpenApi(routes, { title: 'Users', version: '1.2.3', description: 'Demo' }) as Doc;

describe('expandPath', () => {
  it('converts path-to-regexp syntax into OpenAPI templates', () => {
    expect(expandPath('/users/:id')).toEqual([{ path: '/users/{id}', params: ['id'] }]);
    expect(expandPath('/files/*path')).toEqual([{ path: '/files/{path}', params: ['path'] }]);
    expect(expandPath('/a/:x.:ext')).toEqual([{ path: '/a/{x}.{ext}', params: ['x', 'ext'] }]);
    expect(expandPath('/:"quoted name"')).toEqual([{ path: '/{quoted name}', params: ['quoted name'] }]);
    expect(expandPath('')).toEqual([{ path: '/', params: [] }]);
  });

  it('expands optional groups, nested ones included', () => {
    expect(expandPath('/docs{/:lang}').map((v) => v.path)).toEqual(['/docs', '/docs/{lang}']);
    expect(expandPath('/a{/:b{/:c}}').map((v) => v.path)).toEqual(['/a', '/a/{b}', '/a/{b}/{c}']);
    expect(expandPath('{/:x}{/:y}').map((v) => v.path)).toEqual(['/', '/{y}', '/{x}', '/{x}/{y}']);
  });
});

describe('buildOpenApi', () => {
  it('produces an OpenAPI 3.1.0 document with info and the shared Problem schema', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'Users', version: '1.2.3', description: 'Demo' });
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['FieldError', 'Problem']);
    expect(Object.keys(doc.paths).sort()).toEqual(['/docs/intro', '/docs/{lang}/intro', '/files/{path}', '/ping', '/users', '/users/{id}']);
  });

  it('leaves out HEAD next to GET but keeps explicit OPTIONS and a lone HEAD', () => {
    expect(Object.keys(doc.paths['/users']!).sort()).toEqual(['get', 'options', 'post']);
    expect(Object.keys(doc.paths['/users/{id}']!).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(doc.paths['/ping']!)).toEqual(['head']);
  });

  it('uses the route name as operationId, with a method suffix for multi-method routes', () => {
    expect(doc.paths['/users']!.get!.operationId).toBe('users.list');
    expect(doc.paths['/users']!.post!.operationId).toBe('users.create');
    expect(doc.paths['/users/{id}']!.put!.operationId).toBe('users.item_put');
    expect(doc.paths['/docs/intro']!.get!.operationId).toBe('docs');
    expect(doc.paths['/docs/{lang}/intro']!.get!.operationId).toBe('docs_2');
  });

  it('describes query and header parameters from the schemas, skipping reserved headers', () => {
    const op = doc.paths['/users']!.get!;
    expect(op.summary).toBe('List users');
    expect(op.tags).toEqual(['users']);
    expect(op.parameters).toEqual([
      { name: 'limit', in: 'query', required: true, schema: { type: 'integer', default: 20 } },
      { name: 'tag', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } } },
      { name: 'x-tenant', in: 'header', required: false, schema: { type: 'string' } },
    ]);
  });

  it('makes path parameters required, with their declared schema or a string', () => {
    expect(doc.paths['/users/{id}']!.get!.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
    ]);
    expect(doc.paths['/files/{path}']!.get!.parameters).toEqual([{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }]);
    expect(doc.paths['/docs/intro']!.get!.parameters).toBeUndefined();
    expect(doc.paths['/docs/{lang}/intro']!.get!.parameters).toEqual([
      { name: 'lang', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  it('describes the JSON request body', () => {
    const op = doc.paths['/users']!.post!;
    expect(op.description).toBe('Creates a user.');
    expect(op.requestBody).toEqual({ required: true, content: { 'application/json': { schema: routes[1]!.schema!.body } } });
    expect(doc.paths['/users']!.get!.requestBody).toBeUndefined();
  });

  it('lists declared responses, a default 200 otherwise, and the problem responses', () => {
    const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
    const create = doc.paths['/users']!.post!.responses;
    expect(Object.keys(create)).toEqual(['201', '400', 'default']);
    expect(create['201']).toEqual({ description: 'Created', content: { 'application/json': { schema: user } } });
    expect(create['400']!.content).toEqual(problem);
    expect(create.default!.content).toEqual(problem);

    const item = doc.paths['/users/{id}']!.delete!.responses;
    expect(item['204']).toEqual({ description: 'No Content' });

    const files = doc.paths['/files/{path}']!.get!.responses;
    expect(Object.keys(files)).toEqual(['200', 'default']); // nothing validated: no 400
    expect(files['200']!.description).toBeTruthy();
  });

  it('keeps the first registration when a path and method repeat', () => {
    const result = buildOpenApi(
      [
        { methods: ['GET'], path: '/a', name: 'first' },
        { methods: ['GET'], path: '/a', name: 'second' },
      ],
      { title: 't', version: '1' },
    ) as Doc;
    expect(result.paths['/a']!.get!.operationId).toBe('first');
  });

  it('documents a catch-all route under the common methods and keeps operationIds unique', () => {
    const result = buildOpenApi(
      [
        { methods: ['*'], path: '/any', name: 'any' },
        { methods: ['GET'], path: '/x', name: 'dup' },
        { methods: ['GET'], path: '/y', name: 'dup' },
      ],
      { title: 't', version: '1' },
    ) as Doc;
    expect(Object.keys(result.paths['/any']!)).toEqual(['get', 'post', 'put', 'patch', 'delete']);
    expect(result.paths['/y']!.get!.operationId).toBe('dup_2');
  });

  it('is structurally valid: unique operationIds, matching path parameters, valid JSON Schemas', () => {
    const ajv = createAjv();
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(item)) {
        ids.push(op.operationId);
        const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(pathParams).toEqual(templated);
        for (const p of op.parameters ?? []) {
          expect(['query', 'header', 'path', 'cookie']).toContain(p.in);
          expect(ajv.validateSchema(p.schema as object)).toBe(true);
        }
        if (op.requestBody) expect(ajv.validateSchema(op.requestBody.content['application/json']!.schema as object)).toBe(true);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const [status, response] of Object.entries(op.responses)) {
          expect(status).toMatch(/^(default|[1-5]\d\d)$/);
          expect(typeof response.description).toBe('string');
          for (const media of Object.values(response.content ?? {})) expect(ajv.validateSchema(media.schema as object)).toBe(true);
        }
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    // The components resolve: a problem document with field errors validates against them.
    const components = JSON.stringify(doc.components.schemas).replaceAll('#/components/schemas/', 'components#/$defs/');
    ajv.addSchema({ $id: 'components', $defs: JSON.parse(components) });
    const problem = ajv.compile({ $ref: 'components#/$defs/Problem' });
    const sample = {
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      errors: [{ location: 'body', field: '/email', message: 'is required' }],
    };
    expect(problem(sample)).toBe(true);
    expect(problem({ ...sample, errors: [{ location: 'cookie', field: '/x', message: 'm' }] })).toBe(false);
  });

  it('produces plain JSON (round-trips through JSON.stringify)', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
