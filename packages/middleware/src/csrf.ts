/**
 * Cross-site request forgery protection for cookie sessions by the request's own headers, the
 * algorithm of Go 1.25's `http.CrossOriginProtection` (and of Hono's csrf middleware): a browser
 * says where a request comes from in `Sec-Fetch-Site` (every current browser) and `Origin` (every
 * browser for a POST since 2020), which a page on another site cannot forge. No token, no state.
 */
import { keepLifespan, type Environ, type TsgiMiddleware } from '@carafe/gateway';
import { problem, problemDoc, documented, type DocumentedMiddleware } from './util.js';

export interface CsrfOptions {
  /** Origins allowed to send unsafe requests from another site (`https://admin.example.com`). */
  trustedOrigins?: readonly string[];
  /** Only check requests that carry a `Cookie` header (an API that also takes bearer tokens from other sites). Default `false`: check all. */
  onlyWithCookies?: boolean;
  /** Requests to let through unchecked (a webhook endpoint that authenticates otherwise). */
  skip?: (environ: Environ) => boolean;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Why a request is refused, or `undefined` to let it through. */
export function crossOriginRefusal(environ: Environ, trusted: ReadonlySet<string>): string | undefined {
  if (SAFE.has(environ.REQUEST_METHOD)) return undefined;
  const origin = environ.HTTP_ORIGIN;
  const site = environ.HTTP_SEC_FETCH_SITE;
  if (site !== undefined && site !== '') {
    if (site === 'same-origin' || site === 'none') return undefined;
    if (origin !== undefined && trusted.has(origin.toLowerCase())) return undefined;
    return `A ${site} request may not ${environ.REQUEST_METHOD} here.`;
  }
  // No Sec-Fetch-Site: an older browser, or not a browser at all.
  if (origin === undefined || origin === '') return undefined;
  if (sameHost(origin, environ)) return undefined;
  if (trusted.has(origin.toLowerCase())) return undefined;
  return 'A cross-origin request may not change anything here.';
}

/** Whether `origin`'s host (and port) is the one the request was addressed to (`Host`, else the server name and port). */
function sameHost(origin: string, environ: Environ): boolean {
  const scheme = environ['tsgi.url_scheme'];
  const host = environ.HTTP_HOST ?? `${environ.SERVER_NAME}:${environ.SERVER_PORT}`;
  try {
    // Both through URL: lower case, default ports dropped, IPv6 brackets kept.
    return new URL(origin).host === new URL(`${scheme}://${host}`).host;
  } catch {
    return false;
  }
}

/**
 * Refuses unsafe (non-GET/HEAD/OPTIONS) cross-site requests with a `403` problem.
 *
 * @example csrf({ trustedOrigins: ['https://admin.example.com'] })
 */
export function csrf(options: CsrfOptions = {}): DocumentedMiddleware {
  const trusted = new Set((options.trustedOrigins ?? []).map((o) => o.toLowerCase().replace(/\/+$/, '')));
  const { onlyWithCookies = false, skip } = options;
  const middleware: TsgiMiddleware = (app) =>
    keepLifespan((environ: Environ) => {
      if (SAFE.has(environ.REQUEST_METHOD)) return app(environ);
      if (onlyWithCookies && environ.HTTP_COOKIE === undefined) return app(environ);
      const refusal = crossOriginRefusal(environ, trusted);
      if (refusal === undefined || skip?.(environ)) return app(environ);
      return problem(403, refusal);
    }, app);
  return documented(middleware, { responses: { '403': problemDoc('Refused: a cross-site request') } });
}
