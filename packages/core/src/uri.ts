/**
 * Percent-encoding of the URL parts the framework writes itself (request URLs, redirect targets,
 * problem `instance`s, `urlFor` anchors), in one place so that each is a valid RFC 3986 reference.
 */

/**
 * Percent-encodes a decoded path (`PATH_INFO`, `SCRIPT_NAME`, or both joined) into a valid URI path:
 * every character outside RFC 3986's `pchar` and `/` is encoded as UTF-8, `?` and `#` too (they would
 * end the path). A lone surrogate, which UTF-8 cannot carry, becomes U+FFFD first.
 *
 * @example encodePath('/a b/ü?') // '/a%20b/%C3%BC%3F'
 */
export function encodePath(path: string): string {
  return encodeURI(wellFormed(path)).replace(/[?#]/g, encodeURIComponent);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `String.prototype.toWellFormed` (ES2024, beyond this package's `lib`): lone surrogates → U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** What RFC 3986 allows in a fragment, besides a `%` that starts an escape: the rest is encoded. */
const FRAGMENT_UNSAFE = /[^A-Za-z0-9\-._~!$&'()*+,/:;=?@%]|%(?![0-9A-Fa-f]{2})/gu;

/**
 * Quotes the text of a URL fragment like Flask's `url_for(_anchor=…)`: unreserved characters,
 * sub-delimiters, `:@/?` and existing `%XX` escapes stay; everything else (a space, non-ASCII, a
 * `#`, a stray `%`) is encoded, so the result is always a valid fragment.
 *
 * @example quoteFragment('x y') // 'x%20y'
 */
export function quoteFragment(fragment: string): string {
  return wellFormed(fragment).replace(FRAGMENT_UNSAFE, encodeURIComponent);
}
