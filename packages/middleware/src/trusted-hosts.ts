/**
 * Trusted hosts (Werkzeug's `TRUSTED_HOSTS`, Django's `ALLOWED_HOSTS`): a request whose `Host` is
 * not one the application answers for is refused with `400` before anything builds a URL from it
 * (password-reset links, redirects, cache keys poisoned by a forged Host).
 */
import { keepLifespan, splitHost, type Environ, type TsgiMiddleware } from '@carafe/gateway';
import { problem } from './util.js';

export interface TrustedHostsOptions {
  /** Host names: exact (`api.example.com`), or `.example.com` for the domain and every subdomain. The port is not compared. */
  hosts: readonly string[];
}

/** Whether the host name `name` (lower case, no port) is one of `trusted`. */
export function hostMatches(name: string, trusted: readonly string[]): boolean {
  for (const entry of trusted) {
    if (entry.startsWith('.')) {
      const domain = entry.slice(1);
      if (name === domain || name.endsWith(entry)) return true;
    } else if (name === entry) return true;
  }
  return false;
}

/**
 * Refuses requests for hosts not in `hosts` with a `400` problem. The host is `HTTP_HOST` (after the
 * proxy fix, the forwarded host) or else `SERVER_NAME`, split with the gateway's `splitHost`.
 *
 * @example trustedHosts({ hosts: ['api.example.com', '.example.org'] })
 */
export function trustedHosts(options: TrustedHostsOptions | readonly string[]): TsgiMiddleware {
  const list = ('hosts' in options ? options.hosts : options).map((h) => h.toLowerCase());
  if (list.length === 0) throw new TypeError('trustedHosts(): give at least one host');
  return (app) =>
    keepLifespan((environ: Environ) => {
      const host = environ.HTTP_HOST ?? environ.SERVER_NAME;
      const parts = splitHost(host);
      if (parts !== undefined && hostMatches(parts.name.toLowerCase(), list)) return app(environ);
      return problem(400, `The host ${JSON.stringify(host)} is not one this application answers for.`);
    }, app);
}
