/**
 * The connection-level decisions of the node:http binding: when a connection closes after a
 * response, and how what Node's parser hands to the `clientError`, `connect` and
 * `checkExpectation` events is answered — always with an RFC 9457 problem, never in place of a
 * response the application is producing, and never a silent close.
 *
 * Node internals relied on (pinned by the conformance corpus, run against createServer in
 * packages/gateway/test/conformance.test.ts and against carafe serve in
 * test/server-conformance.test.ts): `socket._httpMessage`, the response a node:http server socket is
 * sending (Node itself uses it to the same end in its default `clientError` handling), and
 * `error.rawPacket`/`error.bytesParsed` of a parser error (documented under 'clientError').
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { problemResponse } from './problem.js';
import { answerOnSocket } from './socket-problem.js';

/** On a socket: the request after whose response the connection closes (exchange.ts reads it inline). */
export const kClosing = Symbol('tsgi.closing');
const kErrored = Symbol('tsgi.errored');

type ServerSocket = Socket & {
  /** The request whose response closes the connection. */
  [kClosing]?: IncomingMessage;
  [kErrored]?: boolean;
  _httpMessage?: ServerResponse | null;
};

/**
 * Sends `res` with `Connection: close` and closes the connection after it. Requests already
 * pipelined behind it are never given to the application: they would not be answered.
 * Call it before the head is written.
 */
export function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  (req.socket as ServerSocket)[kClosing] ??= req;
}

/** Is this request pipelined behind a response that closes its connection? Then nobody will read its answer. */
export function isOrphaned(req: IncomingMessage): boolean {
  const closing = (req.socket as ServerSocket | null)?.[kClosing];
  return closing !== undefined && closing !== req;
}

/** A parser or timeout error as node:http reports it to 'clientError'. */
export type ClientError = Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number };

/**
 * The status (and detail) answering a request Node's parser refused or that came too slowly.
 * `undefined` for `HPE_CLOSED_CONNECTION`: bytes after a request that closes the connection
 * (`Connection: close`, HTTP/1.0) are ignored, not answered (RFC 9112 §9.6).
 */
export function clientErrorStatus(error: ClientError, socket: Socket): [status: number, detail: string | undefined] | undefined {
  switch (error.code) {
    case 'HPE_CLOSED_CONNECTION':
      return undefined;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return [408, 'The request was not received in time.'];
    case 'HPE_HEADER_OVERFLOW':
      return overflowInRequestLine(error, socket)
        ? [414, 'The request line is too long.']
        : [431, 'The request header fields are too large.'];
    case 'HPE_URI_TOO_LONG':
      return [414, 'The request line is too long.'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'The chunk extensions are too large.'];
    case 'HPE_PAUSED_H2_UPGRADE': // the HTTP/2 connection preface ("PRI * HTTP/2.0")
      return [505, 'Only HTTP/1.0 and HTTP/1.1 are supported.'];
    case 'HPE_INVALID_METHOD':
      // RFC 9110 §9.1: a well-formed method the server does not know is 501, not 400.
      return unknownMethod(error) ? [501, 'The request method is not supported.'] : [400, 'The request method is malformed.'];
    case 'HPE_INVALID_VERSION':
      return otherMajorVersion(error) ? [505, 'Only HTTP/1.0 and HTTP/1.1 are supported.'] : [400, 'The HTTP version is malformed.'];
    default:
      return [400, undefined];
  }
}

/**
 * Node counts the request line and the header fields as one head (`maxHeaderSize`), so an
 * overflow says nothing of where it happened. It was in the request line when no line ended
 * before it: in the packet being parsed, either no LF comes before the overflow and the packet
 * is the first the connection read, or the last LF before it ends an empty line (the previous
 * request's end), so what follows is a request line. Otherwise — including a long line spread
 * over several packets, which cannot be told apart from one long header field — it is 431.
 */
function overflowInRequestLine(error: ClientError, socket: Socket): boolean {
  const packet = error.rawPacket;
  if (packet === undefined) return false;
  const at = Math.min(error.bytesParsed ?? packet.length, packet.length);
  const lf = at > 0 ? packet.lastIndexOf(10, at - 1) : -1;
  if (lf === -1) return socket.bytesRead === packet.length;
  return (lf >= 1 && packet[lf - 1] === 10) || (lf >= 2 && packet[lf - 1] === 13 && packet[lf - 2] === 10);
}

/** Does the refused request line start with a method token (RFC 9110 §5.6.2 tchar) and a space? */
function unknownMethod(error: ClientError): boolean {
  const packet = error.rawPacket;
  if (packet === undefined) return false;
  const at = Math.min(error.bytesParsed ?? 0, packet.length);
  const start = at > 0 ? packet.lastIndexOf(10, at - 1) + 1 : 0;
  let i = start;
  for (; i < packet.length && i < start + 64; i++) {
    const c = packet[i]!;
    if (c === 32) break;
    if (!(c < 128 && TCHAR[c] === 1)) return false;
  }
  return i > start && packet[i] === 32;
}

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** Did the refused request line end in a well-formed `HTTP/<digit>.<digit>` with a major version other than 1? */
function otherMajorVersion(error: ClientError): boolean {
  const packet = error.rawPacket;
  if (packet === undefined) return false;
  const end = packet.indexOf(10);
  const line = packet.toString('latin1', 0, end === -1 ? packet.length : end).replace(/\r$/, '');
  const match = / HTTP\/(\d)\.\d$/.exec(line);
  return match !== null && match[1] !== '1';
}

/**
 * The `clientError` handler of {@link createServer}: a request Node's parser refused, or that came
 * too slowly, is answered with a problem (see {@link clientErrorStatus}) and the connection closes.
 * When the connection still owes responses to complete requests before the bad bytes, those are
 * sent first and the answer follows them: a response the application is producing is never
 * replaced. Further errors on the same connection are ignored, and nothing more is read from it.
 */
export function answerClientError(error: ClientError, socket: Socket): void {
  if (error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const s = socket as ServerSocket;
  if (s[kErrored]) return;
  s[kErrored] = true;
  const answer = clientErrorStatus(error, socket);
  // A timeout is about the request in flight itself: it is answered in its place.
  if (answer?.[0] === 408) {
    answerOnSocket(socket, 408, answer[1]);
    return;
  }
  socket.pause();
  afterOwedResponses(s, () => {
    if (answer === undefined) closeWhenFlushed(socket);
    else answerOnSocket(socket, answer[0], answer[1]);
  });
}

/**
 * Runs `then` once the socket owes no response to a complete request (at once if it owes none).
 * A response still waiting for its own request's body is not waited for: the error is in that body.
 */
function afterOwedResponses(socket: ServerSocket, then: () => void): void {
  const current = socket._httpMessage;
  if (current == null || !current.req?.complete) {
    then();
    return;
  }
  let done = false;
  const next = () => {
    if (done) return;
    done = true;
    // Node's own 'finish' listener ran first: it detached this response and either assigned the
    // next pipelined one or began closing the connection.
    if (!socket.destroyed) afterOwedResponses(socket, then);
  };
  current.once('finish', next);
  current.once('close', next);
}

/** Closes the connection once what was written to it is sent (a response may still be flushing). */
function closeWhenFlushed(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end();
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}

/**
 * The `connect` handler: the binding tunnels nothing, so CONNECT gets `405` with an empty
 * `Allow` (RFC 9110 §15.5.6: no method is allowed on the authority named), after whatever the
 * connection still owes, and the connection closes.
 */
export function answerConnect(_req: IncomingMessage, stream: Duplex): void {
  const socket = stream as ServerSocket;
  socket.pause();
  afterOwedResponses(socket, () =>
    answerOnSocket(socket as Socket, 405, 'This server does not tunnel: CONNECT is not supported.', 'Allow: \r\n'),
  );
}

/**
 * The `checkExpectation` handler: an `Expect` other than `100-continue` gets `417` as a problem
 * (Node's own 417 has an empty body), and the connection closes: the body, if any, is not read.
 */
export function answerExpectation(req: IncomingMessage, res: ServerResponse): void {
  closeAfterResponse(req, res);
  const problem = problemResponse(417, 'Only "Expect: 100-continue" is supported.');
  res.writeHead(417, problem.headers);
  res.end(req.method === 'HEAD' ? undefined : problem.body[0]);
}
