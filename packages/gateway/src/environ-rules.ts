/**
 * The rules an environ must satisfy (docs/tsgi.md §2), as checks returning the rule broken.
 * Used by the validator; kept apart so the rules read as a list.
 */
import { isToken } from './headers.js';
import type { Environ } from './types.js';

const STRING_KEYS = ['SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'REMOTE_ADDR', 'REMOTE_PORT', 'RAW_URI', 'QUERY_STRING'] as const;
const REQUIRED_KEYS = [
  'REQUEST_METHOD',
  'SCRIPT_NAME',
  'PATH_INFO',
  ...STRING_KEYS,
  'tsgi.version',
  'tsgi.url_scheme',
  'tsgi.input',
  'tsgi.errors',
  'tsgi.multithread',
  'tsgi.multiprocess',
  'tsgi.run_once',
  'tsgi.signal',
];
const BOOLEAN_KEYS = ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once'] as const;
const TSGI_KEYS = new Set([
  'tsgi.version',
  'tsgi.url_scheme',
  'tsgi.input',
  'tsgi.errors',
  'tsgi.multithread',
  'tsgi.multiprocess',
  'tsgi.run_once',
  'tsgi.signal',
]);

/** Returns the first rule of §2 that `environ` breaks, or `undefined`. */
export function environProblem(environ: unknown): string | undefined {
  if (environ === null || typeof environ !== 'object') return '§2.1 environ must be an object';
  const proto = Object.getPrototypeOf(environ) as unknown;
  if (proto !== Object.prototype && proto !== null) return '§2.1 environ must be a plain object';
  const env = environ as Environ;

  for (const key of REQUIRED_KEYS) {
    if (!Object.getOwnPropertyDescriptor(env, key)?.enumerable) return `§2.1 ${key} must be an own, enumerable property of the environ`;
  }
  const method = env.REQUEST_METHOD;
  if (typeof method !== 'string' || !isToken(method)) return '§2.2 REQUEST_METHOD must be a non-empty token such as "GET"';
  for (const key of STRING_KEYS) {
    if (typeof env[key] !== 'string') return `§2.2 ${key} must be a string`;
  }
  const script = env.SCRIPT_NAME;
  if (typeof script !== 'string' || (script !== '' && (!script.startsWith('/') || script.endsWith('/')))) {
    return '§2.2 SCRIPT_NAME must be empty or start with "/" and not end with "/"';
  }
  const path = env.PATH_INFO;
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) return '§2.2 PATH_INFO must be empty or start with "/"';
  if (env.QUERY_STRING.startsWith('?')) return '§2.2 QUERY_STRING must not include the "?"';
  if (!/^HTTP\/\d\.\d$/.test(env.SERVER_PROTOCOL)) return '§2.2 SERVER_PROTOCOL must look like "HTTP/1.1"';
  if (env.CONTENT_LENGTH !== undefined && (typeof env.CONTENT_LENGTH !== 'string' || !/^\d+$/.test(env.CONTENT_LENGTH))) {
    return '§2.2 CONTENT_LENGTH, when present, must be a string of digits';
  }
  if (env.CONTENT_TYPE !== undefined && typeof env.CONTENT_TYPE !== 'string') return '§2.2 CONTENT_TYPE, when present, must be a string';

  for (const key of Object.keys(env)) {
    if (key === 'HTTP_CONTENT_TYPE' || key === 'HTTP_CONTENT_LENGTH') {
      return `§2.2 ${key} must not be present: the header goes in ${key.slice(5)}`;
    }
    if (key.startsWith('HTTP_') && typeof env[key] !== 'string') return `§2.2 ${key} must be a string`;
    if (!key.includes('.') && key !== key.toUpperCase())
      return `§2.4 extension key "${key}" must contain a dot (keys without one are upper-case CGI variables)`;
    if (key.startsWith('tsgi.') && !TSGI_KEYS.has(key))
      return `§2.4 environ key "${key}" is not defined by this version of TSGI (the tsgi. prefix is reserved)`;
  }

  const version = env['tsgi.version'] as unknown;
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || typeof version[1] !== 'number') {
    return '§2.3 tsgi.version must be [1, minor]';
  }
  const scheme = env['tsgi.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') return '§2.3 tsgi.url_scheme must be "http" or "https"';
  const input = env['tsgi.input'] as unknown;
  if (
    input === null ||
    typeof input !== 'object' ||
    typeof (input as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== 'function'
  ) {
    return '§2.3 tsgi.input must be an AsyncIterable';
  }
  const errors = env['tsgi.errors'] as unknown;
  if (errors === null || typeof errors !== 'object' || typeof (errors as { write?: unknown }).write !== 'function') {
    return '§2.3 tsgi.errors must have a write(message) method';
  }
  for (const key of BOOLEAN_KEYS) {
    if (typeof env[key] !== 'boolean') return `§2.3 ${key} must be a boolean`;
  }
  if (!(env['tsgi.signal'] instanceof AbortSignal)) return '§2.3 tsgi.signal must be an AbortSignal';
  return undefined;
}
