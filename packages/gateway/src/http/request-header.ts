/**
 * Reading a request header from an environ by its HTTP name, with the same name → key rule the
 * binding used to store it (`environKey`), so middleware need not rebuild `HTTP_${…}` keys by hand.
 */
import { environKey } from '../headers.js';
import type { Environ } from '../types.js';

/**
 * The value of request header `name` (any case) in `environ`, or `undefined`. `Content-Type`
 * and `Content-Length` are read from their CGI keys; a name containing `_` never matches,
 * since the binding drops such headers.
 *
 * @example requestHeader(environ, 'If-None-Match') // environ.HTTP_IF_NONE_MATCH
 */
export function requestHeader(environ: Environ, name: string): string | undefined {
  const key = environKey(name);
  if (key === '') return undefined;
  const value = environ[key];
  return typeof value === 'string' ? value : undefined;
}

/** A header reader bound to `environ`, in the shape `sendFile` and the conditional helpers take. */
export function headerReader(environ: Environ): (name: string) => string | undefined {
  return (name) => requestHeader(environ, name);
}
