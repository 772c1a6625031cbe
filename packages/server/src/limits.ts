/**
 * Request limits against oversized and slow clients: 414 (request line), 431 (header fields),
 * 413 (body) and 408 (too slow), each with an RFC 9457 problem body and the connection closed.
 * The per-request check is a few length comparisons; everything else is Node's parser,
 * configured once, and the gateway's `clientError` handling (what Node's parser refuses).
 *
 * The three head limits are counted as Gunicorn counts its same-named settings:
 * - `limitRequestLine`: the request line without its CRLF (`method SP target SP HTTP/1.1`);
 * - `limitRequestFields`: the number of header field lines;
 * - `limitRequestFieldSize`: one field line with its CRLF, `name: value\r\n`. Node hands over
 *   name and value without the whitespace around the value, so one space after the colon is
 *   counted whatever was sent (Gunicorn counts the whitespace as received).
 */
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { InputStream, TsgiApplication, TsgiMiddleware } from '@carafe/gateway';
import { BodyTooLargeError, closeAfterResponse, keepLifespan, problemJson } from '@carafe/gateway';
import type { Settings } from './settings.js';

export interface Limits {
  requestLine: number;
  fields: number;
  fieldSize: number;
  body: number;
}

export function limitsFrom(settings: Settings): Limits {
  return {
    requestLine: settings.limitRequestLine,
    fields: settings.limitRequestFields,
    fieldSize: settings.limitRequestFieldSize,
    body: settings.limitRequestBody,
  };
}

/**
 * Node's own parser limits and timeouts. `maxHeaderSize` is only a backstop large enough for
 * every request the finer limits accept.
 */
export function nodeServerOptions(settings: Settings): ServerOptions {
  const limits = limitsFrom(settings);
  const line = limits.requestLine || 65536;
  const fields = limits.fields || 1000;
  const fieldSize = limits.fieldSize || 65536;
  const headersTimeout = settings.headerTimeout * 1000;
  const requestTimeout = settings.requestTimeout * 1000;
  const shortest = Math.min(headersTimeout || Infinity, requestTimeout || Infinity);
  return {
    maxHeaderSize: line + fields * (fieldSize + 2) + 4,
    keepAliveTimeout: settings.keepAlive * 1000,
    headersTimeout: requestTimeout ? Math.min(headersTimeout, requestTimeout) : headersTimeout,
    requestTimeout,
    // Node checks the two timeouts on this period; keep it well under the shortest one.
    connectionsCheckingInterval: Number.isFinite(shortest) ? Math.max(100, Math.min(30_000, shortest / 4)) : 30_000,
  } as ServerOptions;
}

/**
 * Node's `maxHeadersCount` drops fields beyond it silently (Host among them, turning the
 * request into a bare 400), so it is lifted and the field count is checked instead;
 * `maxHeaderSize` still bounds the memory a request head can take.
 */
export function applyServerLimits(server: { maxHeadersCount: number | null }): void {
  server.maxHeadersCount = 0;
}

/** Returns nothing when the request is within limits, else the status to answer with and why. */
export function checkRequest(req: IncomingMessage, limits: Limits): [status: number, detail: string] | undefined {
  // method + SP + target + SP + "HTTP/1.1"
  if (limits.requestLine && req.url!.length + req.method!.length + 10 > limits.requestLine) {
    return [414, `The request line exceeds ${limits.requestLine} bytes.`];
  }
  const raw = req.rawHeaders;
  if (limits.fields && raw.length > limits.fields * 2) {
    return [431, `The request has more than ${limits.fields} header fields.`];
  }
  if (limits.fieldSize) {
    // name + ": " + value + CRLF
    const most = limits.fieldSize - 4;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length + raw[i + 1]!.length > most) {
        return [431, `The header field ${raw[i]} exceeds ${limits.fieldSize} bytes.`];
      }
    }
  }
  if (limits.body) {
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > limits.body) {
      return [413, `The request body exceeds ${limits.body} bytes.`];
    }
  }
  return undefined;
}

/**
 * Answers a request that broke a limit, and closes the connection: the rest of it is not read,
 * and requests pipelined behind it do not reach the app.
 */
export function rejectRequest(req: IncomingMessage, res: ServerResponse, status: number, detail: string): void {
  const body = problemJson(status, detail);
  closeAfterResponse(req, res);
  res.writeHead(status, {
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** `input`, throwing {@link BodyTooLargeError} as soon as more than `limit` bytes came through. */
async function* capped(input: InputStream, limit: number): AsyncGenerator<Uint8Array, void, undefined> {
  let seen = 0;
  for await (const chunk of input) {
    seen += chunk.byteLength;
    if (seen > limit) throw new BodyTooLargeError(limit);
    yield chunk;
  }
}

/**
 * The body limit as a middleware. A body of unannounced length (chunked) gets a `tsgi.input`
 * that throws gateway's `BodyTooLargeError` (an `HttpStatusError`, 413) once it grows past
 * `limit`; an announced length over the limit throws it before the app is called. Either way
 * nothing here catches it: a framework answers it with its status, and if it escapes the app
 * the binding answers 413 itself (and closes the connection, whose unread body it cannot trust).
 *
 * `carafe serve` refuses announced lengths before the app already (see {@link checkRequest});
 * the check is repeated so that the middleware is complete on its own.
 */
export function bodyLimit(limit: number): TsgiMiddleware {
  return (app: TsgiApplication): TsgiApplication => {
    // No promise is added: a synchronous app stays synchronous.
    const limited: TsgiApplication = (environ) => {
      if (environ.HTTP_TRANSFER_ENCODING !== undefined) environ['tsgi.input'] = capped(environ['tsgi.input'], limit);
      else if (environ.CONTENT_LENGTH !== undefined && Number(environ.CONTENT_LENGTH) > limit) throw new BodyTooLargeError(limit);
      return app(environ);
    };
    return keepLifespan(limited, app);
  };
}
