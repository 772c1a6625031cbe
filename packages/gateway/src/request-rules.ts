/**
 * What RFC 9110/9112 tell a server to refuse in a request head that Node's parser lets through,
 * checked while the node:http binding builds the environ (environ.ts), so that `carafe serve`,
 * `app.run()` and every other user of `createServer` refuse the same requests:
 *
 * - a version other than HTTP/1.0 and HTTP/1.1 (`HTTP/2.0` → 505, `HTTP/0.9` → 400);
 * - a `#fragment` in the target (§3.2: a request-target has none);
 * - `*` with a method other than OPTIONS (§3.2.4), an absolute-form target that is not an
 *   `http`/`https` URI with a valid host and no userinfo (§3.2.2, RFC 9110 §4.2);
 * - no Host on HTTP/1.1, two Host lines, or a Host that is not `uri-host[:port]` (§3.2);
 * - two different Content-Type values (RFC 9110 §5.3: it is not a list);
 * - Transfer-Encoding on HTTP/1.0 (§6.1: the framing is faulty), or with a coding other than
 *   `chunked` alone (§6.1: 501).
 *
 * Each check is a comparison or a char-code loop over a short string, done once per request.
 */
import { splitHost, type HostParts } from './http/host.js';

/** A request the binding answers itself, with `status` and a problem+json body, and whose connection it closes. */
export class RequestRefused extends Error {
  readonly status: number;

  constructor(status: number, detail: string) {
    super(detail);
    this.name = 'RequestRefused';
    this.status = status;
  }
}

/** The request target could not be decoded (malformed percent-encoding or UTF-8). */
export class BadRequestTarget extends RequestRefused {
  constructor(target: string) {
    super(400, `The request target is not valid percent-encoded UTF-8: ${JSON.stringify(target.slice(0, 200))}.`);
    this.name = 'BadRequestTarget';
  }
}

/** Refuses any HTTP major version but 1 (Node's parser also hands over 0.9 and 2.0). */
export function checkVersion(major: number, minor: number): void {
  if (major === 1) return;
  if (major === 0) throw new RequestRefused(400, `HTTP/${major}.${minor} requests are not supported.`);
  throw new RequestRefused(505, `HTTP/${major}.${minor} is not supported on this connection; use HTTP/1.1.`);
}

/** An absolute-form target split into its authority and the path and query after it. */
export interface AbsoluteTarget {
  /** `host[:port]`, what Host would have said. */
  authority: string;
  /** The authority split as {@link splitHost} splits a Host header. */
  host: HostParts;
  /** The URI's scheme: `https` or `http`, which sets the port when the authority has none. */
  scheme: 'http' | 'https';
  /** From the first `/` or `?` after the authority (a `?` gets a `/` before it); `/` when there is none. */
  rest: string;
}

/**
 * Splits an absolute-form target (`http://example.com:8080/p?q`), or returns `undefined` when
 * it is not an `http` or `https` URI with a valid, non-empty host (RFC 9110 §4.2.1) and no
 * userinfo (§4.2.4 says to treat it as an error).
 */
export function splitAbsoluteTarget(target: string): AbsoluteTarget | undefined {
  // "http" or "https", in any case, then "://"
  if (
    (target.charCodeAt(0) | 0x20) !== 104 ||
    (target.charCodeAt(1) | 0x20) !== 116 ||
    (target.charCodeAt(2) | 0x20) !== 116 ||
    (target.charCodeAt(3) | 0x20) !== 112
  ) {
    return undefined;
  }
  const secure = (target.charCodeAt(4) | 0x20) === 115;
  let i = secure ? 5 : 4;
  if (target.charCodeAt(i) !== 58 || target.charCodeAt(i + 1) !== 47 || target.charCodeAt(i + 2) !== 47) return undefined;
  const start = i + 3;
  for (i = start; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
  }
  const authority = target.slice(start, i);
  // splitHost refuses "@" (userinfo) and an empty host with the rest of what a host cannot hold.
  const host = splitHost(authority);
  if (host === undefined) return undefined;
  const rest = target.slice(i);
  return { authority, host, scheme: secure ? 'https' : 'http', rest: rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest };
}

/** The request target, when it does not start with `/`: `*` (path `""`) or absolute-form. */
export interface OtherTarget {
  /** The absolute-form target's authority, which replaces Host (RFC 9112 §3.2.2); none for `*`. */
  absolute: AbsoluteTarget | undefined;
  /** The path and query. */
  rest: string;
}

/**
 * Reads a target that does not start with `/`: `*` with OPTIONS (§3.2.4) or an absolute-form
 * http(s) URI (§3.2.2). Throws {@link RequestRefused} for anything else (authority-form is for
 * CONNECT, which never reaches the binding).
 */
export function otherTarget(target: string, method: string): OtherTarget {
  if (target === '*') {
    if (method !== 'OPTIONS') throw new RequestRefused(400, 'The asterisk-form target "*" is only for OPTIONS.');
    return { absolute: undefined, rest: '' };
  }
  const absolute = splitAbsoluteTarget(target);
  if (absolute === undefined) {
    throw new RequestRefused(
      400,
      `The request target ${JSON.stringify(target.slice(0, 200))} is not a path, an http(s) URI with a valid host, or "*".`,
    );
  }
  return { absolute, rest: absolute.rest };
}

/**
 * The Host header split, after the checks of RFC 9112 §3.2: required on HTTP/1.1 and a valid
 * `uri-host[:port]` when present. An empty Host is allowed (and names no host).
 */
export function hostOf(host: string | undefined, minor: number): HostParts | undefined {
  if (host === undefined) {
    if (minor !== 0) throw new RequestRefused(400, 'An HTTP/1.1 request needs a Host header.');
    return undefined;
  }
  if (host === '') return undefined;
  const parts = splitHost(host);
  if (parts === undefined) throw new RequestRefused(400, `The Host header ${JSON.stringify(host.slice(0, 200))} is not a host[:port].`);
  return parts;
}

/** A second line of a field that may appear only once: Host always refuses, Content-Type when the values differ. */
export function checkRepeated(key: string, previous: string, value: string): void {
  if (key === 'HTTP_HOST') throw new RequestRefused(400, 'The request has more than one Host header.');
  if (key === 'CONTENT_TYPE' && previous !== value) throw new RequestRefused(400, 'The request has two different Content-Type headers.');
}

/**
 * A request with Transfer-Encoding (RFC 9112 §6.1): on HTTP/1.0 its framing is faulty (400);
 * a coding other than `chunked` alone is one the server does not understand (501): Node's
 * parser strips the chunked framing but would hand the app a body still gzip- or otherwise coded.
 */
export function checkTransferEncoding(transferEncoding: string, minor: number): void {
  if (minor === 0) throw new RequestRefused(400, 'Transfer-Encoding is not allowed in an HTTP/1.0 request.');
  if (transferEncoding.length !== 7 || transferEncoding.toLowerCase() !== 'chunked') {
    throw new RequestRefused(
      501,
      `The transfer coding ${JSON.stringify(transferEncoding.slice(0, 100))} is not supported; only "chunked" is.`,
    );
  }
}
