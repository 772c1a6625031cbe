/**
 * The other direction of the fetch binding: a fetch-standard handler (a Hono app's `fetch`,
 * itty-router, a fetch-based proxy or auth handler) as a TSGI application, so that it can be
 * mounted under a Carafe app or `carafe serve`'s dispatcher.
 *
 * Imports no `node:` module.
 */
import { HOP_BY_HOP } from './headers.js';
import type { Chunk, Environ, HeaderList, InputStream, TsgiApplication, TsgiResponse } from './types.js';

/** A fetch-standard handler: what `Bun.serve`, `Deno.serve` and Workers call, and what Hono's `app.fetch` is. */
export type FetchStandardHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link fromFetchHandler}. */
export interface FromFetchOptions {
  /**
   * Give the handler a URL without the mount point (`SCRIPT_NAME`), as Hono's `app.mount` does, for
   * a handler written to be served at the root. Default false: the URL the client asked for (§2.6),
   * so a handler mounted under `/legacy` sees `/legacy/...` (a Hono app then uses `basePath('/legacy')`).
   */
  stripScriptName?: boolean;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const NO_BODY_METHODS = new Set(['GET', 'HEAD']);
// Hop-by-hop request fields (and Expect, which the TSGI server already answered) are not the handler's.
const DROPPED_REQUEST_HEADERS = new Set([...HOP_BY_HOP, 'expect']);
const NO_CHUNKS: Chunk[] = [];
// pchar allows these unescaped (RFC 3986 §3.3); encodeURIComponent escapes them.
const PCHAR_ESCAPES = /%(?:3A|40|24|26|2B|2C|3B|3D)/g;

/**
 * Turns a fetch-standard handler into a TSGI application: the environ becomes a `Request`
 * (method, the URL of §2.6, the headers, `tsgi.input` as a streamed body, `tsgi.signal`), and the
 * handler's `Response` becomes the TSGI response (status, headers without hop-by-hop fields,
 * each `Set-Cookie` kept apart, the body streamed; `return()` cancels it).
 *
 * @example
 * import { Hono } from 'hono';
 * const legacy = new Hono().basePath('/legacy');
 * legacy.get('/hello', (c) => c.text('hi'));
 * export const app = dispatcher({ '/legacy': fromFetchHandler(legacy.fetch) })(carafeApp);
 */
export function fromFetchHandler(handler: FetchStandardHandler, options: FromFetchOptions = {}): TsgiApplication {
  const strip = options.stripScriptName ?? false;
  return async (environ) => {
    const request = toRequest(environ, strip);
    const response = await handler(request);
    return fromResponse(response);
  };
}

/** The `Request` an environ describes. */
function toRequest(environ: Environ, stripScriptName: boolean): Request {
  const method = environ.REQUEST_METHOD;
  const headers = new Headers();
  for (const key in environ) {
    let name: string;
    if (key.startsWith('HTTP_')) name = key.slice(5).toLowerCase().replaceAll('_', '-');
    else if (key === 'CONTENT_TYPE') name = 'content-type';
    else if (key === 'CONTENT_LENGTH') name = 'content-length';
    else continue;
    const value = environ[key];
    if (typeof value !== 'string' || DROPPED_REQUEST_HEADERS.has(name)) continue;
    headers.append(name, value);
  }
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: environ['tsgi.signal'] };
  if (!NO_BODY_METHODS.has(method) && hasBody(environ)) {
    init.body = inputStream(environ['tsgi.input']);
    init.duplex = 'half';
  }
  return new Request(requestUrl(environ, stripScriptName), init);
}

/** Does the request have a body? (RFC 9112 §6.3: only Content-Length or Transfer-Encoding give one.) */
function hasBody(environ: Environ): boolean {
  const length = environ.CONTENT_LENGTH;
  return (length !== undefined && length !== '' && length !== '0') || environ.HTTP_TRANSFER_ENCODING !== undefined;
}

/** The URL the client asked for (§2.6), or without SCRIPT_NAME when the handler serves a mount's root. */
function requestUrl(environ: Environ, stripScriptName: boolean): string {
  const scheme = environ['tsgi.url_scheme'] === 'https' ? 'https' : 'http';
  const path = encodePath((stripScriptName ? '' : environ.SCRIPT_NAME) + environ.PATH_INFO) || '/';
  const query = environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : '';
  const host = environ.HTTP_HOST;
  if (host !== undefined && host !== '') {
    const url = `${scheme}://${host}${path}${query}`;
    if (URL.canParse(url)) return url;
  }
  const port = environ.SERVER_PORT;
  const authority = environ.SERVER_NAME === '' ? 'localhost' : port === '' ? environ.SERVER_NAME : `${environ.SERVER_NAME}:${port}`;
  return `${scheme}://${authority}${path}${query}`;
}

function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(PCHAR_ESCAPES, decodeURIComponent))
    .join('/');
}

/** `tsgi.input` as a pull-based stream: one `next()` per chunk the handler reads; cancel is `return()`. */
function inputStream(input: InputStream): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        iterator ??= input[Symbol.asyncIterator]();
        const step = await iterator.next();
        if (step.done) controller.close();
        else controller.enqueue(step.value);
      },
      async cancel() {
        await iterator?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The TSGI response of a fetch `Response`. */
function fromResponse(response: Response): TsgiResponse {
  const status = response.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    void response.body?.cancel().catch(() => {});
    throw new TypeError(
      `fromFetchHandler: the handler answered with status ${status} (a network error or an interim response), not a final status`,
    );
  }
  const headers: HeaderList = [];
  response.headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (lower === 'set-cookie' || HOP_BY_HOP.has(lower)) return;
    if (lower === 'content-length' && status === 204) return;
    headers.push([name, value]);
  });
  for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
  const stream = response.body;
  return { status, headers, body: stream === null ? NO_CHUNKS : new StreamBody(stream) };
}

/** A response's stream as a TSGI body: read on demand; `return()` cancels what is left. */
class StreamBody implements AsyncIterable<Chunk>, AsyncIterator<Chunk> {
  private readonly stream: ReadableStream<Uint8Array>;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private closed = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.stream = stream;
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk> {
    return this;
  }

  async next(): Promise<IteratorResult<Chunk>> {
    if (this.closed) return DONE;
    this.reader ??= this.stream.getReader();
    const reader = this.reader;
    const step = await reader.read();
    if (step.done) {
      this.closed = true;
      return DONE;
    }
    const value = step.value as unknown;
    if (value instanceof Uint8Array) return { value, done: false };
    if (ArrayBuffer.isView(value)) return { value: new Uint8Array(value.buffer, value.byteOffset, value.byteLength), done: false };
    // Some handlers enqueue strings into their streams; TSGI takes those as they are.
    return { value: value as Chunk, done: false };
  }

  async return(): Promise<IteratorResult<Chunk>> {
    if (!this.closed) {
      this.closed = true;
      try {
        await (this.reader ?? this.stream).cancel();
      } catch {
        // Cancelling a stream that already failed has nothing left to release.
      }
    }
    return DONE;
  }
}
