/**
 * Validators and conditional requests (RFC 9110 §8.8, §13): entity tags, HTTP dates, and the
 * order in which If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since are
 * evaluated (§13.2.2).
 *
 * Written here rather than on the `fresh` package: `fresh` covers only the If-None-Match /
 * If-Modified-Since half, splits tag lists on every comma (a comma is legal inside an entity
 * tag), takes any `Date.parse`-able text as a date, and treats a request's
 * `Cache-Control: no-cache` as "not fresh", an Express convention that RFC 9110 does not have.
 * The If-Match half needs the same tag parser with the strong comparison, so both halves share it.
 */

/** Reads one request header by name, any case; `undefined` when absent. */
export type HeaderLookup = (name: string) => string | undefined;

/** The validators of the selected representation; either may be absent (not sent). */
export interface Validators {
  /** The ETag as sent, `"…"` or `W/"…"`. */
  etag?: string | undefined;
  /** The modification time in milliseconds since the epoch, whole seconds (what Last-Modified can carry). */
  lastModified?: number | undefined;
}

/** What a request's preconditions decide (§13.2.2): go on, answer 304, or answer 412. */
export type ConditionalOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

/**
 * An entity tag from a file's size and modification time, the way nginx, Apache and `send`
 * make them: it changes when either does, without reading the file. Weak by default, since
 * two different writes within the same millisecond and of the same size would share it.
 */
export function fileETag(stats: { size: number; mtimeMs: number }, strength: 'weak' | 'strong' = 'weak'): string {
  const tag = `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  return strength === 'weak' ? `W/${tag}` : tag;
}

/** An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for a time in milliseconds. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * Parses an HTTP-date (§5.6.7) in any of its three forms; `NaN` for anything else. Only these
 * forms are accepted because a recipient must ignore a conditional header whose date is not
 * valid, and `Date.parse` alone would take `2024-03-04` (and read asctime as local time).
 */
export function parseHttpDate(value: string): number {
  const text = value.trim();
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) return Date.parse(text);
  if (ASCTIME_DATE.test(text)) return Date.parse(`${text} GMT`);
  return Number.NaN;
}

const ENTITY_TAG = /(?:W\/)?"[^"]*"/g;

/**
 * The entity tags of an If-Match / If-None-Match value, or `'*'`. Tags are found by their
 * quotes, so a comma inside one does not split it; unquoted junk between them is skipped.
 */
export function parseETagList(value: string): string[] | '*' {
  if (value.trim() === '*') return '*';
  return value.match(ENTITY_TAG) ?? [];
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** Weak comparison (§8.8.3.2): the opaque tags are equal, whatever their weakness. */
export function weakMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b);
}

/** Strong comparison (§8.8.3.2): both tags strong and equal. A weak tag never matches strongly. */
export function strongMatch(a: string, b: string): boolean {
  return !a.startsWith('W/') && a === b;
}

/**
 * Steps 1–2 of §13.2.2: does If-Match (or, without it, If-Unmodified-Since) fail? Then the
 * answer is 412. If-Match needs a strong match, so a weak ETag only passes `*`;
 * If-Unmodified-Since is ignored when the date is invalid or there is no modification time.
 */
export function preconditionFailed(header: HeaderLookup, validators: Validators): boolean {
  const ifMatch = header('if-match');
  if (ifMatch !== undefined) {
    const tags = parseETagList(ifMatch);
    if (tags === '*') return false; // the representation exists: callers only ask about one that does
    const { etag } = validators;
    return etag === undefined || !tags.some((tag) => strongMatch(tag, etag));
  }
  const ifUnmodifiedSince = header('if-unmodified-since');
  if (ifUnmodifiedSince !== undefined && validators.lastModified !== undefined) {
    const since = parseHttpDate(ifUnmodifiedSince);
    return !Number.isNaN(since) && validators.lastModified > since;
  }
  return false;
}

/**
 * Steps 3–4 of §13.2.2: does the client's cached copy still match? If-None-Match (weak
 * comparison, or `*`) when present; otherwise If-Modified-Since at or after the modification
 * time. `true` means a GET or HEAD is answered 304.
 */
export function isFresh(header: HeaderLookup, validators: Validators): boolean {
  const ifNoneMatch = header('if-none-match');
  if (ifNoneMatch !== undefined) {
    const tags = parseETagList(ifNoneMatch);
    if (tags === '*') return true;
    const { etag } = validators;
    return etag !== undefined && tags.some((tag) => weakMatch(tag, etag));
  }
  const ifModifiedSince = header('if-modified-since');
  if (ifModifiedSince === undefined || validators.lastModified === undefined) return false;
  const since = parseHttpDate(ifModifiedSince);
  return !Number.isNaN(since) && validators.lastModified <= since;
}

/**
 * Evaluates a request's preconditions in RFC 9110 §13.2.2 order against an existing
 * representation: If-Match / If-Unmodified-Since (412), then If-None-Match / If-Modified-Since
 * (304 for GET and HEAD; for other methods a matching If-None-Match is 412 and
 * If-Modified-Since does not apply). Step 5, If-Range, is `ifRangeMatches` in range.ts.
 */
export function evaluateConditions(method: string, header: HeaderLookup, validators: Validators): ConditionalOutcome {
  if (preconditionFailed(header, validators)) return 'precondition-failed';
  const safe = method === 'GET' || method === 'HEAD';
  if (safe) return isFresh(header, validators) ? 'not-modified' : 'proceed';
  if (header('if-none-match') !== undefined && isFresh(header, validators)) return 'precondition-failed';
  return 'proceed';
}
