/**
 * A response value holding only what its schema declares is written by JSON.stringify (see
 * closed-schema.ts); anything else by the schema's serializer. Either way the body is what the
 * schema lets out: these tests pin the cases where the two writers would differ.
 */
import { describe, expect, it } from 'vitest';
import { Carafe } from '@carafe/core';
import { closedTest } from '../src/closed-schema.js';
import { client } from './helpers.js';

const order = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    total: { type: 'number' },
    customer: { type: 'object', properties: { name: { type: 'string' }, email: { type: ['string', 'null'] } }, required: ['name'] },
    items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
    tags: { type: 'array', items: { type: 'string' } },
    meta: { description: 'anything' },
  },
  required: ['id'],
} as const;

function answer(value: () => unknown, schema: unknown = order) {
  const app = new Carafe();
  app.get('/value', { schema: { response: { 200: schema as typeof order } } }, value as () => never);
  return client(app).get('/value');
}

describe('response values written by JSON.stringify or by the schema serializer', () => {
  it('writes a value with only declared properties whole, in its own key order', async () => {
    const value = { total: 12.5, id: 'o1', customer: { email: null, name: 'Ada' }, items: [{ qty: 2, sku: 'A' }], tags: ['x'] };
    const res = await answer(() => value).expect(200);
    expect(res.text).toBe(JSON.stringify(value));
  });

  it('drops undeclared properties at every depth, in arrays too', async () => {
    const res = await answer(() => ({
      id: 'o1',
      secret: 's',
      customer: { name: 'Ada', passwordHash: 'h' },
      items: [{ sku: 'A', qty: 1, cost: 3 }],
    })).expect(200);
    expect(JSON.parse(res.text)).toEqual({ id: 'o1', customer: { name: 'Ada' }, items: [{ sku: 'A', qty: 1 }] });
  });

  it('writes a class instance’s declared getters, which JSON.stringify would skip', async () => {
    class Customer {
      get name() {
        return 'Ada';
      }
    }
    const res = await answer(() => ({ id: 'o1', customer: new Customer() })).expect(200);
    expect(JSON.parse(res.text)).toEqual({ id: 'o1', customer: { name: 'Ada' } });
  });

  it('writes an object without a prototype, and leaves out a declared property set to undefined', async () => {
    const customer = Object.assign(Object.create(null), { name: 'Ada', extra: 1 });
    const res = await answer(() => ({ id: 'o1', total: undefined, customer })).expect(200);
    expect(JSON.parse(res.text)).toEqual({ id: 'o1', customer: { name: 'Ada' } });
  });

  it('writes a schema default for a missing property (such a schema always takes the serializer)', async () => {
    const withDefault = { ...order, properties: { ...order.properties, status: { type: 'string', default: 'new' } } };
    const res = await answer(() => ({ id: 'o1' }), withDefault).expect(200);
    expect(JSON.parse(res.text)).toEqual({ id: 'o1', status: 'new' });
  });
});

describe('closedTest', () => {
  it('has no test for a schema whose serializer may write what JSON.stringify would not', () => {
    expect(closedTest(order)).toBeDefined();
    const nested = (part: unknown) => ({ ...order, properties: { ...order.properties, part } });
    for (const schema of [
      nested({ type: 'string', default: 'x' }),
      nested({ $ref: 'User#' }),
      nested({ anyOf: [{ type: 'string' }, { type: 'object' }] }),
      nested({ type: 'object', additionalProperties: true }),
      nested({ type: 'object', patternProperties: { '^x': {} } }),
      nested({ type: 'array', items: [{ type: 'string' }] }),
      { ...order, if: { required: ['id'] } },
    ]) {
      expect(closedTest(schema), JSON.stringify(schema)).toBeUndefined();
    }
  });

  it('has none for a schema of fewer than 8 properties, which its serializer writes for less', () => {
    const small = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } };
    expect(closedTest(small)).toBeUndefined();
    const eight = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`p${i}`, { type: 'string' }]));
    expect(closedTest({ type: 'object', properties: eight })).toBeDefined();
  });

  it('accepts exactly the plain values holding only declared, defined properties', () => {
    const test = closedTest(order)!;
    expect(test({ id: 'a', customer: { name: 'b' }, items: [{ sku: 'c' }], meta: { any: ['thing'] } })).toBe(true);
    expect(test({ id: 'a', other: 1 })).toBe(false);
    expect(test({ id: 'a', items: [{ sku: 'c' }, { sku: 'd', other: 1 }] })).toBe(false);
    expect(test({ id: 'a', total: undefined })).toBe(false);
    expect(test(Object.assign(Object.create({ inherited: 1 }), { id: 'a' }))).toBe(false);
    expect(
      test(
        new (class {
          id = 'a';
        })(),
      ),
    ).toBe(false);
  });
});
