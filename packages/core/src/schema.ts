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
import type { ErrorObject, Options, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fastJsonStringify from 'fast-json-stringify';

/** What a validator factory needs of an ajv instance (any ajv 8 class: `Ajv`, `Ajv2019`, `Ajv2020`). */
export type Ajv = Pick<Ajv2020, 'compile'>;

/** A JSON Schema: an object or a boolean. */
export type JSONSchema = Record<string, unknown> | boolean;

/** What a route may declare; every part is optional. */
export interface RouteSchema {
  /** Object schema of the path parameters. */
  params?: JSONSchema;
  /** Object schema of the query string; a property of `type: 'array'` receives every value of a repeated key. */
  query?: JSONSchema;
  /** Object schema of the request headers; property names are matched case-insensitively. */
  headers?: JSONSchema;
  /** Schema of the parsed (JSON) body. */
  body?: JSONSchema;
  /**
   * Response body schemas by status code, for the OpenAPI document. `response[200]` also
   * serializes what the handler returns as a plain value (an object or array sent as JSON with
   * status 200): through a function compiled from the schema at registration (fast-json-stringify,
   * as Fastify does), which writes only the properties the schema declares and fails (500) when a
   * `required` one is missing. Responses are not validated otherwise.
   */
  response?: Record<number, JSONSchema>;
  summary?: string;
  description?: string;
  tags?: string[];
}

/** One failed check, for the `errors` member of a 400 problem response. */
export interface FieldError {
  location: 'params' | 'query' | 'headers' | 'body';
  /** JSON pointer to the offending value, e.g. `/email`; `''` is the whole part. */
  field: string;
  message: string;
}

/** The result of a validator: the validated (and, for strings, coerced) value, or the failures. */
export type ValidationResult = { value: any } | { errors: FieldError[] };

/** A route's schema compiled into validators; each is present only if that part was declared. */
export interface CompiledRouteSchema {
  /** Path parameters; a wildcard's segments (`string[]`) stay an array for a `type: 'array'` property and are joined with `/` otherwise. */
  params?(raw: Record<string, string | string[]>): ValidationResult;
  query?(raw: Record<string, string | string[]>): ValidationResult;
  headers?(raw: Record<string, string>): ValidationResult;
  body?(parsed: unknown): ValidationResult;
  /** Serializes a plain return value sent with status 200, compiled from `response[200]`. */
  serialize?(value: unknown): string;
  /** Whether any part of the request (params, query, headers, body) is validated. */
  readonly validates: boolean;
  readonly schema: RouteSchema;
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
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, coerceTypes: false, removeAdditional: false, strictTypes: false, strictTuples: false, ...options });
  addFormats(ajv);
  for (const keyword of OPENAPI_KEYWORDS) if (!ajv.getKeyword(keyword)) ajv.addKeyword(keyword);
  return ajv;
}

/**
 * Compiles a route's {@link RouteSchema} into its validators and serializer. An app calls its
 * compiler once per route, when the route is registered (a blueprint's: when the app first serves
 * it), so requests only run compiled code. Pass one as `new Carafe({ schemaCompiler })`;
 * {@link createValidatorFactory} makes the default.
 */
export type SchemaCompiler = (schema: RouteSchema) => CompiledRouteSchema;

/**
 * Returns a {@link SchemaCompiler}: params, query and headers are coerced from strings and
 * validated, the body validated, `response[200]` compiled into a serializer. One ajv instance
 * (`options.ajv`, or {@link createAjv}'s made at the first schema) serves all schemas it compiles.
 *
 * @example
 * const ajv = createAjv();
 * ajv.addFormat('sku', /^[A-Z]{3}-\d{4}$/);
 * const app = new Carafe({ schemaCompiler: createValidatorFactory({ ajv }) });
 */
export function createValidatorFactory(options: { ajv?: Ajv } = {}): SchemaCompiler {
  // Made at the first schema: most apps create a compiler, not all of them declare a schema.
  let ajv = options.ajv;
  return (schema) => {
    ajv ??= createAjv();
    const validates = schema.params !== undefined || schema.query !== undefined || schema.headers !== undefined || schema.body !== undefined;
    const compiled: CompiledRouteSchema = { schema, validates };
    if (schema.params !== undefined) compiled.params = stringPart('params', ajv, schema.params, (values) => values.join('/'));
    if (schema.query !== undefined) compiled.query = stringPart('query', ajv, schema.query, (values) => values[0]);
    if (schema.headers !== undefined) {
      const validate = stringPart('headers', ajv, lowerCaseProperties(schema.headers), (values) => values[0]);
      compiled.headers = (raw) => validate(lowerCaseKeys(raw));
    }
    if (schema.body !== undefined) {
      const validate = ajv.compile(schema.body);
      compiled.body = (parsed) => run('body', validate, parsed);
    }
    const ok = schema.response?.[200];
    if (isObject(ok)) compiled.serialize = serializer(ok);
    return compiled;
  };
}

/** A JSON serializer compiled from a response schema (OpenAPI's annotation keywords pass through). */
function serializer(schema: Record<string, unknown>): (value: unknown) => string {
  const build = fastJsonStringify as unknown as (schema: unknown, options: unknown) => (value: unknown) => string;
  return build(schema, { ajv: { strict: false } });
}

/** How a list of strings becomes one value for a property that is not an array. */
type Single = (values: string[]) => string | undefined;

function stringPart(location: FieldError['location'], ajv: Ajv, schema: JSONSchema, single: Single) {
  const validate = ajv.compile(schema);
  const coerce = coercer(schema, single);
  return (raw: Record<string, string | string[]>): ValidationResult => run(location, validate, coerce(raw));
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
