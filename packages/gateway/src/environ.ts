/**
 * Builds the environ (docs/tsgi.md §2) from a node:http IncomingMessage.
 * This runs on every request: one object literal with a fixed shape, then one pass
 * over `rawHeaders` (Node's flat name/value list, so no header object is needed).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { environKey } from './headers.js';
import { defaultPort, splitHost } from './http/host.js';
import { defineSignal, kAbort, type RequestAbort } from './signal.js';
import type { Environ, ErrorStream, InputStream, TsgiVersion } from './types.js';

/** The per-server part of every environ, resolved once when the binding is created. */
export interface EnvironDefaults {
  urlScheme: string;
  errors: ErrorStream;
  multithread: boolean;
  multiprocess: boolean;
  runOnce: boolean;
}

/** The request target could not be decoded (malformed percent-encoding or UTF-8). */
export class BadRequestTarget extends Error {
  constructor(target: string) {
    super(`malformed percent-encoding in request target ${JSON.stringify(target.slice(0, 200))}`);
    this.name = 'BadRequestTarget';
  }
}

const VERSION: TsgiVersion = Object.freeze([1, 0] as const);
const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;
const SLASH = 47;

/**
 * Returns the environ for `req`. With `decode` false (used to describe a request whose
 * target is malformed), PATH_INFO is left percent-encoded instead of throwing.
 *
 * @throws {BadRequestTarget} when the path cannot be percent-decoded as UTF-8.
 */
export function buildEnviron(
  req: IncomingMessage,
  defaults: EnvironDefaults,
  input: InputStream,
  abort: RequestAbort,
  decode = true,
): Environ {
  const rawUri = req.url ?? '';
  let path = rawUri;
  let query = '';
  const mark = rawUri.indexOf('?');
  if (mark !== -1) {
    path = rawUri.slice(0, mark);
    query = rawUri.slice(mark + 1);
  }
  if (path.charCodeAt(0) !== SLASH) path = originPath(path);
  if (decode && path.includes('%')) {
    try {
      path = decodeURIComponent(path);
    } catch {
      throw new BadRequestTarget(rawUri);
    }
  }
  const socket = req.socket as PeerSocket;
  const peer = socket[kPeer] ?? peerOf(socket);
  const environ: Environ = {
    REQUEST_METHOD: req.method ?? 'GET',
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
    [kAbort]: abort,
  } as Omit<Environ, 'tsgi.signal'> as Environ;
  defineSignal(environ);

  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const key = environKey(raw[i]!);
    if (key === '') continue;
    const value = raw[i + 1]!;
    const previous = environ[key] as string | undefined;
    if (previous === undefined) environ[key] = value;
    // Fields that may only appear once keep their first value (Node's parser already
    // refuses conflicting Content-Length); list fields are joined as RFC 9110 §5.3 says,
    // except Cookie, whose pairs are joined with "; " (RFC 6265 §5.4).
    else if (key === 'HTTP_COOKIE') environ[key] = `${previous}; ${value}`;
    else if (key !== 'CONTENT_LENGTH' && key !== 'CONTENT_TYPE' && key !== 'HTTP_HOST') environ[key] = `${previous}, ${value}`;
  }

  setServer(environ, environ.HTTP_HOST, defaults.urlScheme, socket);
  return environ;
}

interface Peer {
  readonly address: string;
  readonly port: string;
}

/** A keep-alive socket carries many requests from one peer: its address is formatted once. */
const kPeer = Symbol('tsgi.peer');
type PeerSocket = Socket & { [kPeer]?: Peer };

function peerOf(socket: PeerSocket): Peer {
  const address = socket.remoteAddress;
  const port = socket.remotePort;
  const peer: Peer = { address: address ?? '', port: port === undefined ? '' : `${port}` };
  // A TCP socket already gone has no address to report: do not remember that. (A unix
  // socket has none at all.)
  if (address !== undefined || !socket.destroyed) socket[kPeer] = peer;
  return peer;
}

/** The path of an absolute-form (`http://host/path`) or asterisk-form (`*`) target. */
function originPath(target: string): string {
  if (target === '*') return '';
  const match = ABSOLUTE_FORM.exec(target);
  if (match === null) return target;
  const rest = target.slice(match[0].length);
  return rest === '' ? '/' : rest;
}

/** SERVER_NAME/SERVER_PORT from the Host header, or from the socket when Host is not a host. */
function setServer(environ: Environ, host: string | undefined, scheme: string, socket: Socket): void {
  const parts = host === undefined || host === '' ? undefined : splitHost(host);
  if (parts !== undefined) {
    environ.SERVER_NAME = parts.name;
    environ.SERVER_PORT = parts.port ?? defaultPort(scheme);
  } else {
    environ.SERVER_NAME = socket.localAddress ?? '';
    environ.SERVER_PORT = socket.localPort === undefined ? '' : `${socket.localPort}`;
  }
}
