/**
 * CORS (the Fetch standard's CORS protocol): preflights answered before the application routes the
 * request, actual responses given `Access-Control-Allow-Origin` and friends, and `Vary: Origin`
 * wherever the answer depends on the `Origin` header.
 */
import {
  headerValue,
  keepLifespan,
  mapResponse,
  type Environ,
  type HeaderList,
  type TsgiApplication,
  type TsgiMiddleware,
} from '@carafe/gateway';
import { withVary } from './util.js';

/** One allowed origin: exact (`https://app.example.com`), a pattern with `*` for one host label (`https://*.example.com`), or a RegExp. */
export type OriginPattern = string | RegExp;

/** Which origins may read responses: `'*'` (any, never with credentials), a list or pattern, or a function. */
export type OriginOption = '*' | OriginPattern | readonly OriginPattern[] | ((origin: string, environ: Environ) => boolean);

/**
 * The environ key a framework fills with a function giving the methods a path answers (core sets
 * it for the middleware it runs): CORS preflights then list a route's real methods.
 */
export const ALLOWED_METHODS_KEY = 'carafe.allowed_methods';

/** Gives the methods `path` (a `PATH_INFO`) answers, or `undefined` when no route matches it. */
export type AllowedMethods = (path: string) => readonly string[] | undefined;

export interface CorsOptions {
  /** The origins allowed to read responses. Default: none (same-origin only; the middleware still sends `Vary: Origin`). */
  origin?: OriginOption;
  /** Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). Not with `origin: '*'`. */
  credentials?: boolean;
  /**
   * The methods a preflight allows. Default: the methods the route answers, when the application
   * says (a Carafe app does), else GET, HEAD, PUT, PATCH, POST and DELETE. Given with a route that
   * is known, the route's methods that are also listed here.
   */
  methods?: readonly string[];
  /** Request headers a preflight allows; default: those the preflight asks for (`Access-Control-Request-Headers`). */
  allowedHeaders?: readonly string[];
  /** Response headers scripts may read besides the CORS-safelisted ones (`Access-Control-Expose-Headers`). */
  exposedHeaders?: readonly string[];
  /** How long a browser may cache a preflight, in seconds (`Access-Control-Max-Age`); default 600, `0` to leave it out. */
  maxAge?: number;
  /** Answer Private Network Access preflights (`Access-Control-Request-Private-Network: true`) with `Access-Control-Allow-Private-Network: true`. */
  privateNetwork?: boolean;
}

const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'];

function toMatcher(origin: OriginOption | undefined): ((origin: string, environ: Environ) => boolean) | undefined {
  if (origin === undefined || origin === '*') return undefined;
  if (typeof origin === 'function') return origin;
  const list = (Array.isArray(origin) ? origin : [origin]) as readonly OriginPattern[];
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of list) {
    if (entry instanceof RegExp) patterns.push(entry);
    else if (entry.includes('*')) {
      const source = entry.toLowerCase().replace(/\/+$/, '').split('*').map(escapeRegExp).join('[a-z0-9-]+');
      patterns.push(new RegExp(`^${source}$`));
    } else exact.add(entry.toLowerCase().replace(/\/+$/, ''));
  }
  return (value) => {
    const lower = value.toLowerCase();
    if (exact.has(lower)) return true;
    for (const pattern of patterns) if (pattern.test(lower)) return true;
    return false;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The CORS middleware.
 *
 * @example
 * cors({ origin: ['https://app.example.com', 'https://*.example.org'], credentials: true, exposedHeaders: ['RateLimit'] })
 */
export function cors(options: CorsOptions = {}): TsgiMiddleware {
  const any = options.origin === '*';
  if (any && options.credentials) throw new TypeError("cors(): origin '*' cannot be combined with credentials; list the origins");
  const matches = toMatcher(options.origin);
  const none = options.origin === undefined || (Array.isArray(options.origin) && options.origin.length === 0);
  const credentials = options.credentials === true;
  const configuredMethods = options.methods?.map((m) => m.toUpperCase());
  const maxAge = options.maxAge ?? 600;
  const allowedHeaders = options.allowedHeaders?.join(', ');
  const exposed = options.exposedHeaders?.length ? options.exposedHeaders.join(', ') : undefined;
  // The answer depends on Origin unless every origin gets the same `*`.
  const vary = !any;
  const preflightVary = [
    ...(vary ? ['Origin'] : []),
    ...(allowedHeaders === undefined ? ['Access-Control-Request-Headers'] : []),
    ...(options.privateNetwork ? ['Access-Control-Request-Private-Network'] : []),
  ];

  const allowOrigin = (origin: string, environ: Environ): string | undefined => {
    if (any) return '*';
    if (none || matches === undefined) return undefined;
    return matches(origin, environ) ? origin : undefined;
  };

  return (app: TsgiApplication) => {
    const ownResolver = (app as { allowedMethods?: AllowedMethods }).allowedMethods;
    const routeMethods = (environ: Environ): readonly string[] | undefined => {
      const resolve = (environ[ALLOWED_METHODS_KEY] as AllowedMethods | undefined) ?? ownResolver?.bind(app);
      return resolve?.(environ.PATH_INFO || '/');
    };

    const preflight = (environ: Environ, origin: string) => {
      const headers: HeaderList = [];
      const allowed = allowOrigin(origin, environ);
      if (allowed !== undefined) {
        headers.push(['Access-Control-Allow-Origin', allowed]);
        if (credentials) headers.push(['Access-Control-Allow-Credentials', 'true']);
        const known = routeMethods(environ);
        let methods = known === undefined ? (configuredMethods ?? DEFAULT_METHODS) : known;
        if (known !== undefined && configuredMethods !== undefined) methods = known.filter((m) => configuredMethods.includes(m));
        headers.push(['Access-Control-Allow-Methods', methods.join(', ')]);
        const requested = environ.HTTP_ACCESS_CONTROL_REQUEST_HEADERS;
        const allowHeaders = allowedHeaders ?? requested;
        if (allowHeaders) headers.push(['Access-Control-Allow-Headers', allowHeaders]);
        if (maxAge > 0) headers.push(['Access-Control-Max-Age', String(maxAge)]);
        if (options.privateNetwork && environ.HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK === 'true') {
          headers.push(['Access-Control-Allow-Private-Network', 'true']);
        }
      }
      if (preflightVary.length > 0) headers.push(['Vary', preflightVary.join(', ')]);
      return { status: 204, headers, body: [] };
    };

    return keepLifespan((environ: Environ) => {
      const origin = environ.HTTP_ORIGIN;
      if (origin === undefined) {
        if (!vary) return app(environ);
        return mapResponse(app(environ), (response) => ({
          status: response.status,
          headers: withVary(response.headers, ['Origin']),
          body: response.body,
        }));
      }
      if (environ.REQUEST_METHOD === 'OPTIONS' && environ.HTTP_ACCESS_CONTROL_REQUEST_METHOD !== undefined)
        return preflight(environ, origin);
      const allowed = allowOrigin(origin, environ);
      return mapResponse(app(environ), (response) => {
        const headers = vary ? withVary(response.headers, ['Origin']) : response.headers.slice();
        // An application that answers CORS itself on this response is left to it.
        if (allowed !== undefined && headerValue(response.headers, 'access-control-allow-origin') === undefined) {
          headers.push(['Access-Control-Allow-Origin', allowed]);
          if (credentials) headers.push(['Access-Control-Allow-Credentials', 'true']);
          if (exposed !== undefined) headers.push(['Access-Control-Expose-Headers', exposed]);
        }
        return { status: response.status, headers, body: response.body };
      });
    }, app);
  };
}
