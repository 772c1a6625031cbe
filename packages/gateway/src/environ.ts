/**
 * Builds the environ (docs/tsgi.md §2) from a node:http IncomingMessage.
 * This runs on every request: one object literal with a fixed shape, then one pass
 * over `rawHeaders` (Node's flat name/value list, so no header object is needed). What runs on
 * every request stays in this file: the environKey cache is read here directly, version and Host
 * checks call request-rules.ts only when there is something to refuse or to split anew.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ENVIRON_KEYS, environKey } from './headers.js';
import { defaultPort, splitHost, type HostParts } from './http/host.js';
import {
  BadRequestTarget,
  RequestRefused,
  checkRepeated,
  checkTransferEncoding,
  checkVersion,
  hostOf,
  otherTarget,
  type AbsoluteTarget,
} from './request-rules.js';
import type { Environ, ErrorStream, InputStream, TsgiVersion } from './types.js';

/** The per-server part of every environ, resolved once when the binding is created. */
export interface EnvironDefaults {
  urlScheme: string;
  errors: ErrorStream;
  multithread: boolean;
  multiprocess: boolean;
  runOnce: boolean;
}

export { BadRequestTarget, RequestRefused } from './request-rules.js';

const VERSION: TsgiVersion = Object.freeze([1, 0] as const);
const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;
const SLASH = 47;
const HASH = 35;
const QUESTION = 63;
const PERCENT = 37;
/** Targets up to this length are scanned by hand (see buildEnviron): past it, the searches cost less. */
const SHORT_TARGET = 12;

function fragmentRefused(): RequestRefused {
  return new RequestRefused(400, 'A request target cannot have a #fragment.');
}

/**
 * Returns the environ for `req`, after the checks of RFC 9110/9112 that Node's parser leaves to
 * the server (request-rules.ts). With `strict` false (used to describe a request that was
 * refused), nothing is checked and PATH_INFO is left percent-encoded.
 *
 * @throws {RequestRefused} when the request breaks one of those rules; {@link BadRequestTarget}
 * when the path cannot be percent-decoded as UTF-8.
 */
export function buildEnviron(
  req: IncomingMessage,
  defaults: EnvironDefaults,
  input: InputStream,
  signal: AbortSignal,
  strict = true,
): Environ {
  const rawUri = req.url ?? '';
  const method = req.method ?? 'GET';
  let target = rawUri;
  let absolute: AbsoluteTarget | undefined;
  let mark: number;
  /** Whether the path has a %-escape; left undefined for a long target, whose path is searched once split. */
  let encoded: boolean | undefined;
  // Tested here, not in checkVersion: a call saved on every request that is HTTP/1.x.
  if (strict && req.httpVersionMajor !== 1) checkVersion(req.httpVersionMajor, req.httpVersionMinor);
  if (strict && rawUri.length <= SHORT_TARGET && rawUri.charCodeAt(0) === SLASH) {
    // A short origin-form target (most are) is read once, character by character, for what the
    // three searches below look for: about 27 instructions a character against about 110 a search
    // whatever the length (callgrind), so this pays up to SHORT_TARGET (/hello: ~200 less).
    mark = -1;
    encoded = false;
    for (let i = 1; i < rawUri.length; i++) {
      const code = rawUri.charCodeAt(i);
      if (code === HASH) throw fragmentRefused();
      if (code === QUESTION) {
        if (mark === -1) mark = i;
      } else if (code === PERCENT && mark === -1) encoded = true;
    }
  } else {
    if (strict) {
      if (rawUri.includes('#')) throw fragmentRefused();
      if (rawUri.charCodeAt(0) !== SLASH) ({ absolute, rest: target } = otherTarget(rawUri, method));
    } else if (rawUri.charCodeAt(0) !== SLASH) target = originPath(rawUri);
    mark = target.indexOf('?');
  }
  let path = target;
  let query = '';
  if (mark !== -1) {
    path = target.slice(0, mark);
    query = target.slice(mark + 1);
  }
  if (encoded ?? (strict && path.includes('%'))) {
    try {
      path = decodeURIComponent(path);
    } catch {
      throw new BadRequestTarget(rawUri);
    }
  }
  const socket = req.socket as PeerSocket;
  const peer = socket[kPeer] ?? peerOf(socket);
  const environ: Environ = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    PATH_INFO: path,
    QUERY_STRING: query,
    SERVER_NAME: '',
    SERVER_PORT: '',
    SERVER_PROTOCOL: req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1',
    REMOTE_ADDR: peer.address,
    REMOTE_PORT: peer.port,
    RAW_URI: rawUri,
    'tsgi.version': VERSION,
    'tsgi.url_scheme': defaults.urlScheme,
    'tsgi.input': input,
    'tsgi.errors': defaults.errors,
    'tsgi.multithread': defaults.multithread,
    'tsgi.multiprocess': defaults.multiprocess,
    'tsgi.run_once': defaults.runOnce,
    // A data property, made with the literal: on Node 24 an AbortController costs ~600 instructions
    // and defining a lazy accessor on each environ cost ~1,700 (callgrind, bench/profile.mjs).
    'tsgi.signal': signal,
  };

  const raw = req.rawHeaders;
  // A keep-alive client sends the same header names in the same order on every request: the
  // names of the socket's last request and their keys are kept on it, and a name equal to the one
  // in its place takes that key — a string comparison instead of hashing the fresh name for the
  // cache (~200 instructions a header line, callgrind).
  const last = socket[kNames];
  let changed = last === undefined || last.names.length !== raw.length >> 1;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    let key: string;
    if (!changed && last!.names[i >> 1] === name) key = last!.keys[i >> 1]!;
    else {
      changed = true;
      // The cache read inline, environKey called only on a miss: a call saved per header line.
      key = ENVIRON_KEYS.get(name) ?? environKey(name);
    }
    if (key === '') continue;
    const value = raw[i + 1]!;
    // The first header line cannot repeat one (the literal above holds no header keys): its keyed
    // load, megamorphic on a server that sees varied headers, is skipped.
    const previous = i === 0 ? undefined : (environ[key] as string | undefined);
    if (previous === undefined) {
      // Host is first in nearly every request (HTTP/1.1 requires it; clients write it first): a
      // named store, one transition from the literal's shape that V8 keeps monomorphic, instead of
      // the megamorphic keyed store every other header takes (~250 instructions less, callgrind).
      if (key === 'HTTP_HOST') environ.HTTP_HOST = value;
      else environ[key] = value;
    }
    // Fields that may only appear once keep their first value (Node's parser already
    // refuses conflicting Content-Length); list fields are joined as RFC 9110 §5.3 says,
    // except Cookie, whose pairs are joined with "; " (RFC 6265 §5.4).
    else if (key === 'HTTP_COOKIE') environ[key] = `${previous}; ${value}`;
    else if (key !== 'CONTENT_LENGTH' && key !== 'CONTENT_TYPE' && key !== 'HTTP_HOST') environ[key] = `${previous}, ${value}`;
    else if (strict) checkRepeated(key, previous, value);
  }
  if (changed) rememberNames(socket, raw);

  let host: HostParts | undefined;
  let scheme = defaults.urlScheme;
  if (strict) {
    const minor = req.httpVersionMinor;
    const value = environ.HTTP_HOST;
    // A keep-alive connection sends the same Host on every request: the split of the last one is
    // kept on the socket, so the same string gets the same answer without hostOf's scan again.
    const last = (socket as PeerSocket)[kHost];
    if (last !== undefined && last.value === value) host = last.parts;
    else {
      host = hostOf(value, minor);
      if (value !== undefined && host !== undefined) (socket as PeerSocket)[kHost] = { value, parts: host };
    }
    const transferEncoding = environ.HTTP_TRANSFER_ENCODING;
    if (transferEncoding !== undefined) checkTransferEncoding(transferEncoding, minor);
    // RFC 9112 §3.2.2: the authority of an absolute-form target replaces Host.
    if (absolute !== undefined) {
      environ.HTTP_HOST = absolute.authority;
      host = absolute.host;
      scheme = absolute.scheme;
    }
  } else {
    const value = environ.HTTP_HOST;
    host = value === undefined || value === '' ? undefined : splitHost(value);
  }
  setServer(environ, host, scheme, socket);
  return environ;
}

interface Peer {
  readonly address: string;
  readonly port: string;
}

/** A keep-alive socket carries many requests from one peer: its address is formatted once. */
const kPeer = Symbol('tsgi.peer');
/** The last Host value accepted on a socket, and its split. */
const kHost = Symbol('tsgi.host');
/** The header names of the last request on a socket, and their environ keys (see buildEnviron). */
const kNames = Symbol('tsgi.headerNames');
interface HeaderNames {
  readonly names: readonly string[];
  readonly keys: readonly string[];
}
/** A request with more header lines than this is not remembered (nor is its socket's memory kept). */
const NAMES_MAX = 64;
type PeerSocket = Socket & { [kPeer]?: Peer; [kHost]?: { value: string; parts: HostParts }; [kNames]?: HeaderNames };

function rememberNames(socket: PeerSocket, raw: readonly string[]): void {
  if (raw.length > 2 * NAMES_MAX) {
    socket[kNames] = undefined;
    return;
  }
  const names: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    names.push(raw[i]!);
    keys.push(environKey(raw[i]!));
  }
  socket[kNames] = { names, keys };
}

function peerOf(socket: PeerSocket): Peer {
  const address = socket.remoteAddress;
  const port = socket.remotePort;
  const peer: Peer = { address: address ?? '', port: port === undefined ? '' : `${port}` };
  // A TCP socket already gone has no address to report: do not remember that. (A unix
  // socket has none at all.)
  if (address !== undefined || !socket.destroyed) socket[kPeer] = peer;
  return peer;
}

/** The path and query of any absolute-form (`scheme://host/path`) or asterisk-form (`*`) target, unchecked. */
function originPath(target: string): string {
  if (target === '*') return '';
  const match = ABSOLUTE_FORM.exec(target);
  if (match === null) return target;
  const rest = target.slice(match[0].length);
  return rest === '' || rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
}

/** SERVER_NAME/SERVER_PORT from the host the request names, or from the socket when it names none. */
function setServer(environ: Environ, parts: HostParts | undefined, scheme: string, socket: Socket): void {
  if (parts !== undefined) {
    environ.SERVER_NAME = parts.name;
    environ.SERVER_PORT = parts.port ?? defaultPort(scheme);
  } else {
    environ.SERVER_NAME = socket.localAddress ?? '';
    environ.SERVER_PORT = socket.localPort === undefined ? '' : `${socket.localPort}`;
  }
}
