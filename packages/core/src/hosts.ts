/**
 * The host a request was addressed to, and whether it is trusted (Werkzeug's `get_host` and
 * `host_is_trusted`): what `req.host` shows and what `config.trustedHosts` checks.
 */
import type { Environ } from '@carafe/gateway';

/**
 * The `host[:port]` of a request: the `Host` header, else `SERVER_NAME:SERVER_PORT`; the port is
 * left out when it is the scheme's default (80 for http/ws, 443 for https/wss), as Werkzeug does,
 * so URLs built from it do not carry a redundant `:80`.
 */
export function requestHost(environ: Environ): string {
  const scheme = environ['tsgi.url_scheme'];
  const host = environ.HTTP_HOST ?? `${environ.SERVER_NAME}:${environ.SERVER_PORT}`;
  const port = scheme === 'https' || scheme === 'wss' ? ':443' : scheme === 'http' || scheme === 'ws' ? ':80' : undefined;
  return port !== undefined && host.endsWith(port) ? host.slice(0, -port.length) : host;
}

/** A host name (letters, digits, `.`, `-`) or a bracketed IPv6 literal, and an optional port. */
const HOST = /^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?$/i;

/**
 * Whether `host` (`name[:port]`) is made of valid characters and its name matches one of `trusted`:
 * exactly, or — for an entry starting with a dot, like `.example.com` — as `example.com` itself or
 * any subdomain of it. The port is not compared. Names compare case-insensitively.
 *
 * @example hostIsTrusted('api.example.com:8443', ['.example.com']) // true
 */
export function hostIsTrusted(host: string, trusted: readonly string[]): boolean {
  const match = HOST.exec(host);
  if (match === null) return false;
  const name = match[1]!.toLowerCase();
  for (const entry of trusted) {
    const suffix = entry.startsWith('.');
    const ref = (suffix ? entry.slice(1) : entry).toLowerCase();
    if (name === ref || (suffix && name.endsWith(`.${ref}`))) return true;
  }
  return false;
}
