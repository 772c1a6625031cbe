/**
 * Security response headers, as helmet sets them by default, tuned for JSON APIs: a locked-down
 * Content-Security-Policy for everything that is not HTML (an API answer is never a document to
 * render), helmet's default policy for HTML, HSTS only over https, and the rest unconditionally.
 * A header the application already set is left as it is, so a route can override any of them.
 */
import { keepLifespan, mapResponse, type Environ, type HeaderList, type TsgiMiddleware, type TsgiResponse } from '@carafe/gateway';

export interface HstsOptions {
  /** Seconds; default one year. */
  maxAge?: number;
  /** Default `true`. */
  includeSubDomains?: boolean;
  /** Default `false`: only add it once the domain is submitted to the preload list. */
  preload?: boolean;
}

export interface SecurityHeadersOptions {
  /** `Strict-Transport-Security`, sent only when the request came over https (`tsgi.url_scheme`, as the proxy fix reports it). */
  hsts?: HstsOptions | false;
  /**
   * `Content-Security-Policy`: `html` for `text/html` responses (default: helmet's policy),
   * `other` for everything else (default `default-src 'none'; frame-ancestors 'none'`). `false` to send none.
   */
  contentSecurityPolicy?: { html?: string | false; other?: string | false } | false;
  /** `X-Content-Type-Options: nosniff` (default on). */
  noSniff?: boolean;
  /** `X-Frame-Options` (default `DENY`). */
  frameOptions?: 'DENY' | 'SAMEORIGIN' | false;
  /** `Referrer-Policy` (default `no-referrer`). */
  referrerPolicy?: string | false;
  /** `Cross-Origin-Opener-Policy` (default `same-origin`). */
  crossOriginOpenerPolicy?: string | false;
  /** `Cross-Origin-Resource-Policy` (default `same-origin`; CORS requests are not affected by it). */
  crossOriginResourcePolicy?: string | false;
  /** `Cross-Origin-Embedder-Policy` (default: not sent, as in helmet). */
  crossOriginEmbedderPolicy?: string | false;
  /** `Origin-Agent-Cluster: ?1` (default on). */
  originAgentCluster?: boolean;
  /** `X-DNS-Prefetch-Control: off` (default on). */
  dnsPrefetchControl?: boolean;
  /** `X-Permitted-Cross-Domain-Policies: none` (default on). */
  permittedCrossDomainPolicies?: boolean;
  /** `X-XSS-Protection: 0`, turning off the legacy filter that caused leaks (default on). */
  xssProtection?: boolean;
}

/** helmet's default policy, for HTML pages. */
export const HTML_CSP =
  "default-src 'self'; base-uri 'self'; font-src 'self' https: data:; form-action 'self'; frame-ancestors 'self'; " +
  "img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' https: 'unsafe-inline'; " +
  'upgrade-insecure-requests';

/** For JSON and every other non-HTML answer: nothing may load, nobody may frame it (OWASP REST Security). */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

function isHtml(response: TsgiResponse): boolean {
  for (const [name, value] of response.headers) {
    if (name.length === 12 && name.toLowerCase() === 'content-type') return /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(value);
  }
  return false;
}

/**
 * The security headers middleware.
 *
 * @example securityHeaders({ frameOptions: 'SAMEORIGIN', contentSecurityPolicy: { html: "default-src 'self'" } })
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): TsgiMiddleware {
  const common: HeaderList = [];
  const add = (name: string, value: string | false | undefined) => {
    if (value !== false && value !== undefined) common.push([name, value]);
  };
  add('X-Content-Type-Options', options.noSniff === false ? false : 'nosniff');
  add('X-Frame-Options', options.frameOptions ?? 'DENY');
  add('Referrer-Policy', options.referrerPolicy ?? 'no-referrer');
  add('Cross-Origin-Opener-Policy', options.crossOriginOpenerPolicy ?? 'same-origin');
  add('Cross-Origin-Resource-Policy', options.crossOriginResourcePolicy ?? 'same-origin');
  add('Cross-Origin-Embedder-Policy', options.crossOriginEmbedderPolicy);
  add('Origin-Agent-Cluster', options.originAgentCluster === false ? false : '?1');
  add('X-DNS-Prefetch-Control', options.dnsPrefetchControl === false ? false : 'off');
  add('X-Permitted-Cross-Domain-Policies', options.permittedCrossDomainPolicies === false ? false : 'none');
  add('X-XSS-Protection', options.xssProtection === false ? false : '0');

  const csp = options.contentSecurityPolicy;
  const htmlCsp = csp === false ? false : (csp?.html ?? HTML_CSP);
  const otherCsp = csp === false ? false : (csp?.other ?? API_CSP);
  let hsts: string | undefined;
  if (options.hsts !== false) {
    const { maxAge = 31_536_000, includeSubDomains = true, preload = false } = options.hsts ?? {};
    hsts = `max-age=${maxAge}${includeSubDomains ? '; includeSubDomains' : ''}${preload ? '; preload' : ''}`;
  }
  // Four precomputed lists: (https or not) × (HTML or not).
  const lists = new Map<string, HeaderList>();
  for (const https of [false, true]) {
    for (const html of [false, true]) {
      const list = common.slice();
      const policy = html ? htmlCsp : otherCsp;
      if (policy !== false) list.push(['Content-Security-Policy', policy]);
      if (https && hsts !== undefined) list.push(['Strict-Transport-Security', hsts]);
      lists.set(`${https}${html}`, list);
    }
  }

  const apply = (environ: Environ, response: TsgiResponse): TsgiResponse => {
    const https = environ['tsgi.url_scheme'] === 'https';
    const extra = lists.get(`${https}${isHtml(response)}`)!;
    const present = new Set<string>();
    for (const [name] of response.headers) present.add(name.toLowerCase());
    const headers = response.headers.slice();
    for (const pair of extra) if (!present.has(pair[0].toLowerCase())) headers.push(pair);
    return { status: response.status, headers, body: response.body };
  };

  return (app) => keepLifespan((environ: Environ) => mapResponse(app(environ), (response) => apply(environ, response)), app);
}
