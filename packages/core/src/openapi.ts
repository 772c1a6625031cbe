/**
 * Builds an OpenAPI 3.1 document from registered routes and their JSON Schemas. Schemas are used
 * as written: OpenAPI 3.1 speaks JSON Schema 2020-12, the dialect the validators compile.
 */
import { STATUS_CODES } from 'node:http';
import { parse, type Token } from 'path-to-regexp';
import type { JSONSchema, RouteSchema } from './schema.js';

/** A route as {@link buildOpenApi} needs it. */
export interface OpenApiRoute {
  methods: readonly string[];
  /** Full path in path-to-regexp syntax (v8 and v9 share it) (`/users/:id`, `/files/*path`, `/docs{/:lang}`). */
  path: string;
  name: string;
  schema?: RouteSchema;
}

/** The document's `info` object. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
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
export function buildOpenApi(routes: readonly OpenApiRoute[], info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
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
        pathItem[method] = operation(id, variant.params, route.schema);
      }
    });
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, ...(info.description !== undefined && { description: info.description }) },
    paths,
    components: structuredClone(COMPONENTS),
  };
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

function objectParameters(location: 'query' | 'header', schema: JSONSchema | undefined) {
  const required = typeof schema === 'object' && Array.isArray(schema.required) ? schema.required : [];
  return Object.entries(propertiesOf(schema)).map(([name, property]) => ({
    name,
    in: location,
    required: required.includes(name),
    schema: property,
  }));
}

function propertiesOf(schema: JSONSchema | undefined): Record<string, JSONSchema> {
  const properties = typeof schema === 'object' ? schema.properties : undefined;
  return typeof properties === 'object' && properties !== null ? (properties as Record<string, JSONSchema>) : {};
}

function responses(declared: Record<number, JSONSchema> | undefined, validates: boolean): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(declared ?? {})) {
    const description = STATUS_CODES[status] ?? 'Response';
    result[status] = status === '204' || status === '304' ? { description } : { description, content: { 'application/json': { schema } } };
  }
  if (Object.keys(result).length === 0) result['200'] = { description: 'Successful response' };
  if (validates && result['400'] === undefined) result['400'] = PROBLEM_RESPONSE('The request failed validation');
  if (result.default === undefined) result.default = PROBLEM_RESPONSE('An error, as RFC 9457 problem details');
  return result;
}
