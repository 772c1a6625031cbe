/**
 * Content negotiation on the `negotiator` package (pure JavaScript, no Node built-in): what
 * `req.accepts()` and friends answer, and the `406` of a route that declares what it `produces`.
 */
import type { Environ } from '@carafe/gateway';
import Negotiator from 'negotiator';
import { NotAcceptable } from './errors.js';

/** Short names `req.accepts()` takes besides full media types. */
const SHORT: Record<string, string> = {
  json: 'application/json',
  html: 'text/html',
  text: 'text/plain',
  txt: 'text/plain',
  csv: 'text/csv',
  xml: 'application/xml',
  problem: 'application/problem+json',
  form: 'application/x-www-form-urlencoded',
  bin: 'application/octet-stream',
};

function negotiator(environ: Environ): Negotiator {
  return new Negotiator({
    headers: {
      accept: environ.HTTP_ACCEPT,
      'accept-charset': environ.HTTP_ACCEPT_CHARSET,
      'accept-encoding': environ.HTTP_ACCEPT_ENCODING,
      'accept-language': environ.HTTP_ACCEPT_LANGUAGE,
    },
  });
}

/**
 * With no `types`: the media types the request accepts, best first. With `types` (media types or
 * short names such as `json`, `html`, `csv`): the one it prefers, as given, or `false` for none.
 * A request without `Accept` accepts anything: the first of `types`.
 */
export function acceptsType(environ: Environ, types: readonly string[]): string | false | string[] {
  const n = negotiator(environ);
  if (types.length === 0) return n.mediaTypes();
  const full = types.map((type) => (type.includes('/') ? type : (SHORT[type.toLowerCase()] ?? type)));
  const best = n.mediaTypes(full.filter((type) => type.includes('/')))[0];
  if (best === undefined) return false;
  return types[full.indexOf(best)] ?? best;
}

type Kind = 'charsets' | 'encodings' | 'languages';

/** The same for charsets, encodings (`identity` is always acceptable unless refused) and languages. */
export function acceptsOther(environ: Environ, kind: Kind, offered: readonly string[]): string | false | string[] {
  const n = negotiator(environ);
  const list = kind === 'charsets' ? n.charsets.bind(n) : kind === 'encodings' ? n.encodings.bind(n) : n.languages.bind(n);
  if (offered.length === 0) return list();
  return list([...offered])[0] ?? false;
}

/**
 * Throws `406 Not Acceptable` when the request accepts none of `produces` (a route's `produces`
 * option); the detail names what the route can answer with.
 */
export function requireAcceptable(environ: Environ, produces: readonly string[]): void {
  if (environ.HTTP_ACCEPT === undefined) return;
  if (acceptsType(environ, produces) !== false) return;
  throw new NotAcceptable(`This resource is available as ${produces.join(', ')}; the request's Accept header takes none of them.`);
}
