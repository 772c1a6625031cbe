import { Ajv } from 'ajv';
import { describe, expect, it, vi } from 'vitest';
import { createAjv, createValidatorFactory, type CompiledRouteSchema, type RouteSchema } from '../src/schema.js';

const compile = createValidatorFactory();

type Result = ReturnType<NonNullable<CompiledRouteSchema['params']>>;
/** ajv validators answer synchronously (only a Standard Schema validator may answer with a promise). */
function sync(result: Result): Exclude<Result, Promise<unknown>> {
  if (result instanceof Promise) throw new Error('expected a synchronous result');
  return result;
}

function ok(promised: Result) {
  const result = sync(promised);
  if (!('value' in result)) throw new Error(`expected success, got ${JSON.stringify(result.errors)}`);
  return result.value;
}
function errors(promised: Result) {
  const result = sync(promised);
  if (!('errors' in result)) throw new Error(`expected errors, got ${JSON.stringify(result.value)}`);
  return result.errors;
}

describe('createValidatorFactory', () => {
  it('creates validators only for the declared parts', () => {
    const compiled = compile({ params: { type: 'object' }, response: { 200: { type: 'object' } } });
    expect(typeof compiled.params).toBe('function');
    expect(compiled.query).toBeUndefined();
    expect(compiled.headers).toBeUndefined();
    expect(compiled.body).toBeUndefined();
    expect(compiled.schema.response).toEqual({ 200: { type: 'object' } });
  });

  it('compiles each part once, at registration, with the one injected ajv', () => {
    const ajv = createAjv();
    const spy = vi.spyOn(ajv, 'compile');
    const factory = createValidatorFactory({ ajv });
    const compiled = factory({
      params: { type: 'object', properties: { id: { type: 'integer' } } },
      query: { type: 'object' },
      headers: { type: 'object' },
      body: { type: 'object' },
      response: { 200: { type: 'object' } },
    });
    // params, query, headers, body — and response[200], checked before it is written.
    expect(spy).toHaveBeenCalledTimes(5);
    for (let i = 0; i < 5; i++) {
      compiled.params!({ id: String(i) });
      compiled.query!({ a: 'b' });
      compiled.headers!({ host: 'x' });
      compiled.body!({});
    }
    expect(spy).toHaveBeenCalledTimes(5);
  });

  it('accepts another ajv class (draft-07 Ajv) with its own formats and keywords', () => {
    const ajv = new Ajv({ allErrors: true });
    ajv.addFormat('even', (s: string) => Number(s) % 2 === 0);
    const factory = createValidatorFactory({ ajv });
    const compiled = factory({ body: { type: 'string', format: 'even' } });
    expect(ok(compiled.body!('4'))).toBe('4');
    expect(errors(compiled.body!('3'))).toEqual([{ location: 'body', field: '', message: 'must match format "even"' }]);
  });

  it('reports an invalid schema at registration', () => {
    expect(() => compile({ body: { type: 'strnig' } })).toThrow();
    expect(() => compile({ query: { type: 'object', minimun: 1 } })).toThrow(/minimun/);
  });

  it('allows OpenAPI annotations such as example', () => {
    const compiled = compile({ body: { type: 'string', example: 'hi', examples: ['hi'], deprecated: true } });
    expect(ok(compiled.body!('x'))).toBe('x');
  });
});

describe('params', () => {
  const schema: RouteSchema = {
    params: {
      type: 'object',
      properties: { id: { type: 'integer', minimum: 1 }, ratio: { type: 'number' }, flag: { type: 'boolean' }, slug: { type: 'string' } },
      required: ['id'],
    },
  };
  const { params } = compile(schema);

  it('coerces strings to the declared types (like Flask converters)', () => {
    expect(ok(params!({ id: '42', ratio: '-1.5e2', flag: 'true', slug: '007' }))).toEqual({ id: 42, ratio: -150, flag: true, slug: '007' });
    expect(ok(params!({ id: '7', flag: 'false' }))).toEqual({ id: 7, flag: false });
  });

  it('reports values that do not convert, each field separately', () => {
    expect(errors(params!({ id: 'abc', ratio: '1.2.3', flag: 'yes' }))).toEqual([
      { location: 'params', field: '/id', message: 'must be integer' },
      { location: 'params', field: '/ratio', message: 'must be number' },
      { location: 'params', field: '/flag', message: 'must be boolean' },
    ]);
  });

  it('does not accept a decimal for an integer, and checks constraints after coercion', () => {
    expect(errors(params!({ id: '1.5' }))).toEqual([{ location: 'params', field: '/id', message: 'must be integer' }]);
    expect(errors(params!({ id: '0' }))).toEqual([{ location: 'params', field: '/id', message: 'must be >= 1' }]);
  });

  it("joins a wildcard's segments unless the property is an array", () => {
    const { params: wildcard } = compile({
      params: {
        type: 'object',
        properties: { path: { type: 'string', pattern: '^[a-z/]+$' }, parts: { type: 'array', items: { type: 'string' } } },
      },
    });
    expect(ok(wildcard!({ path: ['docs', 'intro'], parts: ['a', 'b'] }))).toEqual({ path: 'docs/intro', parts: ['a', 'b'] });
    expect(ok(wildcard!({ path: 'single' }))).toEqual({ path: 'single' });
  });

  it('leaves the raw object untouched', () => {
    const raw = { id: '5' };
    ok(params!(raw));
    expect(raw).toEqual({ id: '5' });
  });

  it('tries the declared types in order and keeps strings when a string is allowed', () => {
    const { params: union } = compile({
      params: {
        type: 'object',
        properties: { a: { type: ['integer', 'boolean'] }, b: { type: ['string', 'integer'] }, c: { type: ['null', 'integer'] } },
      },
    });
    expect(ok(union!({ a: 'true', b: '12', c: '' }))).toEqual({ a: true, b: '12', c: null });
    expect(ok(union!({ a: '3', c: '4' }))).toEqual({ a: 3, c: 4 });
  });
});

describe('query', () => {
  const { query } = compile({
    query: {
      type: 'object',
      properties: {
        tag: { type: 'array', items: { type: 'integer' } },
        page: { type: 'integer', default: 1 },
        q: { type: 'string' },
      },
      additionalProperties: false,
    },
  });

  it('gives array properties every value and others the first', () => {
    expect(ok(query!({ tag: ['1', '2'], page: ['3', '4'], q: ['x', 'y'] }))).toEqual({ tag: [1, 2], page: 3, q: 'x' });
  });

  it('wraps a single value for an array property', () => {
    expect(ok(query!({ tag: '5' }))).toEqual({ tag: [5], page: 1 });
  });

  it('applies defaults for missing properties', () => {
    expect(ok(query!({}))).toEqual({ page: 1 });
  });

  it('points at bad array items and at properties that are not allowed', () => {
    expect(errors(query!({ tag: ['1', 'x'], extra: '1' }))).toEqual([
      { location: 'query', field: '/extra', message: 'is not allowed' },
      { location: 'query', field: '/tag/1', message: 'must be integer' },
    ]);
  });

  it('names every missing required property', () => {
    const { query: required } = compile({
      query: { type: 'object', properties: { a: { type: 'string' }, 'b/c': { type: 'string' } }, required: ['a', 'b/c'] },
    });
    expect(errors(required!({}))).toEqual([
      { location: 'query', field: '/a', message: 'is required' },
      { location: 'query', field: '/b~1c', message: 'is required' },
    ]);
  });
});

describe('headers', () => {
  const { headers } = compile({
    headers: {
      type: 'object',
      properties: { 'X-Request-Count': { type: 'integer' }, 'x-token': { type: 'string', minLength: 3 } },
      required: ['X-Request-Count'],
    },
  });

  it('matches header names case-insensitively and coerces them', () => {
    expect(ok(headers!({ 'x-request-count': '3', 'X-Token': 'abcd', host: 'h' }))).toEqual({
      'x-request-count': 3,
      'x-token': 'abcd',
      host: 'h',
    });
  });

  it('reports missing and invalid headers by lower-case name', () => {
    expect(errors(headers!({ 'x-token': 'a' }))).toEqual([
      { location: 'headers', field: '/x-request-count', message: 'is required' },
      { location: 'headers', field: '/x-token', message: 'must NOT have fewer than 3 characters' },
    ]);
  });
});

describe('body', () => {
  const { body } = compile({
    body: {
      type: 'object',
      properties: {
        email: { type: 'string', format: 'email' },
        name: { type: 'string' },
        age: { type: 'integer' },
        address: { type: 'object', properties: { zip: { type: 'string', pattern: '^[0-9]{5}$' } }, required: ['zip'] },
      },
      required: ['email', 'name'],
      additionalProperties: false,
    },
  });

  it('returns the parsed body when valid', () => {
    const value = { email: 'ann@example.com', name: 'Ann', address: { zip: '12345' } };
    expect(ok(body!(value))).toBe(value);
  });

  it('does not coerce or strip body values', () => {
    expect(errors(body!({ email: 'ann@example.com', name: 'Ann', age: '42' }))).toEqual([
      { location: 'body', field: '/age', message: 'must be integer' },
    ]);
  });

  it('lists every failing field with readable messages', () => {
    expect(errors(body!({ email: 'not-an-email', address: { zip: 'abc' }, admin: true }))).toEqual([
      { location: 'body', field: '/name', message: 'is required' },
      { location: 'body', field: '/admin', message: 'is not allowed' },
      { location: 'body', field: '/email', message: 'must match format "email"' },
      { location: 'body', field: '/address/zip', message: 'must match pattern "^[0-9]{5}$"' },
    ]);
  });

  it('points at nested missing properties', () => {
    expect(errors(body!({ email: 'a@b.co', name: 'A', address: {} }))).toEqual([
      { location: 'body', field: '/address/zip', message: 'is required' },
    ]);
  });

  it('reports a wrong top-level type against the whole body', () => {
    expect(errors(body!(undefined))).toEqual([{ location: 'body', field: '', message: 'must be object' }]);
    expect(errors(body!([1]))).toEqual([{ location: 'body', field: '', message: 'must be object' }]);
  });

  it('supports draft 2020-12 keywords', () => {
    const { body: tuple } = compile({ body: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false } });
    expect(ok(tuple!(['a', 1]))).toEqual(['a', 1]);
    expect(errors(tuple!(['a', 1, 2]))).toEqual([{ location: 'body', field: '', message: 'must NOT have more than 2 items' }]);
  });
});
