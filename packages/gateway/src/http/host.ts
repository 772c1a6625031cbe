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

/**
 * Splits `host[:port]`. The brackets of an IPv6 literal stay on the name, so that
 * `${name}:${port}` is again a valid authority (how SERVER_NAME is used to rebuild URLs).
 * Returns `undefined` when the value is not a host (RFC 3986 §3.2.2, RFC 9112 §3.2): empty,
 * a name with a character a reg-name cannot hold (space, `/`, `@`, a control character, a `%`
 * not followed by two hex digits), an unclosed or bare IPv6 address (`[::1`, `::1`), text after
 * `]` other than a port, or a port that is not up to five digits. Checked with char codes, once
 * per request: no regular expression.
 *
 * @example splitHost('[::1]:8080') // { name: '[::1]', port: '8080' }
 */
export function splitHost(host: string): HostParts | undefined {
  let end: number; // where the name ends: the length, or the index of the port's ':'
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close === -1 || !isIpLiteral(host, 1, close)) return undefined;
    end = close + 1;
    if (end < host.length && host.charCodeAt(end) !== 58 /* : */) return undefined;
  } else {
    end = host.length;
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c === 58 /* : */) {
        end = i;
        break;
      }
      if (c === 37 /* % */) {
        if (!isHex(host.charCodeAt(i + 1)) || !isHex(host.charCodeAt(i + 2))) return undefined;
        i += 2;
      } else if (!(c < 128 && REG_NAME[c] === 1)) return undefined;
    }
  }
  if (end === 0) return undefined;
  const portLength = end === host.length ? 0 : host.length - end - 1;
  if (portLength > 5) return undefined;
  for (let i = end + 1; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return { name: end === host.length ? host : host.slice(0, end), port: portLength === 0 ? undefined : host.slice(end + 1) };
}

/** RFC 3986 unreserved and sub-delims: what a reg-name holds besides pct-encoded octets. */
const REG_NAME = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1;

function isUnreserved(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * `host[from, to)`, the inside of `[…]`: an IPv6 address (hex digits, `:` and `.`, with at least
 * one `:`), optionally with an RFC 6874 zone (`%25` then unreserved characters), or an IPvFuture
 * (`v` hex digits `.` then unreserved, sub-delims or `:`).
 */
function isIpLiteral(host: string, from: number, to: number): boolean {
  if (from >= to) return false;
  const first = host.charCodeAt(from);
  if (first === 118 /* v */ || first === 86 /* V */) {
    let i = from + 1;
    while (i < to && isHex(host.charCodeAt(i))) i++;
    if (i === from + 1 || i >= to - 1 || host.charCodeAt(i) !== 46 /* . */) return false;
    for (i++; i < to; i++) {
      const c = host.charCodeAt(i);
      if (!(c === 58 || (c < 128 && REG_NAME[c] === 1))) return false;
    }
    return true;
  }
  let colons = 0;
  for (let i = from; i < to; i++) {
    const c = host.charCodeAt(i);
    if (c === 58) colons++;
    else if (c === 37 /* % */) {
      // A zone: "%25" and at least one unreserved character.
      if (colons < 2 || host.charCodeAt(i + 1) !== 50 || host.charCodeAt(i + 2) !== 53 || i + 3 >= to) return false;
      for (let j = i + 3; j < to; j++) if (!isUnreserved(host.charCodeAt(j))) return false;
      return true;
    } else if (!isHex(c) && c !== 46 /* . */) return false;
  }
  return colons >= 2;
}

/** The port a URL scheme implies: 443 for `https` (and `wss`), 80 otherwise. */
export function defaultPort(scheme: string): string {
  return scheme === 'https' || scheme === 'wss' ? '443' : '80';
}
