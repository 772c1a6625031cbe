/**
 * Opening a response body's iterator (docs/tsgi.md §3.4): one implementation for the node:http
 * and fetch bindings. No Node built-in here: the fetch entry imports it.
 */
import { complianceError } from './errors.js';
import type { Chunk } from './types.js';

/** A body's iterator, synchronous or not. */
export type BodyIterator = Iterator<Chunk> | AsyncIterator<Chunk>;

/** The body's iterator; throws the §3.2 rule when the body is not an (async) iterable of chunks. */
export function iterate(body: unknown): BodyIterator {
  if (body !== null && typeof body === 'object' && !(body instanceof Uint8Array)) {
    const asyncIterator = (body as Partial<AsyncIterable<Chunk>>)[Symbol.asyncIterator];
    if (typeof asyncIterator === 'function') return asyncIterator.call(body);
    const syncIterator = (body as Partial<Iterable<Chunk>>)[Symbol.iterator];
    if (typeof syncIterator === 'function') return syncIterator.call(body);
  }
  throw complianceError(`§3.2 application must return an Iterable or AsyncIterable of chunks, got ${describe(body)}`);
}

/** The iterator of a body that will not be sent, so that it can be closed; none for arrays or non-iterables. */
export function openToClose(body: unknown): BodyIterator | undefined {
  if (Array.isArray(body)) return undefined;
  try {
    return iterate(body);
  } catch {
    return undefined;
  }
}

/** A value's kind, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
