import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe, createAjv, createValidatorFactory, type SchemaCompiler } from '@carafe/core';
import { client } from './helpers.js';

const skuQuery = { type: 'object', properties: { sku: { type: 'string', format: 'sku' } }, required: ['sku'] } as const;

/** A compiler whose ajv knows the `sku` format, counting the schemas it compiles. */
function skuCompiler(): SchemaCompiler & { count: number } {
  const ajv = createAjv();
  ajv.addFormat('sku', /^[A-Z]{3}-\d{4}$/);
  const factory = createValidatorFactory({ ajv });
  const compiler = Object.assign(
    (schema: Parameters<SchemaCompiler>[0]) => {
      compiler.count++;
      return factory(schema);
    },
    { count: 0 },
  );
  return compiler;
}

describe('schema compiler per app', () => {
  it('compiles with the app’s own compiler, so two apps can differ', async () => {
    const custom = skuCompiler();
    const withFormat = new Carafe({ schemaCompiler: custom });
    withFormat.get('/items', { schema: { query: skuQuery } }, (req) => ({ sku: req.query.sku }));
    await client(withFormat).get('/items?sku=ABC-1234').expect(200, { sku: 'ABC-1234' });
    const bad = await client(withFormat).get('/items?sku=nope').expect(400);
    expect(bad.body.errors).toEqual([{ location: 'query', field: '/sku', message: 'must match format "sku"' }]);

    // The default compiler (strict ajv) does not know the format: it rejects the schema at registration.
    const plain = new Carafe();
    expect(() => plain.get('/items', { schema: { query: skuQuery } }, () => null)).toThrow(/unknown format "sku"/);
  });

  it('compiles a shared blueprint once per app, with each app’s compiler', async () => {
    const bp = new Blueprint('items', { urlPrefix: '/items' });
    bp.get('/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, (req) => ({ id: req.params.id }));
    const first = skuCompiler();
    const second = skuCompiler();
    const a = new Carafe({ schemaCompiler: first });
    const b = new Carafe({ schemaCompiler: second });
    a.register(bp);
    b.register(bp);
    await client(a).get('/items/3').expect(200, { id: 3 });
    await client(b).get('/items/4').expect(200, { id: 4 });
    a.get('/later', () => 'rebuilds the router');
    await client(a).get('/items/5').expect(200, { id: 5 });
    expect([first.count, second.count]).toEqual([1, 1]);
  });

  it('lets a compiler replace validation altogether', async () => {
    const calls: string[] = [];
    const app = new Carafe({
      schemaCompiler: (schema) => ({
        schema,
        validates: true,
        query: (raw) => {
          calls.push(JSON.stringify(raw));
          return raw.ok === 'yes' ? { value: { ok: true } } : { errors: [{ location: 'query', field: '/ok', message: 'say yes' }] };
        },
      }),
    });
    app.get('/', { schema: { query: {} } }, (req) => req.query);
    await client(app).get('/?ok=yes').expect(200, { ok: true });
    await client(app).get('/?ok=no').expect(400);
    expect(calls).toEqual(['{"ok":"yes"}', '{"ok":"no"}']);
  });
});
