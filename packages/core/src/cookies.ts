/**
 * HTTP cookies: parsing the `Cookie` request header and serializing `Set-Cookie` values
 * (RFC 6265, with the SameSite and Partitioned attributes of its successors).
 */

/** Attributes of a `Set-Cookie` header. */
export interface CookieOptions {
  /** Lifetime in whole seconds (`Max-Age`); `0` or less expires the cookie at once. */
  maxAge?: number;
  /** Absolute expiry (`Expires`); `maxAge` wins in clients that understand both. */
  expires?: Date;
  /** `Path`; clients default it to the request path's directory. */
  path?: string;
  /** `Domain`; without it the cookie is host-only. */
  domain?: string;
  /** `Secure`: send over HTTPS only. */
  secure?: boolean;
  /** `HttpOnly`: hide from scripts. */
  httpOnly?: boolean;
  /** `SameSite`; `'None'` requires `secure`. */
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** `Partitioned` (CHIPS); requires `secure`. */
  partitioned?: boolean;
  /** Turns the value into cookie-safe text; defaults to `encodeURIComponent`, undone by {@link parseCookies}. */
  encode?: (value: string) => string;
}

// RFC 9110 token characters: what a cookie name may contain.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 cookie-octet: printable ASCII except space, DQUOTE, comma, semicolon and backslash.
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
// Path and other attribute values: any printable ASCII except ';'.
const ATTRIBUTE_VALUE = /^[\x20-\x3a\x3c-\x7e]*$/;
const DOMAIN = /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const SAME_SITE = new Set(['Strict', 'Lax', 'None']);

/**
 * Parses a `Cookie` request header into a name → value record.
 *
 * Lenient like browsers and common libraries: pairs without `=` are skipped, names and values are
 * trimmed, one pair of surrounding double quotes is removed, `%XX` escapes are decoded (a value that
 * does not decode is kept as sent), and the first occurrence of a name wins (clients send the most
 * specific cookie first). Never throws.
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null);
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || name in cookies) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    cookies[name] = decode(value);
  }
  return cookies;
}

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Serializes one `Set-Cookie` header value.
 *
 * The value is encoded with `options.encode` (default `encodeURIComponent`). Throws `TypeError` for a
 * name that is not an RFC 9110 token, an encoded value outside RFC 6265's cookie-octets, a non-integer
 * `maxAge`, an invalid `expires`, `path` or `domain`, an unknown `sameSite`, `SameSite=None` or
 * `partitioned` without `secure`, or a `__Secure-`/`__Host-` prefixed name whose attributes break the
 * prefix's rules.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`Invalid cookie name: ${JSON.stringify(name)}`);
  let encoded: string;
  try {
    encoded = (options.encode ?? encodeURIComponent)(value);
  } catch (error) {
    throw new TypeError(`Cookie value of ${name} cannot be encoded`, { cause: error });
  }
  if (!COOKIE_VALUE.test(encoded)) throw new TypeError(`Invalid cookie value for ${name}: ${JSON.stringify(encoded)}`);
  let cookie = `${name}=${encoded}`;

  const { maxAge, expires, path, domain, secure, httpOnly, sameSite, partitioned } = options;
  if (maxAge !== undefined) {
    if (!Number.isInteger(maxAge)) throw new TypeError(`Cookie maxAge must be an integer, got ${maxAge}`);
    cookie += `; Max-Age=${maxAge}`;
  }
  if (domain !== undefined) {
    if (!DOMAIN.test(domain)) throw new TypeError(`Invalid cookie domain: ${JSON.stringify(domain)}`);
    cookie += `; Domain=${domain}`;
  }
  if (path !== undefined) {
    if (!ATTRIBUTE_VALUE.test(path)) throw new TypeError(`Invalid cookie path: ${JSON.stringify(path)}`);
    cookie += `; Path=${path}`;
  }
  if (expires !== undefined) {
    if (!(expires instanceof Date) || Number.isNaN(expires.getTime())) {
      throw new TypeError(`Cookie expires must be a valid Date`);
    }
    cookie += `; Expires=${expires.toUTCString()}`;
  }
  if (httpOnly) cookie += '; HttpOnly';
  if (secure) cookie += '; Secure';
  if (partitioned) {
    if (!secure) throw new TypeError(`Cookie ${name} is Partitioned, which requires Secure`);
    cookie += '; Partitioned';
  }
  if (sameSite !== undefined) {
    if (!SAME_SITE.has(sameSite)) throw new TypeError(`Invalid cookie SameSite: ${JSON.stringify(sameSite)}`);
    if (sameSite === 'None' && !secure) throw new TypeError(`Cookie ${name} has SameSite=None, which requires Secure`);
    cookie += `; SameSite=${sameSite}`;
  }

  // Browsers drop prefixed cookies that break these rules; fail loudly instead of silently.
  if (name.startsWith('__Secure-') && !secure) throw new TypeError(`Cookie ${name} requires Secure`);
  if (name.startsWith('__Host-') && (!secure || path !== '/' || domain !== undefined)) {
    throw new TypeError(`Cookie ${name} requires Secure, Path=/ and no Domain`);
  }
  return cookie;
}
