/**
 * A blueprint's route schemas are compiled when it is registered on the app (workerd allows the
 * code ajv and the serializers generate only while the module loads), and a schema that cannot
 * compile yet is compiled, and reported, when the app is built, as before.
 */
import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe, createValidatorFactory, type SchemaCompiler } from '../src/index.js';

function counting(): { compiler: SchemaCompiler; calls: () => number } {
  const inner = createValidatorFactory();
  let calls = 0;
  const compiler = Object.assign(
    (schema: Parameters<SchemaCompiler>[0]) => {
      calls++;
      return inner(schema);
    },
    { addSchema: inner.addSchema?.bind(inner), addFormat: inner.addFormat?.bind(inner) },
  ) as SchemaCompiler;
  return { compiler, calls: () => calls };
}

const id = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } as const;

describe("a blueprint's route schemas", () => {
  it('compile when the blueprint is registered, nested blueprints included, and only once', async () => {
    const { compiler, calls } = counting();
    const app = new Carafe({ schemaCompiler: compiler });
    const outer = new Blueprint('outer', { urlPrefix: '/outer' });
    const inner = new Blueprint('inner', { urlPrefix: '/inner' });
    inner.get('/:id', { schema: { params: id } }, (req) => ({ id: req.params.id }));
    outer.get('/:id', { schema: { params: id, response: { 200: id } } }, (req) => ({ id: req.params.id, extra: 1 }));
    outer.register(inner);
    app.register(outer);
    expect(calls()).toBe(2);
    expect(await (await app.request('/outer/3')).json()).toEqual({ id: 3 });
    expect(await (await app.request('/outer/inner/4')).json()).toEqual({ id: 4 });
    expect(calls()).toBe(2);
  });

  it('that use a shared schema added after the registration compile when the app is built', async () => {
    const app = new Carafe();
    const bp = new Blueprint('users', { urlPrefix: '/users' });
    bp.get('/:id', { schema: { params: { $ref: 'UserId' } } }, (req) => ({ id: (req.params as unknown as { id: number }).id }));
    app.register(bp); // 'UserId' is unknown yet: no error here
    app.addSchema({ $id: 'UserId', type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] });
    expect(await (await app.request('/users/5')).json()).toEqual({ id: 5 });
  });

  it('that are invalid still fail when the app is built, not when the blueprint is registered', async () => {
    const app = new Carafe();
    const bp = new Blueprint('bad', { urlPrefix: '/bad' });
    bp.get('/', { schema: { query: { type: 'nonsense' } } }, () => 'never');
    expect(() => app.register(bp)).not.toThrow();
    await expect(app.lifespan.startup()).rejects.toThrow(/nonsense|type/);
  });
});
