/**
 * The query string as `req.query` shows it, without `node:querystring`: what Node's
 * `querystring.parse` gives (test/query.test.ts compares the two), decoded as `URLSearchParams`
 * decodes.
 */

/** `querystring.parse`'s default `maxKeys`: the pairs after the first 1000 are ignored. */
const MAX_PAIRS = 1000;

/**
 * Parses a raw query string (`QUERY_STRING`, without `?`): a key given once maps to its value, a
 * key given more than once to the array of its values in order; `+` is a space; percent-escapes
 * decode as UTF-8 (malformed bytes as U+FFFD, a `%` not followed by two hex digits kept as it is,
 * as `URLSearchParams` does); a pair without `=` has the value `""`, empty pairs are skipped; only
 * the first 1000 `&`-separated pairs are read. The result is a plain object whose keys are only
 * the query's (a `__proto__` key is an own property).
 */
export function parseQuery(query: string): Record<string, string | string[]> {
  const parsed: Record<string, string | string[]> = Object.create(null);
  if (query === '') return {};
  let start = 0;
  for (let pairs = 0; pairs < MAX_PAIRS && start <= query.length; pairs++) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const eq = query.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const key = decode(query.slice(start, hasValue ? eq : end));
      const value = hasValue ? decode(query.slice(eq + 1, end)) : '';
      const previous = parsed[key];
      if (previous === undefined) parsed[key] = value;
      else if (typeof previous === 'string') parsed[key] = [previous, value];
      else previous.push(value);
    }
    start = end + 1;
  }
  return { ...parsed };
}

/** One key or value: `+` as a space, percent-escapes as UTF-8. */
function decode(text: string): string {
  const plain = text.indexOf('+') === -1 ? text : text.replaceAll('+', ' ');
  if (plain.indexOf('%') === -1) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    // A malformed escape or bytes that are not UTF-8: decoded leniently, as URLSearchParams does.
    return new URLSearchParams(`x=${text}`).get('x')!;
  }
}
