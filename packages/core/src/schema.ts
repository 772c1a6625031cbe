/**
 * Route schemas: JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) for a route's params, query,
 * headers and body, compiled once per route by the app's {@link SchemaCompiler} — by default the
 * ajv-based one {@link createValidatorFactory} makes. Nothing here is shared between apps.
 *
 * Params, query and headers arrive as strings, so they are first coerced to the types their properties
 * declare (like Flask's converters: `{ id: { type: 'integer' } }` turns `"42"` into `42`). That coercion
 * is planned from the schema at registration and works on the top-level properties of an object schema
 * (a `type` or list of types; for `type: 'array'`, the `items.type`). Bodies are validated as parsed.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, Format, KeywordDefinition, Options, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { closedTest } from './closed-schema.js';
// Before fast-json-stringify, which reads process.versions as it loads (see process-versions.ts).
import { restoreProcess } from './process-versions.js';
import fastJsonStringify from 'fast-json-stringify';
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';

restoreProcess();

/** What a validator factory needs of an ajv instance (any ajv 8 class: `Ajv`, `Ajv2019`, `Ajv2020`). */
export type Ajv = Pick<Ajv2020, 'compile'> & Partial<Pick<Ajv2020, 'addSchema' | 'addFormat' | 'addKeyword' | 'getSchema'>>;

/** A JSON Schema: an object or a boolean. */
export type JSONSchema = Record<string, unknown> | boolean;

/**
 * Any part of a route schema: a JSON Schema (compiled by ajv, the default and fast path) or a
 * [Standard Schema](https://standardschema.dev) validator — Zod 4, Valibot, ArkType… — recognised by
 * its `~standard` property and run through `~standard.validate`.
 */
export type SchemaPart = JSONSchema | StandardSchemaV1;

/** The keys of `RouteSchema['response']` besides status codes: a class of statuses (`2XX`) or `default`, as in OpenAPI. */
export type StatusRangeKey = '1XX' | '2XX' | '3XX' | '4XX' | '5XX' | 'default';

/** Response schemas by status code (`201`), status class (`'2XX'`) or `'default'`. */
export type ResponseSchemas = { [status: number]: SchemaPart } & { [K in StatusRangeKey]?: SchemaPart };

/** What a route may declare; every part is optional. */
export interface RouteSchema {
  /** Object schema of the path parameters. */
  params?: SchemaPart;
  /** Object schema of the query string; a property of `type: 'array'` receives every value of a repeated key. */
  query?: SchemaPart;
  /** Object schema of the request headers; property names are matched case-insensitively. */
  headers?: SchemaPart;
  /** Schema of the parsed (JSON) body. */
  body?: SchemaPart;
  /**
   * Response body schemas by status (`200`, `'2XX'`, `'default'`: the exact status first, then its
   * class, then `default`). Whatever the handler answers with a covered status and a JSON body — a
   * plain value, `json(value, { status })`, a `Response` built with a JSON body — is checked against
   * the schema and written with only the properties it declares; a value that does not fit is a
   * logged 500 (see {@link createValidatorFactory}).
   */
  response?: ResponseSchemas;
  summary?: string;
  description?: string;
  tags?: string[];
}

/** One failed check, for the `errors` member of a 400 problem response (or the log of a 500 for `response`). */
export interface FieldError {
  location: 'params' | 'query' | 'headers' | 'body' | 'response';
  /** JSON pointer to the offending value, e.g. `/email`; `''` is the whole part. */
  field: string;
  message: string;
}

/** The result of a validator: the validated (and, for strings, coerced) value, or the failures. */
export type ValidationResult = { value: any } | { errors: FieldError[] };

/** Writes the JSON text of a value sent with a given status, after checking it against that status's schema. */
export type Serialize = (value: unknown) => string;

/**
 * On a compiled JSON-schema response serializer: its two generated parts, so that the dispatcher's
 * fast path runs the common case (`check(value)` true, then `write(value)` is the answer) without
 * calling the wrapper here; anything else calls the serializer itself.
 */
export const kSerializeParts = Symbol('carafe.serializeParts');

/** What {@link kSerializeParts} holds. */
export interface SerializeParts {
  readonly check: (value: unknown) => boolean;
  readonly write: Serialize;
}

/** A route's schema compiled into validators; each is present only if that part was declared. */
export interface CompiledRouteSchema {
  /** Path parameters; a wildcard's segments (`string[]`) stay an array for a `type: 'array'` property and are joined with `/` otherwise. */
  params?(raw: Record<string, string | string[]>): ValidationResult | Promise<ValidationResult>;
  query?(raw: Record<string, string | string[]>): ValidationResult | Promise<ValidationResult>;
  headers?(raw: Record<string, string>): ValidationResult | Promise<ValidationResult>;
  body?(parsed: unknown): ValidationResult | Promise<ValidationResult>;
  /**
   * Checks and writes a JSON value sent with status 200 (the fast path's serializer; `response(200)`
   * when the compiler has `response`). Throws {@link ResponseValidationError} when the value does not fit.
   */
  serialize?: Serialize;
  /** The serializer for a JSON body sent with `status`, or `undefined` when no response schema covers it. */
  response?(status: number): Serialize | undefined;
  /** Whether any part of the request (params, query, headers, body) is validated. */
  readonly validates: boolean;
  readonly schema: RouteSchema;
}

/** Thrown (and answered as a logged 500) when what a handler answers does not fit its response schema. */
export class ResponseValidationError extends Error {
  readonly status: number;
  readonly errors: FieldError[];
  constructor(status: number, errors: FieldError[], options?: ErrorOptions) {
    const list = errors.map((e) => `${e.field || '(root)'} ${e.message}`).join('; ');
    super(`The response (status ${status}) does not match its schema: ${list}`, options);
    this.name = 'ResponseValidationError';
    this.status = status;
    this.errors = errors;
  }
}

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** OpenAPI annotations that ajv's strict mode would otherwise reject. */
const OPENAPI_KEYWORDS = ['example', 'xml', 'externalDocs'];

/**
 * Creates the ajv instance the validator factory uses by default: draft 2020-12, all errors, defaults
 * applied, no coercion or removal of data (strings are coerced beforehand), ajv-formats added.
 * Exported so an application can add formats, keywords or shared schemas and pass it back in.
 */
export function createAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    useDefaults: true,
    coerceTypes: false,
    removeAdditional: false,
    strictTypes: false,
    strictTuples: false,
    ...options,
  });
  addFormats(ajv);
  for (const keyword of OPENAPI_KEYWORDS) if (!ajv.getKeyword(keyword)) ajv.addKeyword(keyword);
  return ajv;
}

/** A JSON Schema object with the `$id` it is shared under (`app.addSchema`). */
export type SharedSchema = Record<string, unknown> & { $id: string };

/**
 * Compiles a route's {@link RouteSchema} into its validators and serializers. An app calls its
 * compiler once per route, when the route is registered (a blueprint's: when the app first serves
 * it), so requests only run compiled code. Pass one as `new Carafe({ schemaCompiler })`;
 * {@link createValidatorFactory} makes the default. The optional methods back `app.addSchema`,
 * `app.addFormat` and `app.addKeyword`.
 */
export interface SchemaCompiler {
  (schema: RouteSchema): CompiledRouteSchema;
  /** Adds a schema that route schemas reference by its `$id` (`{ $ref: 'User#' }`). */
  addSchema?(schema: SharedSchema): void;
  /** Adds a string format (`format: 'objectid'`). */
  addFormat?(name: string, format: Format): void;
  /** Adds a keyword (an ajv keyword definition). */
  addKeyword?(definition: KeywordDefinition): void;
}

/** Runs on each ajv instance the factory makes: add keywords, formats, plugins (`ajv-errors`, `ajv-keywords`). */
export type AjvPlugin = (ajv: Ajv2020) => unknown;

/** Options of {@link createValidatorFactory}. */
export interface ValidatorFactoryOptions {
  /**
   * ajv options, merged over {@link createAjv}'s defaults — or an ajv instance of your own, which is
   * then used for everything (request validation and response checks). With options, the factory
   * makes two instances from them: one for requests (defaults applied) and one for responses (that
   * never writes into the value it checks).
   */
  ajv?: Options | Ajv;
  /** Called with each ajv instance the factory makes (not with an instance given as `ajv`). */
  plugins?: readonly AjvPlugin[];
}

function isAjvInstance(value: unknown): value is Ajv {
  return typeof (value as Ajv | undefined)?.compile === 'function';
}

/**
 * Returns a {@link SchemaCompiler}: params, query and headers are coerced from strings and
 * validated, the body validated, each response schema compiled into a checking serializer.
 *
 * **Responses.** A response schema's serializer first runs the schema's compiled ajv validator on
 * the value as the handler produced it, then writes it with a function compiled from the schema
 * (fast-json-stringify, as Fastify does), which writes only the properties the schema declares —
 * or, for a value holding nothing else, with `JSON.stringify`, which writes the same JSON for less
 * (closed-schema.ts).
 * Nothing is coerced: the serializer only ever sees values the schema accepts. When the value does
 * not fit as is, it is checked again in its JSON form (a `JSON.parse(JSON.stringify())` copy, so a
 * `Date` is its ISO string and `toJSON()` has run), with the properties that `additionalProperties:
 * false`/`unevaluatedProperties: false` forbid removed from the copy; if that fails too, the
 * serializer throws {@link ResponseValidationError} (a logged 500). A Standard Schema response is
 * validated with `~standard.validate` (synchronously) and its output written with `JSON.stringify`
 * (Zod's objects, for instance, strip unknown keys).
 *
 * One or two ajv instances (see {@link ValidatorFactoryOptions.ajv}), made at the first schema,
 * serve all schemas the compiler compiles; `addSchema`, `addFormat` and `addKeyword` reach them all.
 *
 * @example
 * const app = new Carafe({ schemaCompiler: createValidatorFactory({ ajv: { allErrors: false }, plugins: [ajvErrors] }) });
 * app.addFormat('sku', /^[A-Z]{3}-\d{4}$/);
 */
export function createValidatorFactory(options: ValidatorFactoryOptions = {}): SchemaCompiler {
  const given = isAjvInstance(options.ajv) ? options.ajv : undefined;
  const ajvOptions = given ? {} : ((options.ajv ?? {}) as Options);
  const shared: SharedSchema[] = [];
  const formats: Record<string, Format> = {};
  const keywords: KeywordDefinition[] = [];
  // Made at the first schema: most apps create a compiler, not all of them declare a schema.
  let instances: { request: Ajv; response: Ajv } | undefined;
  const make = (extra: Options): Ajv => {
    const ajv = createAjv({ ...ajvOptions, ...extra });
    for (const plugin of options.plugins ?? []) plugin(ajv);
    for (const [name, format] of Object.entries(formats)) ajv.addFormat(name, format);
    for (const keyword of keywords) ajv.addKeyword(keyword);
    for (const schema of shared) ajv.addSchema(schema);
    return ajv;
  };
  const ajvs = () => {
    if (instances) return instances;
    if (given) instances = { request: given, response: given };
    else instances = { request: make({}), response: make({ useDefaults: false, removeAdditional: false }) };
    return instances;
  };
  const each = (apply: (ajv: Ajv) => void) => {
    if (!instances) return;
    apply(instances.request);
    if (instances.response !== instances.request) apply(instances.response);
  };
  const compiler: SchemaCompiler = (schema) => {
    const { request: ajv, response: responseAjv } = ajvs();
    const validates =
      schema.params !== undefined || schema.query !== undefined || schema.headers !== undefined || schema.body !== undefined;
    const compiled: CompiledRouteSchema = { schema, validates };
    if (schema.params !== undefined) compiled.params = stringPart('params', ajv, schema.params, (values) => values.join('/'));
    if (schema.query !== undefined) compiled.query = stringPart('query', ajv, schema.query, (values) => values[0]);
    if (schema.headers !== undefined) {
      const part = isStandardSchema(schema.headers) ? schema.headers : lowerCaseProperties(schema.headers);
      const validate = stringPart('headers', ajv, part, (values) => values[0]);
      compiled.headers = (raw) => validate(lowerCaseKeys(raw));
    }
    if (schema.body !== undefined) {
      const body = schema.body;
      if (isStandardSchema(body)) compiled.body = (parsed) => runStandard('body', body, parsed);
      else {
        const validate = ajv.compile(body);
        compiled.body = (parsed) => run('body', validate, parsed);
      }
    }
    if (schema.response !== undefined) {
      const context: SerializerContext = { ajv: responseAjv, shared, formats };
      const table = responseTable(schema.response, context);
      compiled.response = table;
      compiled.serialize = table(200);
    }
    return compiled;
  };
  compiler.addSchema = (schema) => {
    if (!isObject(schema) || typeof schema.$id !== 'string' || schema.$id === '')
      throw new TypeError('addSchema: a shared schema needs a string $id');
    if (shared.some((s) => s.$id === schema.$id))
      throw new Error(`addSchema: a schema with $id ${JSON.stringify(schema.$id)} was added already`);
    each((ajv) => ajv.addSchema?.(schema));
    shared.push(schema);
  };
  compiler.addFormat = (name, format) => {
    each((ajv) => ajv.addFormat?.(name, format));
    formats[name] = format;
  };
  compiler.addKeyword = (definition) => {
    each((ajv) => ajv.addKeyword?.(definition));
    keywords.push(definition);
  };
  return compiler;
}

// ---- Standard Schema ----

/** Whether `value` is a Standard Schema validator (Zod 4, Valibot, ArkType…): it has `~standard.validate`. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { '~standard'?: { validate?: unknown } } | null | undefined)?.['~standard'];
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof props?.validate === 'function';
}

function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

function runStandard(
  location: FieldError['location'],
  schema: StandardSchemaV1,
  value: unknown,
): ValidationResult | Promise<ValidationResult> {
  const result = schema['~standard'].validate(value);
  return isThenable<StandardSchemaV1.Result<unknown>>(result)
    ? Promise.resolve(result).then((r) => standardResult(location, r))
    : standardResult(location, result);
}

function standardResult(location: FieldError['location'], result: StandardSchemaV1.Result<unknown>): ValidationResult {
  if (!result.issues) return { value: result.value };
  return { errors: result.issues.map((issue) => ({ location, field: issuePointer(issue.path), message: issue.message })) };
}

function issuePointer(path: StandardSchemaV1.Issue['path']): string {
  if (!path) return '';
  return path.map((segment) => `/${escapePointer(String(typeof segment === 'object' ? segment.key : segment))}`).join('');
}

/**
 * The JSON Schema of a Standard Schema validator, for OpenAPI: its `~standard.jsonSchema` (the
 * Standard JSON Schema interface, which Zod 4 implements) for draft 2020-12, else what `convert`
 * returns, else `undefined`. `io` picks the input form (what a client sends) or the output form.
 */
export function standardJsonSchema(
  schema: StandardSchemaV1,
  io: 'input' | 'output',
  convert?: (schema: StandardSchemaV1, io: 'input' | 'output') => JSONSchema | undefined,
): JSONSchema | undefined {
  const converter = (schema as unknown as { '~standard'?: Partial<StandardJSONSchemaV1.Props> })['~standard']?.jsonSchema;
  if (converter && typeof converter[io] === 'function') {
    try {
      const result = { ...converter[io]({ target: 'draft-2020-12' }) };
      delete result.$schema;
      return result;
    } catch {
      // The library could not represent this schema; try the app's converter.
    }
  }
  return convert?.(schema, io);
}

// ---- response serializers ----

interface SerializerContext {
  ajv: Ajv;
  shared: readonly SharedSchema[];
  formats: Readonly<Record<string, Format>>;
}

/** The response serializers of a route by status: the exact status, then its class (`2XX`), then `default`. */
function responseTable(declared: ResponseSchemas, context: SerializerContext): (status: number) => Serialize | undefined {
  const exact = new Map<number, Serialize>();
  const classes: Array<Serialize | undefined> = [];
  let fallback: Serialize | undefined;
  for (const [key, part] of Object.entries(declared) as Array<[string, SchemaPart]>) {
    if (key === 'default') fallback = responseSerializer(key, part, context);
    else if (/^[1-5]XX$/.test(key)) classes[Number(key[0])] = responseSerializer(key, part, context);
    else if (/^[1-5]\d\d$/.test(key)) exact.set(Number(key), responseSerializer(key, part, context));
    else throw new TypeError(`response schema key ${JSON.stringify(key)} is not a status code, a class like "2XX" or "default"`);
  }
  return (status) => exact.get(status) ?? classes[Math.floor(status / 100)] ?? fallback;
}

function responseSerializer(key: string, part: SchemaPart, context: SerializerContext): Serialize {
  const status = key === 'default' || key.endsWith('XX') ? key : Number(key);
  const fail = (errors: FieldError[], cause?: unknown) =>
    new ResponseValidationError(Number(status) || 0, errors, cause === undefined ? undefined : { cause });
  if (isStandardSchema(part)) {
    const validate = part['~standard'].validate.bind(part['~standard']);
    return (value) => {
      const result = validate(value);
      if (isThenable(result))
        throw fail([
          { location: 'response', field: '', message: 'validates asynchronously; response schemas must validate synchronously' },
        ]);
      if (result.issues) throw fail((standardResult('response', result) as { errors: FieldError[] }).errors);
      return JSON.stringify(result.value) ?? 'null';
    };
  }
  const check = context.ajv.compile(part);
  const write = serializer(part, context);
  // The cost on the fast path: one compiled ajv validator call (`check`) before the compiled
  // serializer — a few tens of nanoseconds for a small object. The JSON copy below (a stringify and
  // a parse, ~1.5 µs for the same object) is only made for a value that does not fit as it is.
  // A value holding only what the schema declares is written by JSON.stringify (see closed-schema.ts).
  const closed = closedTest(part);
  const writeValue: Serialize = closed === undefined ? write : (value) => (closed(value) ? JSON.stringify(value) : write(value));
  const serialize: Serialize & { [kSerializeParts]?: SerializeParts } = (value) =>
    check(value) ? writeValue(value) : writeJsonForm(value);
  serialize[kSerializeParts] = { check: check as (value: unknown) => boolean, write: writeValue };
  return serialize;

  function writeJsonForm(value: unknown): string {
    let copy: unknown;
    try {
      copy = JSON.parse(JSON.stringify(value) ?? 'null');
    } catch (error) {
      throw fail([{ location: 'response', field: '', message: `is not JSON: ${(error as Error).message}` }], error);
    }
    for (let round = 0; round < 16; round++) {
      if (check(copy)) return write(copy);
      const errors = check.errors ?? [];
      if (!removeForbidden(copy, errors)) throw fail(toFieldErrors('response', errors));
    }
    throw fail(toFieldErrors('response', check.errors ?? []));
  }
}

/** Deletes the properties an `additionalProperties`/`unevaluatedProperties` error names; whether any was. */
function removeForbidden(data: unknown, errors: readonly ErrorObject[]): boolean {
  let removed = false;
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties' && error.keyword !== 'unevaluatedProperties') continue;
    const params = error.params as { additionalProperty?: string; unevaluatedProperty?: string };
    const name = params.additionalProperty ?? params.unevaluatedProperty;
    const target = at(data, error.instancePath);
    if (name !== undefined && isObject(target) && Object.hasOwn(target, name)) {
      delete target[name];
      removed = true;
    }
  }
  return removed;
}

function at(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A JSON serializer compiled from a response schema; shared schemas resolve by `$id`, OpenAPI's annotation keywords pass through. */
function serializer(schema: JSONSchema, context: SerializerContext): Serialize {
  if (typeof schema === 'boolean') return (value) => JSON.stringify(value) ?? 'null';
  const build = fastJsonStringify as unknown as (schema: unknown, options: unknown) => Serialize;
  const external = Object.fromEntries(context.shared.map((s) => [s.$id, s]));
  return build(schema, { schema: external, ajv: { strict: false, formats: context.formats } });
}

/** How a list of strings becomes one value for a property that is not an array. */
type Single = (values: string[]) => string | undefined;

function stringPart(location: FieldError['location'], ajv: Ajv, schema: SchemaPart, single: Single) {
  if (isStandardSchema(schema)) return (raw: Record<string, string | string[]>) => runStandard(location, schema, raw);
  const validate = ajv.compile(schema);
  const coerce = coercer(resolveRef(ajv, schema), single);
  return (raw: Record<string, string | string[]>): ValidationResult => run(location, validate, coerce(raw));
}

/** A schema that is only a `$ref` to a shared schema, resolved (to plan the coercion of its properties). */
function resolveRef(ajv: Ajv, schema: JSONSchema): JSONSchema {
  if (!isObject(schema) || typeof schema.$ref !== 'string' || schema.properties !== undefined) return schema;
  const target = ajv.getSchema?.(schema.$ref)?.schema;
  return typeof target === 'object' && target !== null ? (target as Record<string, unknown>) : schema;
}

function run(location: FieldError['location'], validate: ValidateFunction, data: unknown): ValidationResult {
  if (validate(data)) return { value: data };
  return { errors: toFieldErrors(location, validate.errors ?? []) };
}

/** Maps ajv errors to {@link FieldError}s, pointing "missing" and "not allowed" errors at the property itself. */
export function toFieldErrors(location: FieldError['location'], errors: ErrorObject[]): FieldError[] {
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const error of errors) {
    let field = error.instancePath;
    let message = error.message ?? 'is invalid';
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required' || error.keyword === 'dependentRequired') {
      field += `/${escapePointer(String(params.missingProperty))}`;
      message = 'is required';
    } else if (error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties') {
      field += `/${escapePointer(String(params.additionalProperty ?? params.unevaluatedProperty))}`;
      message = 'is not allowed';
    }
    const key = `${field}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ location, field, message });
  }
  return result;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---- coercion of string inputs, planned once per schema ----

type Coerce = (raw: Record<string, string | string[]>) => Record<string, unknown>;
interface PropertyPlan {
  array: boolean;
  /** Scalar target types (of the items, for arrays); empty means leave the string as is. */
  types: string[];
}

function coercer(schema: JSONSchema, single: Single): Coerce {
  const plans = new Map<string, PropertyPlan>();
  const properties = typeof schema === 'object' ? schema.properties : undefined;
  if (isObject(properties)) {
    for (const [name, property] of Object.entries(properties)) {
      if (!isObject(property)) continue;
      const types = typesOf(property.type);
      const array = types.includes('array');
      const items = array && isObject(property.items) ? typesOf(property.items.type) : [];
      plans.set(name, { array, types: array ? items : types });
    }
  }
  return (raw) => {
    const result: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(raw)) {
      const plan = plans.get(name);
      if (!plan) result[name] = value;
      else if (plan.array) result[name] = (Array.isArray(value) ? value : [value]).map((item) => coerceString(item, plan.types));
      else result[name] = coerceString(Array.isArray(value) ? single(value) : value, plan.types);
    }
    return result;
  };
}

function typesOf(type: unknown): string[] {
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Converts to the first declared type the text represents; otherwise keeps the string, so ajv reports the type error. */
function coerceString(value: string | undefined, types: string[]): unknown {
  if (value === undefined || types.length === 0 || types.includes('string')) return value;
  for (const type of types) {
    if (type === 'integer' && INTEGER.test(value)) return Number(value);
    if (type === 'number' && NUMBER.test(value)) return Number(value);
    if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
    if (type === 'null' && value === '') return null;
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lowerCaseKeys<T>(raw: Record<string, T>): Record<string, T> {
  const result: Record<string, T> = {};
  for (const [name, value] of Object.entries(raw)) result[name.toLowerCase()] = value;
  return result;
}

/** Header names are case-insensitive: lower-case the schema's property names (and `required`) to match. */
function lowerCaseProperties(schema: JSONSchema): JSONSchema {
  if (!isObject(schema)) return schema;
  const { properties, required } = schema;
  const needsCopy =
    (isObject(properties) && Object.keys(properties).some((name) => name !== name.toLowerCase())) ||
    (Array.isArray(required) && required.some((name) => typeof name === 'string' && name !== name.toLowerCase()));
  if (!needsCopy) return schema;
  return {
    ...schema,
    ...(isObject(properties) && { properties: lowerCaseKeys(properties) }),
    ...(Array.isArray(required) && { required: required.map((name) => (typeof name === 'string' ? name.toLowerCase() : name)) }),
  };
}
