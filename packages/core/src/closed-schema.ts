/**
 * Whether a response value that passed its schema's check can be written by the platform's
 * `JSON.stringify` rather than by the serializer compiled from the schema.
 *
 * The compiled serializer (fast-json-stringify) writes only the properties a schema declares. For
 * a value that has no others — every object plain, with only declared keys — `JSON.stringify`
 * writes the same JSON (keys in the value's order rather than the schema's), and on a 1 KB
 * document it is ~4,300 instructions cheaper (callgrind, bench/profile.mjs carafe echo: the
 * serializer's concatenations, and flattening the string they build). The test here costs a
 * fraction of that; it was first written as the schema's closed form compiled by ajv
 * (`additionalProperties: false` everywhere), whose key-by-key comparisons and
 * `Object.getPrototypeOf` calls cost as much as they saved.
 *
 * Only schemas made of keywords whose meaning is the same for both writers have a test: no
 * `default` (the serializer writes it for a missing property), no `$ref`, combinators,
 * conditionals, pattern or additional properties, tuples or dependent schemas.
 */

/** Tells whether a value the schema accepted holds only what the schema declares, in plain objects and arrays. */
export type ClosedTest = (value: unknown) => boolean;

/** Keywords that only annotate or constrain values, and leave both writers' output alone. */
const NEUTRAL = new Set([
  'type',
  'enum',
  'const',
  'required',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'title',
  'description',
  '$comment',
  'examples',
  'example',
  'deprecated',
  'readOnly',
  'writeOnly',
  'xml',
  'externalDocs',
]);

/**
 * What a schema's test must look at: nothing (`any`: a scalar, or a schema accepting any value,
 * which both writers write whole), an array's items, or an object's declared properties.
 */
type Shape = { kind: 'any' } | { kind: 'array'; items: Shape } | { kind: 'object'; names: string[]; shapes: Shape[]; items: Shape };

const ANY: Shape = { kind: 'any' };

/**
 * The {@link ClosedTest} of a JSON schema, or `undefined` when a keyword in it may make the
 * schema's serializer write something `JSON.stringify` would not (or code generation is off). The
 * test assumes the value has already passed the schema.
 *
 * It is generated code, like the serializer and the validator: each property is read with a
 * constant name (`o["id"]`), which V8 caches per call site; a loop over the names read them with
 * a keyed load that went megamorphic, ~100 instructions a property (callgrind).
 */
export function closedTest(schema: unknown): ClosedTest | undefined {
  const shape = shapeOf(schema);
  if (shape === undefined || declaredProperties(shape) < MIN_PROPERTIES) return undefined;
  if (shape.kind === 'any') return () => true;
  const functions: string[] = [];
  const name = emit(shape, functions);
  try {
    return new Function(`${functions.join('\n')}\nreturn ${name};`)() as ClosedTest;
  } catch {
    return undefined; // code generation disabled (--disallow-code-generation-from-strings)
  }
}

/**
 * Schemas declaring fewer properties keep the serializer: JSON.stringify's fixed cost is larger
 * than the serializer's few concatenations on a small object. The instruction meter measured a
 * 2-property object (`{ id, name }`) ~300–440 instructions dearer by JSON.stringify and the
 * ~35-property echo document ~1,500–2,200 cheaper; 8 is on the safe side of the crossover.
 */
const MIN_PROPERTIES = 8;

/** How many properties a shape declares, nested ones included. */
function declaredProperties(shape: Shape): number {
  if (shape.kind === 'any') return 0;
  const items = declaredProperties(shape.items);
  if (shape.kind === 'array') return items;
  return shape.shapes.reduce((sum, inner) => sum + declaredProperties(inner), items + shape.names.length);
}

function shapeOf(schema: unknown): Shape | undefined {
  if (typeof schema === 'boolean') return ANY;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const source = schema as Record<string, unknown>;
  for (const [keyword, value] of Object.entries(source)) {
    const known =
      NEUTRAL.has(keyword) || keyword === 'properties' || keyword === 'items' || (keyword === 'additionalProperties' && value === false);
    if (!known) return undefined;
  }
  const items = source.items === undefined ? ANY : shapeOf(source.items);
  if (items === undefined) return undefined;
  const names: string[] = [];
  const shapes: Shape[] = [];
  if (source.properties !== undefined) {
    if (typeof source.properties !== 'object' || source.properties === null) return undefined;
    for (const [name, part] of Object.entries(source.properties)) {
      const shape = shapeOf(part);
      if (shape === undefined) return undefined;
      names.push(name);
      shapes.push(shape);
    }
  }
  const types = source.type;
  const has = (type: string) => types === type || (Array.isArray(types) && types.includes(type));
  if (has('object') || source.properties !== undefined) return { kind: 'object', names, shapes, items };
  if (items.kind !== 'any') return { kind: 'array', items };
  return ANY;
}

/** Writes the test function of `shape` (and those it calls) into `out`; returns its name. */
function emit(shape: Shape, out: string[]): string {
  const name = `t${out.length}`;
  out.push('');
  const lines = [`function ${name}(o) {`, '  if (typeof o !== "object" || o === null) return true;'];
  const items = shape.kind === 'any' ? ANY : shape.items;
  if (items.kind !== 'any') {
    const each = emit(items, out);
    lines.push(`  if (Array.isArray(o)) { for (let i = 0; i < o.length; i++) if (!${each}(o[i])) return false; return true; }`);
  } else lines.push('  if (Array.isArray(o)) return true;');
  if (shape.kind !== 'object') lines.push('  return true;');
  else {
    // Plain objects only (a class instance, a Map: not worth proving both writers agree on), whose
    // enumerable keys are exactly their declared, defined properties: a declared getter on a
    // prototype or a non-enumerable one, which the serializer writes and JSON.stringify skips,
    // makes the counts differ.
    lines.push(
      '  if (o.constructor !== Object) return false;',
      '  let keys = 0;',
      '  for (const _ in o) keys++;',
      '  let declared = 0;',
      '  let v;',
    );
    shape.names.forEach((property, i) => {
      const inner = shape.shapes[i]!;
      const test = inner.kind === 'any' ? '' : ` if (!${emit(inner, out)}(v)) return false;`;
      lines.push(`  v = o[${JSON.stringify(property)}]; if (v !== undefined) { declared++;${test} }`);
    });
    lines.push('  return keys === declared;');
  }
  lines.push('}');
  out[Number(name.slice(1))] = lines.join('\n');
  return name;
}
