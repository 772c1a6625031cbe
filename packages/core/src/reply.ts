/**
 * What a handler returns, turned into a response: object, array, number or boolean → JSON,
 * string → text, bytes → octet-stream, `null`/`undefined` → 204, a `Response` → as built — its
 * JSON body checked and rewritten by the route's response schema for its status.
 */
import { decodeUtf8Exact, encodeUtf8 } from './bytes.js';
import { FileResponse, JSON_TYPE, JsonResponse, Response, TEXT_TYPE } from './response.js';
import { ResponseValidationError, type CompiledRouteSchema, type Serialize } from './schema.js';

export type { Serialize } from './schema.js';

const OCTET_STREAM = 'application/octet-stream';

/** What the dispatcher reads of a route's compiled schema to write its answers. */
export type ResponseChecks = Pick<CompiledRouteSchema, 'response' | 'serialize'> | undefined;

/** The serializer for a JSON body sent with `status`: the compiler's `response(status)`, else `serialize` for 200. */
export function serializerFor(checks: ResponseChecks, status: number): Serialize | undefined {
  if (checks === undefined) return undefined;
  if (checks.response !== undefined) return checks.response(status);
  return status === 200 ? checks.serialize : undefined;
}

/** Converts what a handler returned into a Response; `serialize` writes JSON values (JSON.stringify by default). */
export function toResponse(value: unknown, serialize?: Serialize): Response {
  if (value instanceof Response) return value;
  if (value === null || value === undefined) return new Response(null, { status: 204 });
  if (typeof value === 'string') return new Response(value, { headers: [['content-type', TEXT_TYPE]] });
  if (value instanceof Uint8Array) return new Response(value, { headers: [['content-type', OCTET_STREAM]] });
  return new Response(jsonText(value, serialize), { headers: [['content-type', JSON_TYPE]] });
}

function jsonText(value: unknown, serialize: Serialize | undefined): string {
  return serialize === undefined ? (JSON.stringify(value) ?? 'null') : serialize(value);
}

/** `application/json` and every `+json` type (`application/problem+json`). */
function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/** The serializer that applies to a Response's body, or `undefined` when none does (no schema, no JSON body, no body at all). */
function checkFor(response: Response, checks: ResponseChecks): Serialize | undefined {
  if (checks === undefined || response instanceof FileResponse) return undefined;
  const status = response.status;
  if (status === 204 || status === 304) return undefined;
  const serialize = serializerFor(checks, status);
  if (serialize === undefined) return undefined;
  if (response instanceof JsonResponse && response.keepsValue) return serialize;
  return isJsonType(response.headers.get('content-type')) ? serialize : undefined;
}

/** Whether a schema applies to this response's body but the body is a stream, to be read first ({@link readBody}). */
export function needsBodyRead(response: Response, checks: ResponseChecks): boolean {
  if (checkFor(response, checks) === undefined) return false;
  if (response instanceof JsonResponse && response.keepsValue) return false;
  const body = response.body;
  return body !== null && body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array);
}

/** Reads a streamed body into memory (as bytes), so that {@link applyResponseSchema} can check it. */
export async function readBody(response: Response): Promise<void> {
  const body = response.body as Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? encodeUtf8(chunk) : chunk;
    parts.push(bytes);
    total += bytes.byteLength;
  }
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.byteLength;
  }
  response.body = joined;
}

/**
 * Checks and rewrites the JSON body of a Response the handler returned, with the route's response
 * schema for the response's status (exact, `NXX`, `default`): a {@link JsonResponse} is written from
 * the value it kept; a hand-built JSON body (text or bytes) is parsed first. Other responses are
 * left as they are. Throws {@link ResponseValidationError} when the body does not fit (or is not JSON).
 * Synchronous: a streamed body must have been read ({@link needsBodyRead}).
 */
export function applyResponseSchema(response: Response, checks: ResponseChecks): Response {
  const serialize = checkFor(response, checks);
  if (serialize === undefined) return response;
  let value: unknown;
  if (response instanceof JsonResponse && response.keepsValue) value = response.value;
  else {
    const body = response.body;
    const text = typeof body === 'string' ? body : body instanceof Uint8Array ? decodeUtf8Exact(body) : undefined;
    if (text === undefined) return response; // a stream: the dispatcher reads it first
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ResponseValidationError(
        response.status,
        [{ location: 'response', field: '', message: `is not JSON: ${(error as Error).message}` }],
        { cause: error },
      );
    }
  }
  response.body = serialize(value);
  response.headers.delete('content-length');
  return response;
}
