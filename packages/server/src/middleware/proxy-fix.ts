/**
 * Trusted-proxy rewrite: when the peer is a trusted proxy, the client address, scheme and
 * host it forwards (`Forwarded`, or `X-Forwarded-For/-Proto/-Host`) replace REMOTE_ADDR,
 * `tsgi.url_scheme` and HTTP_HOST/SERVER_NAME/SERVER_PORT. From any other peer those
 * headers change nothing.
 */
import { BlockList, isIP } from 'node:net';
import { defaultPort, keepLifespan, splitHost, type Environ, type TsgiApplication, type TsgiMiddleware } from '@carafe/gateway';

export interface ProxyFixOptions {
  /**
   * Peers trusted to forward: addresses or CIDR networks (`10.0.0.0/8`), or `*` for any.
   * Default `127.0.0.1` and `::1`.
   */
  trusted?: readonly string[];
  /** Trust peers on a unix socket (REMOTE_ADDR empty): only local users with file access can connect. Default true. */
  trustUnixSocket?: boolean;
}

/** What the rewrite replaced, kept in the environ under `carafe.proxy_fix.orig`. */
export interface ProxyFixOriginal {
  REMOTE_ADDR: string;
  'tsgi.url_scheme': string;
  HTTP_HOST: string | undefined;
}

/** Strips IPv4-mapped IPv6 prefixes, brackets and ports: `[::1]:80` → `::1`, `::ffff:1.2.3.4` → `1.2.3.4`. */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith('"') && a.endsWith('"')) a = a.slice(1, -1);
  if (a.startsWith('[')) a = a.slice(1, a.indexOf(']') === -1 ? undefined : a.indexOf(']'));
  else if (isIP(a) === 0 && a.includes(':') && a.indexOf(':') === a.lastIndexOf(':')) a = a.slice(0, a.indexOf(':'));
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a;
}

/** Compiles a trust list into a membership test. */
export function trustTest(trusted: readonly string[], trustUnixSocket = true): (address: string) => boolean {
  if (trusted.includes('*')) return () => true;
  const list = new BlockList();
  for (const entry of trusted) {
    const [net, bits] = entry.split('/');
    const address = normalizeAddress(net!);
    const family = isIP(address);
    if (family === 0) throw new TypeError(`forwarded-allow-ips: ${JSON.stringify(entry)} is not an IP address or network`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return (raw) => {
    if (raw === '') return trustUnixSocket;
    const address = normalizeAddress(raw);
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Splits a comma-separated header, trimming entries. */
function listOf(header: string): string[] {
  return header
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One RFC 7239 element (`for=…;proto=…;host=…`) as lower-case keys with unquoted values. */
function forwardedPairs(element: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    pairs[pair.slice(0, eq).trim().toLowerCase()] = value;
  }
  return pairs;
}

/**
 * The client in a chain of addresses (leftmost = original client, rightmost = added by the
 * nearest proxy): the rightmost one that is not itself a trusted proxy.
 */
function clientOf(chain: string[], trusted: (a: string) => boolean): string | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const address = normalizeAddress(chain[i]!);
    if (!trusted(address) || i === 0) return address;
  }
  return undefined;
}

/**
 * Takes the forwarded host, split the way the binding splits a Host header, so both agree on
 * IPv6 literals; a value that is not a host leaves the request's own.
 */
function setHost(environ: Environ, host: string, scheme: string): void {
  const parts = splitHost(host);
  if (parts === undefined) return;
  environ.HTTP_HOST = host;
  environ.SERVER_NAME = parts.name;
  environ.SERVER_PORT = parts.port ?? defaultPort(scheme);
}

function rewrite(environ: Environ, trusted: (a: string) => boolean): void {
  let client: string | undefined;
  let proto: string | undefined;
  let host: string | undefined;
  const forwarded = environ.HTTP_FORWARDED;
  if (forwarded !== undefined) {
    const elements = listOf(forwarded).map(forwardedPairs);
    const nearest = elements[elements.length - 1] ?? {};
    const fors = elements.map((e) => e.for).filter((f): f is string => f !== undefined);
    client = fors.length ? clientOf(fors, trusted) : undefined;
    proto = nearest.proto;
    host = nearest.host;
  } else {
    const xff = environ.HTTP_X_FORWARDED_FOR;
    if (xff !== undefined) client = clientOf(listOf(xff), trusted);
    const xfp = environ.HTTP_X_FORWARDED_PROTO;
    if (xfp !== undefined) proto = listOf(xfp).pop();
    const xfh = environ.HTTP_X_FORWARDED_HOST;
    if (xfh !== undefined) host = listOf(xfh).pop();
  }
  const original: ProxyFixOriginal = {
    REMOTE_ADDR: environ.REMOTE_ADDR,
    'tsgi.url_scheme': environ['tsgi.url_scheme'],
    HTTP_HOST: environ.HTTP_HOST,
  };
  environ['carafe.proxy_fix.orig'] = original;
  if (client !== undefined && isIP(client) !== 0) environ.REMOTE_ADDR = client;
  if (proto !== undefined) {
    const scheme = proto.toLowerCase();
    if (scheme === 'http' || scheme === 'https') environ['tsgi.url_scheme'] = scheme;
  }
  if (host !== undefined && /^[A-Za-z0-9.\-_~[\]:%]+$/.test(host)) setHost(environ, host, environ['tsgi.url_scheme']);
}

/**
 * The trusted-proxy middleware. The server applies it itself with `--forwarded-allow-ips`;
 * use it directly when running an app another way.
 */
export function proxyFix(options: ProxyFixOptions = {}): TsgiMiddleware {
  const trusted = trustTest(options.trusted ?? ['127.0.0.1', '::1'], options.trustUnixSocket ?? true);
  return (app: TsgiApplication): TsgiApplication => {
    const fixed: TsgiApplication = (environ) => {
      if (
        (environ.HTTP_FORWARDED !== undefined ||
          environ.HTTP_X_FORWARDED_FOR !== undefined ||
          environ.HTTP_X_FORWARDED_PROTO !== undefined ||
          environ.HTTP_X_FORWARDED_HOST !== undefined) &&
        trusted(environ.REMOTE_ADDR)
      ) {
        rewrite(environ, trusted);
      }
      return app(environ);
    };
    return keepLifespan(fixed, app);
  };
}
