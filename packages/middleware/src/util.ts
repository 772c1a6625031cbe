/**
 * Small helpers the middleware share: problem responses with extra headers, `Vary` merging, and
 * the OpenAPI metadata a middleware carries for the framework that documents it.
 */
import { problemResponse, type HeaderList, type TsgiMiddleware, type TsgiResponse } from '@carafe/gateway';

/** An RFC 9457 problem response for `status` with `headers` added after its own. */
export function problem(status: number, detail: string, headers: HeaderList = []): TsgiResponse {
  const response = problemResponse(status, detail);
  return headers.length === 0 ? response : { status, headers: [...response.headers, ...headers], body: response.body };
}

/**
 * A copy of `headers` whose `Vary` lists `names` too: the existing field's value is extended (or
 * left alone when it is `*` or already lists them), else a `Vary` field is appended.
 */
export function withVary(headers: HeaderList, names: readonly string[]): HeaderList {
  const copy = headers.slice();
  for (let i = 0; i < copy.length; i++) {
    const [name, value] = copy[i]!;
    if (name.length !== 4 || name.toLowerCase() !== 'vary') continue;
    const present = value.split(',').map((token) => token.trim().toLowerCase());
    if (present.includes('*')) return copy;
    const missing = names.filter((n) => !present.includes(n.toLowerCase()));
    if (missing.length > 0) copy[i] = [name, value.trim() === '' ? missing.join(', ') : `${value}, ${missing.join(', ')}`];
    return copy;
  }
  copy.push(['Vary', names.join(', ')]);
  return copy;
}

/** A response with `extra` headers appended (a new object and header list: responses are values). */
export function withHeaders(response: TsgiResponse, extra: HeaderList): TsgiResponse {
  if (extra.length === 0) return response;
  return { status: response.status, headers: [...response.headers, ...extra], body: response.body };
}

/**
 * What a middleware tells an OpenAPI generator about the operations it guards (read by
 * `@carafe/core`'s `app.openapi()` from the middleware's `openapi` property): the security schemes
 * it implements, the requirement it enforces (alternatives, each an AND of schemes), and the
 * responses it may answer with.
 */
export interface OpenApiContribution {
  securitySchemes?: Record<string, Record<string, unknown>>;
  security?: ReadonlyArray<Record<string, readonly string[]>>;
  responses?: Record<string, Record<string, unknown>>;
}

/** A TSGI middleware that also describes itself to an OpenAPI generator. */
export type DocumentedMiddleware = TsgiMiddleware & { openapi: OpenApiContribution };

/** The OpenAPI response object of a problem answer. */
export function problemDoc(description: string, headers?: Record<string, unknown>): Record<string, unknown> {
  return {
    description,
    ...(headers && { headers }),
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

/** Attaches `openapi` to a middleware. */
export function documented(middleware: TsgiMiddleware, openapi: OpenApiContribution): DocumentedMiddleware {
  return Object.assign(middleware, { openapi });
}

/** `"a b"` for a quoted-string parameter value (RFC 9110 §5.6.4): `\` and `"` escaped, controls dropped. */
export function quoted(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return `"${value.replace(/[\x00-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&')}"`;
}
