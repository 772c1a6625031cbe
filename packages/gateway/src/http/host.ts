/**
 * The `host[:port]` of a Host header or a forwarded host (RFC 9110 §7.2, RFC 3986 §3.2.2), split
 * in one place so that the binding's SERVER_NAME/SERVER_PORT and a proxy fix agree on IPv6
 * literals and on what is malformed.
 */

/** A host split into its name and port. */
export interface HostParts {
  /** The host as written: a name, an IPv4 address, or an IPv6 literal with its brackets (`[::1]`). */
  name: string;
  /** The port digits, or `undefined` when none was given (`example.com`, `example.com:`). */
  port: string | undefined;
}

const PORT = /^\d{0,5}$/;

/**
 * Splits `host[:port]`. The brackets of an IPv6 literal stay on the name, so that
 * `${name}:${port}` is again a valid authority (how SERVER_NAME is used to rebuild URLs).
 * Returns `undefined` when the value is not a host: empty, an unclosed or bare IPv6 address
 * (`[::1`, `::1`), text after `]` other than a port, or a port that is not digits.
 *
 * @example splitHost('[::1]:8080') // { name: '[::1]', port: '8080' }
 */
export function splitHost(host: string): HostParts | undefined {
  let colon: number;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close === -1) return undefined;
    colon = close + 1;
    if (colon < host.length && host.charCodeAt(colon) !== 58 /* : */) return undefined;
    if (colon === host.length) colon = -1;
  } else {
    colon = host.indexOf(':');
    if (colon !== -1 && host.indexOf(':', colon + 1) !== -1) return undefined;
  }
  const name = colon === -1 ? host : host.slice(0, colon);
  const port = colon === -1 ? '' : host.slice(colon + 1);
  if (name === '' || !PORT.test(port)) return undefined;
  return { name, port: port === '' ? undefined : port };
}

/** The port a URL scheme implies: 443 for `https` (and `wss`), 80 otherwise. */
export function defaultPort(scheme: string): string {
  return scheme === 'https' || scheme === 'wss' ? '443' : '80';
}
