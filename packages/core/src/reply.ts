/**
 * What a handler returns, turned into a response: object, array, number or boolean → JSON,
 * string → text, bytes → octet-stream, `null`/`undefined` → 204, a `Response` → as built.
 */
import type { TsgiResponse } from '@carafe/gateway';
import { JSON_TYPE, NO_BODY, Response, TEXT_TYPE } from './response.js';

/** Writes a JSON value: a route's compiled `response[200]` serializer, or `JSON.stringify`. */
export type Serialize = (value: unknown) => string;

const OCTET_STREAM = 'application/octet-stream';

/** Converts what a handler returned into a Response; `serialize` writes JSON values (JSON.stringify by default). */
export function toResponse(value: unknown, serialize?: Serialize): Response {
  if (value instanceof Response) return value;
  if (value === null || value === undefined) return new Response(null, { status: 204 });
  if (typeof value === 'string') return new Response(value, { headers: [['content-type', TEXT_TYPE]] });
  if (value instanceof Uint8Array) return new Response(value, { headers: [['content-type', OCTET_STREAM]] });
  return new Response(jsonText(value, serialize), { headers: [['content-type', JSON_TYPE]] });
}

function jsonText(value: unknown, serialize: Serialize | undefined): string {
  return serialize === undefined ? JSON.stringify(value) ?? 'null' : serialize(value);
}

// Built once: the fast path answers most requests with one of these pairs and one fresh
// Content-Length pair. The header list itself is always fresh, so a middleware may append to it;
// the shared pairs are frozen, so one that edits a pair in place instead of replacing it fails loudly.
const TEXT_HEADER = Object.freeze(['content-type', TEXT_TYPE]) as unknown as [string, string];
const JSON_HEADER = Object.freeze(['content-type', JSON_TYPE]) as unknown as [string, string];

/**
 * The TSGI response for a plain value (not a `Response`, not bytes) without building a Response:
 * the synchronous fast path's answer. `null`/`undefined` → 204, string → text, else JSON.
 */
export function valueToTsgi(value: unknown, method: string, serialize: Serialize | undefined): TsgiResponse {
  if (value === null || value === undefined) return { status: 204, headers: [], body: NO_BODY };
  const isText = typeof value === 'string';
  const text = isText ? value : jsonText(value, serialize);
  return {
    status: 200,
    headers: [isText ? TEXT_HEADER : JSON_HEADER, ['content-length', String(Buffer.byteLength(text))]],
    body: method === 'HEAD' ? NO_BODY : [text],
  };
}
