/**
 * Header rules shared by the node:http and fetch bindings and the validator, so that all
 * enforce exactly the same thing (docs/tsgi.md §3.2, §3.3): a response is checked with one
 * {@link checkResponse} call. Also the request side's environ keys ({@link environKey}).
 */
import type { HeaderList } from './types.js';

/** Connection-level headers (RFC 9110 §7.6.1, RFC 9112): the server owns them, an application may not set them. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Field values: visible ASCII, obs-text, space and tab. CR, LF and NUL are what matter: they
// would let a value start a new header line or end the head early.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Is `value` a valid field value? A regular expression: a `test` call costs ~370 instructions
 * whatever the length, a loop over the characters ~25 a character (callgrind). checkResponse
 * calls it only for a value it has not just seen under the same name.
 */
function isFieldValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

/** Is `value` 1 to 15 ASCII digits (a Content-Length that fits a double exactly)? A loop: on so few characters it costs less than a `test` call. */
function isDigits(value: string): boolean {
  if (value.length === 0 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** Is `name` an HTTP token (RFC 9110 §5.6.2)? */
export function isToken(name: string): boolean {
  return TOKEN.test(name);
}

/** A response header name checked before: its lower case, and the last value that passed under it. */
interface KnownName {
  readonly lower: string;
  value: string | undefined;
}

// Names an application may send. Applications send the same few names on every response, so
// each is checked once. Bounded against unbounded input.
const VALID_NAMES = new Map<string, KnownName>();
const CACHE_MAX = 512;

/**
 * Checks one response header. Returns the rule broken (`"§3.3 …"`) or `undefined`.
 */
export function headerProblem(name: unknown, value: unknown): string | undefined {
  if (typeof name !== 'string') return `§3.3 header name must be a string, got ${typeof name}`;
  if (!VALID_NAMES.has(name)) {
    if (!TOKEN.test(name)) return `§3.3 header name ${JSON.stringify(name)} is not an HTTP token (no CR, LF, space or separators)`;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) return `§3.3 hop-by-hop header "${name}" is reserved to the server`;
    if (VALID_NAMES.size < CACHE_MAX) VALID_NAMES.set(name, { lower, value: undefined });
  }
  if (typeof value !== 'string') return `§3.3 value of header "${name}" must be a string, got ${typeof value}`;
  if (!isFieldValue(value)) return `§3.3 value of header "${name}" contains CR, LF, NUL or another control character`;
  return undefined;
}

/** `name.toLowerCase()`, from the cache {@link headerProblem} fills when it can. */
export function lowerName(name: string): string {
  return VALID_NAMES.get(name)?.lower ?? name.toLowerCase();
}

/**
 * Checks a response's status: an integer 200–599. An application cannot send an interim (1xx)
 * response; those are the server's (§3.2). Returns the rule broken, or `undefined`.
 */
export function statusProblem(status: unknown): string | undefined {
  if (typeof status !== 'number' || !Number.isInteger(status)) {
    return `§3.2 status must be an integer such as 200, got ${typeof status === 'string' ? JSON.stringify(status) : typeof status}`;
  }
  if (status < 200 || status > 599) return `§3.2 status ${status} is not a final status (200-599)`;
  return undefined;
}

/** Checks a whole header list; returns the first rule broken, if any. */
export function headerListProblem(headers: unknown): string | undefined {
  if (!Array.isArray(headers)) return `§3.3 headers must be an array of [name, value] pairs`;
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return `§3.3 each header must be a [name, value] pair`;
    const problem = headerProblem(pair[0], pair[1]);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * The Content-Length an application declared in `headers`, `-1` if none, or the rule broken
 * if the value is not a non-negative integer or two values disagree.
 */
export function declaredLength(headers: HeaderList): number | string {
  let length = -1;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (name.length !== 14 || lowerName(name) !== 'content-length') continue;
    if (!isDigits(value)) return `§3.3 Content-Length ${JSON.stringify(value)} is not a non-negative integer`;
    const n = Number(value);
    if (length !== -1 && n !== length) return `§3.3 Content-Length given twice with different values`;
    length = n;
  }
  return length;
}

const NO_CONTENT_LENGTH_204 = '§3.7 a 204 response must not have a Content-Length';

/**
 * Checks a response's status and header list (§3.2, §3.3, §3.7) in one call and one pass over the
 * headers: the rule broken first — the status, then any header, then its Content-Length, as
 * {@link statusProblem}, {@link headerListProblem} and {@link declaredLength} report them, in that
 * order — or, when all is well, the declared Content-Length (`-1` for none). The node and fetch
 * bindings and the validator all check responses with this.
 */
export function checkResponse(status: unknown, headers: unknown): number | string {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) return statusProblem(status)!;
  if (!Array.isArray(headers)) return `§3.3 headers must be an array of [name, value] pairs`;
  let length = -1;
  // A Content-Length problem is reported only after every header passed (declaredLength's turn).
  let lengthProblem: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    const pair: unknown = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2) return `§3.3 each header must be a [name, value] pair`;
    const name: unknown = pair[0];
    const value: unknown = pair[1];
    // The common case inline (a name seen before, a clean value); anything else gets headerProblem's
    // verdict. The value that last passed under the name is compared first: applications send the
    // same constant (a Content-Type) on most responses, and then one comparison replaces a loop
    // over every character (~150 instructions a header, callgrind).
    const known = typeof name === 'string' ? VALID_NAMES.get(name) : undefined;
    let lower: string;
    if (known !== undefined && typeof value === 'string' && (value === known.value || isFieldValue(value))) {
      known.value = value;
      lower = known.lower;
    } else {
      const problem = headerProblem(name, value);
      if (problem !== undefined) return problem;
      lower = lowerName(name as string);
    }
    if (lengthProblem !== undefined || (name as string).length !== 14 || lower !== 'content-length') continue;
    if (!isDigits(value as string)) lengthProblem = `§3.3 Content-Length ${JSON.stringify(value)} is not a non-negative integer`;
    else {
      const n = Number(value);
      if (length !== -1 && n !== length) lengthProblem = `§3.3 Content-Length given twice with different values`;
      else length = n;
    }
  }
  if (lengthProblem !== undefined) return lengthProblem;
  return status === 204 && length !== -1 ? NO_CONTENT_LENGTH_204 : length;
}

/** {@link environKey}'s cache, read directly by the environ's header loop (environ.ts). */
export const ENVIRON_KEYS = new Map<string, string>();

/**
 * The environ key of a request header as received (any case): `Content-Type` → `CONTENT_TYPE`,
 * `Content-Length` → `CONTENT_LENGTH`, every other header `X-Foo` → `HTTP_X_FOO` (§2.2).
 * A name containing `_` gives `""` (drop the header): `X_Forwarded_For` would otherwise
 * land on the same key as `X-Forwarded-For` and let a client spoof what a proxy set.
 * Results are cached: a server sees the same few dozen spellings over and over. The cache is
 * bounded so that a client inventing header names cannot grow it without limit.
 */
export function environKey(rawName: string): string {
  let key = ENVIRON_KEYS.get(rawName);
  if (key === undefined) {
    const upper = rawName.toUpperCase().replaceAll('-', '_');
    key = rawName.includes('_') ? '' : upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH' ? upper : `HTTP_${upper}`;
    if (ENVIRON_KEYS.size < CACHE_MAX) ENVIRON_KEYS.set(rawName, key);
  }
  return key;
}
