/**
 * Builds an OpenAPI 3.1 document from registered routes and their schemas. JSON Schemas are used
 * as written (OpenAPI 3.1 speaks JSON Schema 2020-12, the dialect the validators compile), with
 * their `$ref`s to shared schemas pointed at `components.schemas`; a Standard Schema validator
 * appears as the JSON Schema its library gives (`~standard.jsonSchema`, or the `jsonSchema` option).
 */
import { STATUS_TEXT } from '@carafe/gateway';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { parse, type Token } from 'path-to-regexp';
import { isStandardSchema, standardJsonSchema, type JSONSchema, type RouteSchema, type SchemaPart, type SharedSchema } from './schema.js';

/** A route as {@link buildOpenApi} needs it. */
export interface OpenApiRoute {
  methods: readonly string[];
  /** Full path in path-to-regexp syntax (v8 and v9 share it) (`/users/:id`, `/files/*path`, `/docs{/:lang}`). */
  path: string;
  name: string;
  schema?: RouteSchema;
  /** The operation's `security` (from the middleware around it: `app.openapi()` collects it). */
  security?: ReadonlyArray<Record<string, readonly string[]>>;
  /** Responses the middleware around it may answer with (`401`, `429`, …); the route's own schemas win. */
  responses?: Record<string, unknown>;
  /** The media types the route produces (its `produces` option): the content types of its success responses. */
  produces?: readonly string[];
}

/** The document's `info` object. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** Options of {@link buildOpenApi} (and `app.openapi`). */
export interface OpenApiOptions {
  /** Shared schemas (`app.addSchema`), documented under `components.schemas` by their `$id`. */
  schemas?: readonly SharedSchema[];
  /**
   * The JSON Schema of a Standard Schema validator whose library has no `~standard.jsonSchema`
   * (Valibot: `(schema) => toJsonSchema(schema)` from `@valibot/to-json-schema`). Without one, such a
   * part is documented as `{}` (any value).
   */
  jsonSchema?: (schema: StandardSchemaV1, io: 'input' | 'output') => JSONSchema | undefined;
  /** `components.securitySchemes` (`app.openapi()` collects them from the middleware's descriptions). */
  securitySchemes?: Record<string, Record<string, unknown>>;
}

const PROBLEM = { $ref: '#/components/schemas/Problem' };
const PROBLEM_RESPONSE = (description: string) => ({ description, content: { 'application/problem+json': { schema: PROBLEM } } });
/** Methods an OpenAPI path item can describe. */
const OPERATION_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
/** What a catch-all route (`app.all`) is documented as. */
const CATCH_ALL_METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Headers OpenAPI describes elsewhere; parameters with these names are ignored by its tools. */
const RESERVED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

const COMPONENTS = {
  schemas: {
    Problem: {
      type: 'object',
      description: 'An RFC 9457 problem details object.',
      properties: {
        type: { type: 'string', format: 'uri-reference' },
        title: { type: 'string' },
        status: { type: 'integer', minimum: 100, maximum: 599 },
        detail: { type: 'string' },
        instance: { type: 'string', format: 'uri-reference' },
        errors: { type: 'array', items: { $ref: '#/components/schemas/FieldError' } },
      },
    },
    FieldError: {
      type: 'object',
      required: ['location', 'field', 'message'],
      properties: {
        location: { enum: ['params', 'query', 'headers', 'body'] },
        field: { type: 'string', description: 'JSON pointer into the location, e.g. /email' },
        message: { type: 'string' },
      },
    },
  },
};

/**
 * Builds an OpenAPI **3.1.0** document.
 *
 * Each path-to-regexp template becomes an OpenAPI template (`:id` and `*path` → `{id}`, `{path}`); an
 * optional group is expanded into the paths with and without it. Path parameters are always required
 * and take their schema from `schema.params` (default `{ type: 'string' }`); query and header
 * parameters come from the properties of `schema.query` and `schema.headers`; `schema.body` becomes an
 * `application/json` request body; `schema.response` gives the responses (else a bare 200). Every
 * operation also lists its problem responses (`400` when it validates anything, and `default`).
 * `operationId` is the route name, suffixed with the method for multi-method routes and with a number
 * for the extra variants of optional groups. HEAD beside GET (answered automatically) is left out.
 */
export function buildOpenApi(routes: readonly OpenApiRoute[], info: OpenApiInfo, options: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  const components = new Components(options);
  for (const route of routes) {
    const methods = documentedMethods(route.methods);
    if (methods.length === 0) continue;
    const variants = expandPath(route.path);
    variants.forEach((variant, index) => {
      const pathItem = (paths[variant.path] ??= {});
      for (const method of methods) {
        if (pathItem[method] !== undefined) continue; // the router matches the first registration
        const base = route.name + (methods.length > 1 ? `_${method}` : '') + (index > 0 ? `_${index + 1}` : '');
        let id = base;
        for (let n = 2; operationIds.has(id); n++) id = `${base}_${n}`;
        operationIds.add(id);
        pathItem[method] = withMiddlewareDocs(operation(id, variant.params, documented(route.schema, components)), route);
      }
    });
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, ...(info.description !== undefined && { description: info.description }) },
    paths,
    components: {
      schemas: { ...structuredClone(COMPONENTS.schemas), ...components.schemas },
      ...(options.securitySchemes && { securitySchemes: structuredClone(options.securitySchemes) }),
    },
  };
}

/** The route schema with every part as a JSON Schema ready for the document (refs pointed at components). */
function documented(schema: RouteSchema | undefined, components: Components): RouteSchema | undefined {
  if (schema === undefined) return undefined;
  const part = (value: SchemaPart | undefined, io: 'input' | 'output') => (value === undefined ? undefined : components.part(value, io));
  const result: RouteSchema = { ...schema };
  for (const key of ['params', 'query', 'headers', 'body'] as const) {
    const converted = part(schema[key], 'input');
    if (converted !== undefined) result[key] = converted;
  }
  if (schema.response !== undefined) {
    result.response = Object.fromEntries(
      Object.entries(schema.response).map(([status, value]) => [status, part(value as SchemaPart, 'output')]),
    ) as RouteSchema['response'];
  }
  return result;
}

/**
 * The schemas of `components.schemas` besides the problem ones: the shared schemas under names
 * made from their `$id`, and the `$defs` of route schemas, hoisted so that their `#/$defs/…` refs
 * still resolve inside the document. Refs to a shared schema (`User#`, `User`, `User#/properties/id`)
 * become `#/components/schemas/User…`.
 */
class Components {
  readonly schemas: Record<string, JSONSchema> = {};
  readonly #byId = new Map<string, string>();
  readonly #hoisted = new Map<string, string>();
  readonly #convert: OpenApiOptions['jsonSchema'];

  constructor(options: OpenApiOptions) {
    this.#convert = options.jsonSchema;
    const shared = options.schemas ?? [];
    for (const schema of shared) this.#byId.set(schema.$id, this.#name(schema.$id));
    for (const schema of shared) {
      const name = this.#byId.get(schema.$id)!;
      const { $id: _id, $schema: _schema, ...rest } = schema;
      this.schemas[name] = this.#rewrite(rest, schema.$id, `#/components/schemas/${name}`) as JSONSchema;
    }
  }

  /** A route schema part as it is documented. */
  part(part: SchemaPart, io: 'input' | 'output'): JSONSchema {
    const schema = isStandardSchema(part) ? (standardJsonSchema(part, io, this.#convert) ?? {}) : part;
    if (typeof schema !== 'object' || schema === null) return schema;
    const { $defs, definitions, $schema: _schema, ...rest } = schema as Record<string, unknown>;
    const hoisted = new Map<string, string>();
    for (const [keyword, defs] of [
      ['$defs', $defs],
      ['definitions', definitions],
    ] as const) {
      if (typeof defs !== 'object' || defs === null) continue;
      // The same definition hoisted from several routes (a library's registry) is documented once.
      for (const [key, def] of Object.entries(defs as Record<string, unknown>)) {
        const signature = `${key}\0${JSON.stringify(def)}`;
        const name = this.#hoisted.get(signature) ?? this.#name(key);
        this.#hoisted.set(signature, name);
        hoisted.set(`#/${keyword}/${key}`, name);
      }
    }
    const rewrite = (value: unknown) => this.#rewrite(value, undefined, undefined, hoisted);
    for (const [keyword, defs] of [
      ['$defs', $defs],
      ['definitions', definitions],
    ] as const) {
      if (typeof defs !== 'object' || defs === null) continue;
      for (const [key, def] of Object.entries(defs as Record<string, unknown>))
        this.schemas[hoisted.get(`#/${keyword}/${key}`)!] = rewrite(def) as JSONSchema;
    }
    return rewrite(rest) as JSONSchema;
  }

  /** A component name for `id` not used yet: its last path segment without `.json`, made safe. */
  #name(id: string): string {
    const last = id.replace(/#.*$/, '').split('/').filter(Boolean).pop() ?? 'Schema';
    const base = last.replace(/\.json$/, '').replace(/[^a-zA-Z0-9._-]/g, '_') || 'Schema';
    const used = new Set([...Object.keys(COMPONENTS.schemas), ...Object.keys(this.schemas), ...this.#byId.values()]);
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    return name;
  }

  /** A deep copy of `value` with its `$ref`s pointed into the document. */
  #rewrite(value: unknown, base: string | undefined, self: string | undefined, hoisted?: ReadonlyMap<string, string>): unknown {
    if (Array.isArray(value)) return value.map((item) => this.#rewrite(item, base, self, hoisted));
    if (typeof value !== 'object' || value === null) return value;
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] =
        key === '$ref' && typeof item === 'string' ? this.#ref(item, base, self, hoisted) : this.#rewrite(item, base, self, hoisted);
    }
    return result;
  }

  #ref(ref: string, base: string | undefined, self: string | undefined, hoisted?: ReadonlyMap<string, string>): string {
    if (ref.startsWith('#')) {
      for (const [pointer, name] of hoisted ?? []) {
        if (ref === pointer || ref.startsWith(`${pointer}/`)) return `#/components/schemas/${name}${ref.slice(pointer.length)}`;
      }
      return self !== undefined ? `${self}${ref.slice(1)}` : ref;
    }
    const hash = ref.indexOf('#');
    const target = hash === -1 ? ref : ref.slice(0, hash);
    const fragment = hash === -1 ? '' : ref.slice(hash + 1);
    const name = this.#byId.get(resolveId(target, base)) ?? this.#byId.get(target);
    return name === undefined ? ref : `#/components/schemas/${name}${fragment}`;
  }
}

/** `ref` resolved against the `$id` of the schema it is in, when that is an absolute URI. */
function resolveId(ref: string, base: string | undefined): string {
  if (base === undefined) return ref;
  try {
    return new URL(ref, base).href;
  } catch {
    return ref;
  }
}

function documentedMethods(methods: readonly string[]): string[] {
  const lower = methods.map((method) => method.toLowerCase());
  const expanded = lower.flatMap((method) => (method === '*' || method === 'all' ? CATCH_ALL_METHODS : [method]));
  const hasGet = expanded.includes('get');
  return [...new Set(expanded)].filter((method) => OPERATION_METHODS.has(method) && !(method === 'head' && hasGet));
}

interface PathVariant {
  path: string;
  params: string[];
}

/** Converts a path-to-regexp path into OpenAPI templates, one per combination of optional groups. */
export function expandPath(path: string): PathVariant[] {
  const variants = expandTokens(parse(path).tokens);
  return variants.map(({ path, params }) => ({ path: path.startsWith('/') ? path : `/${path}`, params }));
}

function expandTokens(tokens: readonly Token[]): PathVariant[] {
  let variants: PathVariant[] = [{ path: '', params: [] }];
  for (const token of tokens) {
    if (token.type === 'text') {
      variants = variants.map((v) => ({ path: v.path + token.value, params: v.params }));
    } else if (token.type === 'param' || token.type === 'wildcard') {
      variants = variants.map((v) => ({ path: `${v.path}{${token.name}}`, params: [...v.params, token.name] }));
    } else {
      const inner = expandTokens(token.tokens);
      variants = variants.flatMap((v) => [v, ...inner.map((i) => ({ path: v.path + i.path, params: [...v.params, ...i.params] }))]);
    }
  }
  return variants;
}

function operation(operationId: string, pathParams: string[], schema: RouteSchema = {}): Record<string, unknown> {
  const parameters = [
    ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: propertiesOf(schema.params)[name] ?? { type: 'string' } })),
    ...objectParameters('query', schema.query),
    ...objectParameters('header', schema.headers).filter((p) => !RESERVED_HEADERS.has(p.name.toLowerCase())),
  ];
  const validates = [schema.params, schema.query, schema.headers, schema.body].some((part) => part !== undefined);
  return {
    operationId,
    ...(schema.summary !== undefined && { summary: schema.summary }),
    ...(schema.description !== undefined && { description: schema.description }),
    ...(schema.tags !== undefined && { tags: schema.tags }),
    ...(parameters.length > 0 && { parameters }),
    ...(schema.body !== undefined && {
      requestBody: { required: true, content: { 'application/json': { schema: schema.body } } },
    }),
    responses: responses(schema.response, validates),
  };
}

function objectParameters(location: 'query' | 'header', schema: SchemaPart | undefined) {
  const required = typeof schema === 'object' && !isStandardSchema(schema) && Array.isArray(schema.required) ? schema.required : [];
  return Object.entries(propertiesOf(schema)).map(([name, property]) => ({
    name,
    in: location,
    required: required.includes(name),
    schema: property,
  }));
}

function propertiesOf(schema: SchemaPart | undefined): Record<string, JSONSchema> {
  const properties = typeof schema === 'object' && !isStandardSchema(schema) ? schema.properties : undefined;
  return typeof properties === 'object' && properties !== null ? (properties as Record<string, JSONSchema>) : {};
}

const CLASS_DESCRIPTIONS: Record<string, string> = {
  '1XX': 'Informational',
  '2XX': 'Success',
  '3XX': 'Redirection',
  '4XX': 'Client error',
  '5XX': 'Server error',
  default: 'Any other response',
};

function responses(declared: RouteSchema['response'], validates: boolean): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(declared ?? {})) {
    const description = STATUS_TEXT[Number(status)] ?? CLASS_DESCRIPTIONS[status] ?? 'Response';
    result[status] = status === '204' || status === '304' ? { description } : { description, content: { 'application/json': { schema } } };
  }
  if (Object.keys(result).length === 0) result['200'] = { description: 'Successful response' };
  if (validates && result['400'] === undefined) result['400'] = PROBLEM_RESPONSE('The request failed validation');
  if (result.default === undefined) result.default = PROBLEM_RESPONSE('An error, as RFC 9457 problem details');
  return result;
}

/**
 * An operation with what the route's middleware and `produces` option add: its `security`, the
 * middleware's responses (the route's own win; `default` stays last), and the produced media types
 * as the content of its success responses.
 */
function withMiddlewareDocs(op: Record<string, unknown>, route: OpenApiRoute): Record<string, unknown> {
  if (route.security === undefined && route.responses === undefined && route.produces === undefined) return op;
  const result = { ...op };
  if (route.security !== undefined) result.security = route.security.map((requirement) => structuredClone(requirement));
  let responses = op.responses as Record<string, Record<string, unknown>>;
  if (route.responses !== undefined) {
    const { default: last, ...own } = responses;
    responses = {
      ...(structuredClone(route.responses) as Record<string, Record<string, unknown>>),
      ...own,
      ...(last && { default: last }),
    };
  }
  if (route.produces !== undefined) {
    const produces = route.produces;
    responses = Object.fromEntries(
      Object.entries(responses).map(([status, response]) => {
        if (!/^2/.test(status) || status === '204') return [status, response];
        const content = response.content as Record<string, { schema?: unknown }> | undefined;
        const schema = content?.['application/json']?.schema;
        const types = Object.fromEntries(produces.map((type) => [type, /[/+]json\b/.test(type) && schema !== undefined ? { schema } : {}]));
        return [status, { ...response, content: types }];
      }),
    );
  }
  result.responses = responses;
  return result;
}
