/**
 * The TSGI server for the fetch standard (docs/tsgi.md §6, "The fetch binding"): turns a
 * `Request` into an environ and the application's response into a `Response`, so that a TSGI
 * application runs wherever a handler `(request) => Promise<Response>` is what the runtime
 * serves — `Bun.serve`, `Deno.serve`, workerd / Cloudflare Workers, or Node's own `fetch`-style
 * adapters.
 *
 * This module imports no `node:` module: only web-standard globals (`TextEncoder`,
 * `ReadableStream`, `Response`, `AbortSignal`, `setTimeout`, `console`).
 */
import { ClientDisconnected, HttpStatusError, complianceError, describeError } from './errors.js';
import { type BodyIterator, describe, iterate, openToClose } from './body.js';
import { checkResponse, environKey } from './headers.js';
import { defaultPort, splitHost } from './http/host.js';
import { shutdown as runShutdown, startup as runStartup } from './lifespan.js';
import { problemResponse } from './problem.js';
import { RequestAbort, defineSignal, kAbort } from './lazy-signal.js';
import type {
  Chunk,
  Environ,
  ErrorStream,
  HeaderList,
  InputStream,
  TsgiApplication,
  TsgiResponse,
  TsgiResult,
  TsgiVersion,
} from './types.js';

/** A peer address as runtimes report it: Bun's `server.requestIP(req)` (`address`), Deno's `info.remoteAddr` (`hostname`). */
export interface PeerAddress {
  address?: string;
  hostname?: string;
  port?: number | string;
}

/** How {@link toFetchHandler} presents requests to the application. */
export interface FetchHandlerOptions<Context = any> {
  /**
   * `REMOTE_ADDR` (and `REMOTE_PORT`) of a request, from what the runtime passes beside it:
   * Bun: `(request, server) => server.requestIP(request)`; Deno: `(request, info) => info.remoteAddr`;
   * Cloudflare Workers: `(request) => request.headers.get('cf-connecting-ip')`. Without it, `""`.
   */
  remoteAddress?: (request: Request, context: Context) => string | PeerAddress | null | undefined;
  /** `tsgi.errors`. Default: each message to `console.error`. */
  errors?: ErrorStream;
  /** `tsgi.url_scheme`. Default: the scheme of `request.url`. */
  urlScheme?: string;
  /** `SERVER_PROTOCOL`: the fetch API does not tell. Default `"HTTP/1.1"`. */
  serverProtocol?: string;
  /** `tsgi.multithread`. Default: false. */
  multithread?: boolean;
  /** `tsgi.multiprocess`. Default: false. */
  multiprocess?: boolean;
  /** `tsgi.run_once`. Default: false. */
  runOnce?: boolean;
}

/** What {@link toFetchHandler} returns: the handler, plus the application's lifespan. */
export interface FetchHandler<Context = any> {
  (request: Request, context?: Context, ...rest: unknown[]): Promise<Response>;
  /**
   * Runs `app.lifespan.startup` once (§4). The first request does it when nobody did before;
   * call it yourself before serving where the runtime allows (top-level `await` in Bun and
   * Deno), so that a failing startup stops the process instead of failing requests.
   */
  startup(): Promise<void>;
  /**
   * Runs `app.lifespan.shutdown` if startup ran; requests arriving afterwards get a 503 and never
   * reach the application. Call it after the runtime's server stopped (`await server.stop()` in
   * Bun, `await server.shutdown()` in Deno), e.g. on SIGTERM.
   */
  shutdown(): Promise<void>;
}

type ResponseInitBody = ConstructorParameters<typeof Response>[0];

const VERSION: TsgiVersion = Object.freeze([1, 0] as const);
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const DONE_PROMISE = Promise.resolve(DONE);
const encoder = new TextEncoder();
const NOT_YET = Symbol('not yet');
const BAD_TARGET = 'The request target is not valid percent-encoded UTF-8.';

/** The input of a request without a body: shared, always empty. */
const EMPTY_INPUT: InputStream = Object.freeze({
  [Symbol.asyncIterator]: (): AsyncIterator<Uint8Array> => EMPTY_ITERATOR,
});
const EMPTY_ITERATOR: AsyncIterator<Uint8Array> = Object.freeze({ next: () => DONE_PROMISE, return: () => DONE_PROMISE });

const CONSOLE_ERRORS: ErrorStream = Object.freeze({
  write(message: string): void {
    console.error(message.endsWith('\n') ? message.slice(0, -1) : message);
  },
});

interface Settings {
  errors: ErrorStream;
  urlScheme: string | undefined;
  serverProtocol: string;
  multithread: boolean;
  multiprocess: boolean;
  runOnce: boolean;
  remoteAddress: FetchHandlerOptions['remoteAddress'];
}

/**
 * Turns a TSGI application into a fetch-standard handler, `(request, context?) => Promise<Response>`.
 *
 * @example
 * // Bun
 * const handler = toFetchHandler(app, { remoteAddress: (request, server) => server.requestIP(request) });
 * await handler.startup();
 * Bun.serve({ port: 8000, fetch: handler });
 */
export function toFetchHandler<Context = any>(app: TsgiApplication, options: FetchHandlerOptions<Context> = {}): FetchHandler<Context> {
  const settings: Settings = {
    errors: options.errors ?? CONSOLE_ERRORS,
    urlScheme: options.urlScheme,
    serverProtocol: options.serverProtocol ?? 'HTTP/1.1',
    multithread: options.multithread ?? false,
    multiprocess: options.multiprocess ?? false,
    runOnce: options.runOnce ?? false,
    remoteAddress: options.remoteAddress,
  };
  const hasStartup = typeof app.lifespan?.startup === 'function';
  // 'ready' once startup ran (or there is none); a promise while it runs; 'stopped' after shutdown.
  let state: 'idle' | 'ready' | 'stopped' | Promise<void> = hasStartup ? 'idle' : 'ready';
  let started = false;
  let startupError: unknown;
  let startupLogged = false;

  const startup = (): Promise<void> => {
    if (state === 'ready' || state === 'stopped') return Promise.resolve();
    if (state === 'idle') {
      started = true;
      state = runStartup(app).then(
        () => {
          if (state !== 'stopped') state = 'ready';
        },
        (error: unknown) => {
          startupError = error;
          throw error;
        },
      );
    }
    return state;
  };

  const handler = ((request: Request, context?: Context): Promise<Response> => {
    if (state === 'ready') return new FetchExchange(app, settings, request, context).run();
    if (state === 'stopped') return Promise.resolve(problem(request, 503, 'The application has shut down.'));
    return startup().then(
      () =>
        state === 'stopped'
          ? problem(request, 503, 'The application has shut down.')
          : new FetchExchange(app, settings, request, context).run(),
      () => {
        // §4: an application whose startup failed is not served.
        if (!startupLogged) {
          startupLogged = true;
          log(settings.errors, 'lifespan startup', startupError);
        }
        return problem(request, 500);
      },
    );
  }) as FetchHandler<Context>;
  handler.startup = startup;
  handler.shutdown = async () => {
    const previous = state;
    state = 'stopped';
    if (!started) return;
    started = false;
    if (typeof previous !== 'string') await previous.catch(() => {});
    if (startupError === undefined) await runShutdown(app);
  };
  return handler;
}

function problem(request: Request, status: number, detail?: string): Response {
  const response = problemResponse(status, detail);
  return new Response(request.method === 'HEAD' ? null : response.body[0], { status, headers: response.headers });
}

function log(errors: ErrorStream, context: string, error: unknown): void {
  try {
    errors.write(describeError(context, error));
  } catch {
    // An error stream that itself fails has nowhere left to report to.
  }
}

/** `tsgi.signal` for a fetch request: follows `request.signal` until the response is complete, and never after (§2.7). */
class FetchAbort extends RequestAbort {
  private readonly request: Request;
  private linked = false;
  private complete = false;

  constructor(request: Request) {
    super();
    this.request = request;
  }

  override get signal(): AbortSignal {
    const signal = super.signal;
    if (!this.linked) this.link();
    return signal;
  }

  /** Starts following `request.signal` (when the application reads `tsgi.signal`, or a body streams). */
  link(): void {
    if (this.linked || this.complete) return;
    this.linked = true;
    let source: AbortSignal | undefined;
    try {
      source = this.request.signal;
    } catch {
      return;
    }
    if (source === undefined || source === null) return;
    if (source.aborted) this.abort();
    else source.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The client went away: abort, unless the response already completed (§2.7). */
  override abort(): void {
    if (!this.complete) super.abort();
  }

  /** The response completed: the signal is never aborted afterwards. */
  finish(): void {
    this.complete = true;
    if (this.linked) this.request.signal?.removeEventListener('abort', this.onAbort);
  }

  readonly onAbort = (): void => {
    this.abort();
    this.onClientGone?.();
  };

  /** Set while a body streams: the client went away. */
  onClientGone: (() => void) | undefined;
}

/** `tsgi.input` over `request.body`: read on demand, chunk by chunk. */
class FetchInput implements InputStream, AsyncIterator<Uint8Array> {
  private readonly body: ReadableStream<Uint8Array>;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private stopped = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.body = body;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.stopped) return DONE;
    this.reader ??= this.body.getReader();
    const reader = this.reader;
    for (;;) {
      let step: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
      try {
        step = await reader.read();
      } catch (error) {
        this.stopped = true;
        throw new ClientDisconnected(error);
      }
      if (step.done) {
        this.stopped = true;
        return DONE;
      }
      const value = step.value as unknown;
      const chunk =
        value instanceof Uint8Array
          ? value
          : ArrayBuffer.isView(value)
            ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
            : new Uint8Array(value as ArrayBuffer);
      if (chunk.byteLength > 0) return { value: chunk, done: false };
    }
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.stopped = true;
    return DONE_PROMISE;
  }
}

type Iter = BodyIterator;

/** One request/response exchange: the environ in, the checked response out (§6.1). */
class FetchExchange {
  private readonly app: TsgiApplication;
  private readonly settings: Settings;
  private readonly request: Request;
  private readonly context: unknown;
  private readonly abort: FetchAbort;
  private environ: Environ | undefined;
  private noBody: boolean;
  private declared = -1;
  private sent = 0;
  private iterator: Iter | undefined;
  /** return() was called (or there is nothing to return). */
  private returned = false;
  private cancelled = false;

  constructor(app: TsgiApplication, settings: Settings, request: Request, context: unknown) {
    this.app = app;
    this.settings = settings;
    this.request = request;
    this.context = context;
    this.abort = new FetchAbort(request);
    this.noBody = request.method === 'HEAD';
  }

  async run(): Promise<Response> {
    const environ = this.buildEnviron();
    if (environ === undefined) return this.problem(400, BAD_TARGET);
    this.environ = environ;
    let response: TsgiResponse;
    try {
      const result: TsgiResult = this.app(environ);
      response = isPromise(result) ? await result : result;
    } catch (error) {
      return this.failed(error);
    }
    try {
      return await this.accept(response);
    } catch (error) {
      return this.failed(error);
    }
  }

  /** The environ of §2.2 from the request; `undefined` when the path does not decode (→ 400). */
  private buildEnviron(): Environ | undefined {
    const request = this.request;
    const settings = this.settings;
    const url = request.url;
    const colon = url.indexOf(':');
    const scheme = settings.urlScheme ?? url.slice(0, colon).toLowerCase();
    // An absolute URL as the runtime serialized it: scheme://authority/path?query (no fragment).
    const authorityStart = url.startsWith('//', colon + 1) ? colon + 3 : colon + 1;
    let pathStart = url.indexOf('/', authorityStart);
    const queryMark = url.indexOf('?', authorityStart);
    if (pathStart === -1 || (queryMark !== -1 && queryMark < pathStart)) pathStart = queryMark === -1 ? url.length : queryMark;
    const hash = url.indexOf('#', pathStart);
    let rawUri = url.slice(pathStart, hash === -1 ? url.length : hash);
    if (rawUri === '' || rawUri.charCodeAt(0) === 63 /* ? */) rawUri = `/${rawUri}`;
    const mark = rawUri.indexOf('?');
    let path = mark === -1 ? rawUri : rawUri.slice(0, mark);
    const query = mark === -1 ? '' : rawUri.slice(mark + 1);
    let bad = false;
    if (path.includes('%')) {
      try {
        path = decodeURIComponent(path);
      } catch {
        bad = true;
      }
    }
    let remoteAddress = '';
    let remotePort = '';
    if (settings.remoteAddress !== undefined) {
      const peer = settings.remoteAddress(request, this.context as never);
      if (typeof peer === 'string') remoteAddress = peer;
      else if (peer != null) {
        remoteAddress = peer.address ?? peer.hostname ?? '';
        remotePort = peer.port === undefined ? '' : `${peer.port}`;
      }
    }
    const body = request.body;
    const environ = {
      REQUEST_METHOD: request.method,
      SCRIPT_NAME: '',
      PATH_INFO: path,
      QUERY_STRING: query,
      SERVER_NAME: '',
      SERVER_PORT: '',
      SERVER_PROTOCOL: settings.serverProtocol,
      REMOTE_ADDR: remoteAddress,
      REMOTE_PORT: remotePort,
      RAW_URI: rawUri,
      'tsgi.version': VERSION,
      'tsgi.url_scheme': scheme,
      'tsgi.input': body === null ? EMPTY_INPUT : new FetchInput(body),
      'tsgi.errors': settings.errors,
      'tsgi.multithread': settings.multithread,
      'tsgi.multiprocess': settings.multiprocess,
      'tsgi.run_once': settings.runOnce,
      [kAbort]: this.abort,
    } as Omit<Environ, 'tsgi.signal'> as Environ;
    defineSignal(environ);

    request.headers.forEach((value, name) => {
      const key = environKey(name);
      if (key === '') return;
      // Headers joins a repeated field with ", " (the Fetch standard); Cookie pairs are joined
      // with "; " (RFC 6265 §5.4). A cookie-octet cannot hold ", ", so this only undoes the join.
      environ[key] = key === 'HTTP_COOKIE' && value.includes(', ') ? value.replaceAll(', ', '; ') : value;
    });

    const hostPart = environ.HTTP_HOST ?? url.slice(authorityStart, pathStart);
    const host = hostPart === '' ? undefined : splitHost(hostPart);
    if (host !== undefined) {
      environ.SERVER_NAME = host.name;
      environ.SERVER_PORT = host.port ?? defaultPort(scheme);
    }
    if (bad) return undefined;
    return environ;
  }

  /** Checks the response (§6.2) and turns it into a `Response` (§6.3). */
  private async accept(response: TsgiResponse): Promise<Response> {
    if (response === null || typeof response !== 'object' || Array.isArray(response)) {
      throw complianceError(
        `§3.2 application must return a response object {status, headers, body}, got ${describe(response)}${Array.isArray(response) ? ' (a body, not a response)' : ''}`,
      );
    }
    const { status, headers, body } = response;
    const declared = checkResponse(status, headers);
    if (typeof declared === 'string') {
      // Refused, but the body may hold something (a file, a cursor): it still gets its return() (§3.4).
      this.iterator = openToClose(body);
      throw complianceError(declared);
    }
    this.declared = declared;
    this.noBody = this.noBody || status === 204 || status === 304;
    if (Array.isArray(body)) return this.whole(status, headers, body as Chunk[]);
    const iterator = iterate(body);
    this.iterator = iterator;
    if (this.gone()) return this.dropped();
    if (this.noBody) {
      // HEAD, 204, 304: nothing of the body is sent, so it is returned at once (§6.3).
      await this.finish();
      return this.respond(status, headers, null);
    }
    // Hold the head until the first chunk (§6.3), so that a body failing at once still gets a clean 500.
    let step = await iterator.next();
    let first = step.done ? undefined : toBytes(step.value);
    while (first !== undefined && first.byteLength === 0) {
      step = await iterator.next();
      first = step.done ? undefined : toBytes(step.value);
    }
    if (first === undefined) {
      await this.finish();
      return this.whole(status, headers, []);
    }
    // Peek at the next chunk: a body that turns out to be a single chunk is sent with a
    // Content-Length. An async body gets until the next turn of the event loop to say so.
    const next = iterator.next();
    const peeked = isPromiseLike(next) ? await Promise.race([next, nextTurn()]) : next;
    if (this.gone()) return this.dropped();
    if (peeked === NOT_YET) return this.stream(status, headers, first, next as Promise<IteratorResult<Chunk>>);
    if (peeked.done) {
      await this.finish();
      return this.whole(status, headers, [first]);
    }
    return this.stream(status, headers, first, Promise.resolve(peeked));
  }

  /** A body whose every chunk is known: one buffer, with its Content-Length. */
  private whole(status: number, headers: HeaderList, chunks: Chunk[]): Response {
    let length = 0;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < chunks.length; i++) {
      const bytes = toBytes(chunks[i]);
      length += bytes.byteLength;
      parts.push(bytes);
    }
    if (this.declared !== -1 && this.declared !== length && !(this.noBody && length === 0)) {
      throw complianceError(`§3.7 Content-Length is ${this.declared} but the body has ${length} bytes`);
    }
    let sendHeaders = headers;
    if (this.declared === -1 && status !== 204 && status !== 304) {
      sendHeaders = headers.slice();
      sendHeaders.push(['Content-Length', `${length}`]);
    }
    this.abort.finish();
    if (this.noBody || length === 0) return this.respond(status, sendHeaders, null);
    return this.respond(status, sendHeaders, parts.length === 1 ? parts[0]! : concat(parts, length));
  }

  /** Streams the rest of the body with backpressure: `pull` asks the iterator for one chunk at a time. */
  private stream(status: number, headers: HeaderList, first: Uint8Array, second: Promise<IteratorResult<Chunk>>): Response {
    const iterator = this.iterator!;
    let pending: Promise<IteratorResult<Chunk>> | undefined = second;
    // Awaited by the first pull; a client gone before it must not leave the rejection unhandled.
    second.catch(() => {});
    this.checkLength(first);
    this.abort.onClientGone = () => void this.cancel();
    this.abort.link();
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.sent += first.byteLength;
          controller.enqueue(first);
        },
        pull: async (controller) => {
          try {
            for (;;) {
              const step = pending ?? iterator.next();
              pending = undefined;
              const result = await step;
              if (this.cancelled) return;
              if (result.done) break;
              const bytes = toBytes(result.value);
              if (bytes.byteLength === 0) continue;
              this.checkLength(bytes);
              this.sent += bytes.byteLength;
              controller.enqueue(bytes);
              return;
            }
            if (this.declared !== -1 && this.sent < this.declared) {
              throw complianceError(`§3.7 body ended after ${this.sent} of its Content-Length of ${this.declared} bytes`);
            }
            this.abort.finish();
            controller.close();
            await this.finish();
          } catch (error) {
            if (this.cancelled) return;
            // After the head, an error can only cut the response short (§3.6).
            if (!(error instanceof HttpStatusError) && !(error instanceof ClientDisconnected)) this.log(error);
            this.abort.finish();
            controller.error(error);
            await this.finish();
          }
        },
        cancel: () => this.cancel(),
      },
      { highWaterMark: 0 },
    );
    return this.respond(status, headers, body);
  }

  private checkLength(bytes: Uint8Array): void {
    if (this.declared !== -1 && this.sent + bytes.byteLength > this.declared) {
      throw complianceError(`§3.7 body is longer than its Content-Length of ${this.declared} bytes`);
    }
  }

  /** The client went away while the body streamed: abort the signal and return() at once (§3.4, §6.5). */
  private cancel(): Promise<void> {
    if (this.cancelled) return Promise.resolve();
    this.cancelled = true;
    this.abort.abort();
    this.abort.finish();
    return this.finish();
  }

  private gone(): boolean {
    return this.request.signal?.aborted === true;
  }

  /** The client left before the response: its body is only returned (§6.5). */
  private async dropped(): Promise<Response> {
    this.abort.abort();
    await this.finish();
    return new Response(null, { status: 503 });
  }

  private respond(status: number, headers: HeaderList, body: ResponseInitBody): Response {
    return new Response(body, { status, headers });
  }

  /** The application failed before the response (§3.6): its status error's problem, or a 500. */
  private async failed(error: unknown): Promise<Response> {
    await this.finish();
    this.abort.finish();
    if (error instanceof HttpStatusError) return this.problem(error.status, error.message);
    if (!(error instanceof ClientDisconnected)) this.log(error);
    return this.problem(500);
  }

  private problem(status: number, detail?: string): Response {
    this.abort.finish();
    const response = problemResponse(status, detail);
    return this.respond(status, response.headers, this.request.method === 'HEAD' ? null : response.body[0]);
  }

  /** Calls the iterator's `return()` exactly once (§3.4); its error is logged. */
  private async finish(): Promise<void> {
    if (this.returned) return;
    this.returned = true;
    const iterator = this.iterator;
    if (iterator === undefined || typeof iterator.return !== 'function') return;
    try {
      await iterator.return();
    } catch (error) {
      this.log(error);
    }
  }

  private log(error: unknown): void {
    const environ = this.environ;
    log(this.settings.errors, environ === undefined ? 'request' : `${environ.REQUEST_METHOD} ${environ.RAW_URI}`, error);
  }
}

function isPromise(result: TsgiResult): result is Promise<TsgiResponse> {
  return result != null && typeof (result as Partial<Promise<TsgiResponse>>).then === 'function';
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value != null && typeof (value as Partial<PromiseLike<T>>).then === 'function';
}

function nextTurn(): Promise<typeof NOT_YET> {
  return new Promise((resolve) => setTimeout(resolve, 0, NOT_YET));
}

function toBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw complianceError(`§3.2 body chunk must be a Uint8Array or a string, got ${describe(chunk)}`);
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
