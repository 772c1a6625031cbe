/**
 * What runs per request on node:http, in one file: the `'request'` listener and {@link Binding}
 * (environ, application call; binding.ts sets servers up around it), and the {@link Exchange} —
 * checking the response the application returned (one `checkResponse` call into headers.ts)
 * and sending it (docs/tsgi.md §3, §6).
 *
 * The common case — a body that is an array of one chunk — goes out as one
 * `writeHead` + `end(chunk)` with a Content-Length, which Node sends in one write.
 * Other bodies are pulled chunk by chunk with backpressure.
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientDisconnected, HttpStatusError, complianceError, describeError } from './errors.js';
import { type BodyIterator, describe, iterate, openToClose } from './body.js';
import { checkResponse } from './headers.js';
import { closeAfterResponse, kClosing } from './connection.js';
import { EMPTY_INPUT, RequestBody, hasBody } from './input.js';
import { RequestRefused, buildEnviron, type EnvironDefaults } from './environ.js';
import type { Chunk, Environ, ErrorStream, HeaderList, ResponseBody, TsgiApplication, TsgiResponse, TsgiResult } from './types.js';
import { problemResponse } from './problem.js';

/** The socket's request after which the connection closes (connection.ts). */
type OrphanSocket = { [kClosing]?: IncomingMessage };

/** How the binding presents requests to the application. */
export interface BindingOptions {
  /** `tsgi.errors`. Default: `process.stderr`. */
  errors?: ErrorStream;
  /** `tsgi.multiprocess`. Default: false. */
  multiprocess?: boolean;
  /** `tsgi.multithread`. Default: false. */
  multithread?: boolean;
  /** `tsgi.run_once`. Default: false. */
  runOnce?: boolean;
  /** `tsgi.url_scheme`. Default: `"http"`. */
  urlScheme?: string;
  /** Called exactly once per request, after the response finished or was aborted. */
  onFinished?: (record: FinishedRecord) => void;
}

/** What {@link BindingOptions.onFinished} receives, once per request. */
export interface FinishedRecord {
  environ: Environ;
  /** The status code sent (500 when the binding replaced a failed response). */
  status: number;
  /** The headers sent, as the application gave them (without those Node adds). */
  headers: HeaderList;
  /** Body bytes handed to the connection (0 for HEAD, 204, 304). */
  bytesSent: number;
  /** `process.hrtime.bigint()` when the request arrived. */
  startTime: bigint;
  /** The application's error, if it failed. */
  error?: unknown;
  /** True when the response did not complete: the client went away or the connection was cut. */
  aborted: boolean;
}

/** What every exchange of one binding shares. */
export interface ExchangeSettings {
  errors: ErrorStream;
  onFinished: ((record: FinishedRecord) => void) | undefined;
}

const PROBLEM_500 = problemResponse(500);
const RESOLVED = Promise.resolve();
const NO_HEADERS: HeaderList = [];
const kExchange = Symbol('tsgi.exchange');
/**
 * The most of an unread request body (by its Content-Length) that Node may read and discard
 * after the response to keep the connection open; a longer or chunked one closes it instead.
 */
const DRAIN_LIMIT = 256 * 1024;
/** Resolves to this when the second chunk of a stream is not ready by the next turn of the event loop. */
const NOT_YET = Symbol('not yet');

type Iter = BodyIterator;

export class Exchange {
  environ!: Environ;
  /** `tsgi.input`, when the request has a body. */
  input: RequestBody | undefined = undefined;

  private readonly settings: ExchangeSettings;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private readonly startTime: bigint;
  /** Aborts `tsgi.signal` when the client goes away first. */
  readonly abort = new AbortController();
  private status = 0;
  private headers: HeaderList | undefined;
  private declared = -1;
  private noBody: boolean;
  private bytesSent = 0;
  private error: unknown = undefined;
  private iterator: Iter | undefined;
  /** 0: not closed, 1: return() under way, 2: return() done (or there is none). */
  private iteratorState = 0;
  private closed = false;
  private bodyDone = false;
  private cutOff = false;
  private reported = false;

  constructor(settings: ExchangeSettings, req: IncomingMessage, res: ServerResponse) {
    this.settings = settings;
    this.req = req;
    this.res = res;
    this.noBody = req.method === 'HEAD';
    this.startTime = settings.onFinished === undefined ? 0n : process.hrtime.bigint();
  }

  /**
   * Listens for Node's `'close'`, which says the response finished or the client went away.
   * Called by the binding unless the response already went out whole while the application
   * ran and nobody waits for its {@link FinishedRecord}: then there is nothing left to hear.
   */
  watchClose(): void {
    (this.res as ServerResponse & { [kExchange]?: Exchange })[kExchange] = this;
    this.res.on('close', onResponseClose);
  }

  /** The whole response was handed to Node and no body iterator is left to close. */
  get settled(): boolean {
    return this.bodyDone && this.iterator === undefined && this.res.writableEnded;
  }

  /** Checks and sends the response the application returned (§3.2, §6.2). Never throws. */
  send(response: TsgiResponse): void {
    try {
      this.accept(response);
    } catch (error) {
      // Only an exotic response gets here (a getter that throws, a Proxy): still a 500, never
      // an exception escaping into Node's request listener or an unhandled rejection.
      this.fail(error);
    }
  }

  private accept(response: TsgiResponse): void {
    if (response === null || typeof response !== 'object' || Array.isArray(response)) {
      this.fail(
        complianceError(
          `§3.2 application must return a response object {status, headers, body}, got ${describe(response)}${Array.isArray(response) ? ' (a body, not a response)' : ''}`,
        ),
      );
      return;
    }
    const { status, headers, body } = response;
    // The first rule broken, or (all well) the declared Content-Length, -1 for none: one call for
    // what were three (statusProblem, headerListProblem, declaredLength) into headers.ts.
    const declared = checkResponse(status, headers);
    if (typeof declared === 'string') {
      // Refused, but the body may hold something (a file, a cursor): it still gets its return() (§3.4).
      this.iterator = openToClose(body);
      this.fail(complianceError(declared));
      return;
    }
    this.status = status;
    this.headers = headers;
    this.declared = declared;
    this.noBody = this.noBody || status === 204 || status === 304;
    if (Array.isArray(body) && !this.closed) {
      this.sendWhole(body as Chunk[]);
      return;
    }
    let iterator: Iter;
    try {
      iterator = iterate(body);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.iterator = iterator;
    if (this.closed) void this.finishBody();
    else void this.pump(iterator);
  }

  /**
   * The application failed (§3.6). Before anything was sent: a 500, or the status an
   * {@link HttpStatusError} carries (a limit the server enforced, not the application's fault,
   * so not logged); after: the connection is cut. A client that went away is not logged either.
   */
  fail(error: unknown): void {
    this.error = error;
    const clients = error instanceof HttpStatusError;
    if (!clients && !(error instanceof ClientDisconnected)) this.log(error);
    const res = this.res;
    if (!this.closed) {
      if (res.headersSent) this.cutConnection();
      else if (clients) {
        // The body was not read to its end, so close rather than read on (or discard) what the
        // refused client sends. Whether the parser had already reached that end depends on how
        // the bytes arrived, so it does not decide: a body limit closes the connection either way.
        if (hasBody(this.req) && this.input?.ended !== true) closeAfterResponse(this.req, res);
        this.respondWith(problemResponse(error.status, error.message));
      } else this.respondWith(PROBLEM_500);
    }
    void this.finishBody();
  }

  /**
   * The binding refused the request before the application (docs/tsgi.md §6.7): answer `status`
   * with a problem and close the connection, whose later bytes are not trusted.
   */
  refuse(status: number, detail: string): void {
    closeAfterResponse(this.req, this.res);
    this.respondWith(problemResponse(status, detail));
    this.bodyDone = true;
  }

  /**
   * The head is about to be sent while the request body is still arriving and the application
   * is not reading it (it answered first, or stopped, e.g. at a body limit). Node would read and
   * discard the rest to keep the connection; that is bounded to a small announced body, and
   * anything else — a chunked body, a large one — closes the connection instead (RFC 9112 §9.6,
   * docs/tsgi.md §6.4), so a client cannot make the server read on after it answered.
   */
  private beforeHead(): void {
    const input = this.input;
    if (input === undefined || input.reading || this.req.complete) return;
    const length = this.environ.CONTENT_LENGTH;
    if (length === undefined || !(Number(length) <= DRAIN_LIMIT)) closeAfterResponse(this.req, this.res);
  }

  private respondWith(problem: TsgiResponse & { body: [Uint8Array] }): void {
    const status = problem.status;
    const noBody = this.noBodyFor(status);
    this.status = status;
    this.headers = problem.headers;
    this.bytesSent = noBody ? 0 : problem.body[0].byteLength;
    this.beforeHead();
    this.res.writeHead(status, problem.headers);
    this.res.end(noBody ? undefined : problem.body[0]);
  }

  private noBodyFor(status: number): boolean {
    return this.req.method === 'HEAD' || status === 204 || status === 304;
  }

  /** A body whose every chunk is known now: one head, one write, exact Content-Length. */
  private sendWhole(chunks: Chunk[]): void {
    const headers = this.headers!;
    let length = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      if (typeof chunk === 'string') length += Buffer.byteLength(chunk);
      else if (chunk instanceof Uint8Array) length += chunk.byteLength;
      else {
        this.fail(complianceError(`§3.2 body chunk must be a Uint8Array or a string, got ${describe(chunk)}`));
        return;
      }
    }
    if (this.declared !== -1 && this.declared !== length && !(this.noBody && length === 0)) {
      this.fail(complianceError(`§3.7 Content-Length is ${this.declared} but the body has ${length} bytes`));
      return;
    }
    const res = this.res as LengthResponse;
    const noBody = this.noBody;
    const sendLength = this.declared === -1 && !(this.status === 204 || this.status === 304);
    this.beforeHead();
    // Node writes the Content-Length itself from `_contentLength` when the list has none: what
    // its own `res.end(body)` does, and the field its header parsing fills from a Content-Length.
    // A header line added to a copy of the list cost ~1,500 instructions more per response
    // (the copy, the string, and Node's name and value checks and lower-casing; callgrind).
    // Only where Node would otherwise choose chunked encoding (an HTTP/1.1 request with a body
    // to send); HEAD and HTTP/1.0 responses take the copy.
    const nodeWritesLength = sendLength && !noBody && res.useChunkedEncodingByDefault;
    if (nodeWritesLength) res._contentLength = length;
    res.writeHead(this.status, sendLength && !nodeWritesLength ? withLength(headers, length) : headers);
    this.bodyDone = true;
    if (noBody || length === 0) {
      res.end();
    } else if (chunks.length === 1) {
      this.bytesSent = length;
      res.end(chunks[0]);
    } else {
      this.bytesSent = length;
      // Corked, so head and chunks leave in one writev.
      res.cork();
      for (let i = 0; i < chunks.length; i++) res.write(chunks[i]!);
      res.end();
      res.uncork();
    }
    // Only onFinished needs a report, and 'close' has not come yet: a call saved per request without one.
    if (this.settings.onFinished !== undefined) this.report();
  }

  private beginStream(): void {
    this.beforeHead();
    this.res.writeHead(this.status, this.headers);
  }

  private writeChunk(chunk: Chunk): Promise<void> {
    let length: number;
    if (typeof chunk === 'string') length = Buffer.byteLength(chunk);
    else if (chunk instanceof Uint8Array) length = chunk.byteLength;
    else throw complianceError(`§3.2 body chunk must be a Uint8Array or a string, got ${describe(chunk)}`);
    if (length === 0 || this.noBody || this.closed) return RESOLVED;
    if (this.declared !== -1 && this.bytesSent + length > this.declared) {
      throw complianceError(`§3.7 body is longer than its Content-Length of ${this.declared} bytes`);
    }
    this.bytesSent += length;
    if (this.res.write(chunk)) return RESOLVED;
    return drained(this.res);
  }

  /** Pulls the body one chunk at a time; `return()` is called at the end whatever happens (§3.4). */
  private async pump(iterator: Iter): Promise<void> {
    try {
      let step = await iterator.next();
      if (step.done) return this.sendWhole([]);
      // Peek at the second chunk: if the body turns out to be a single chunk, it is
      // sent with a Content-Length. An async body gets until the next turn of the event
      // loop to say so; after that the first chunk goes out and streaming begins.
      const first = step.value;
      const second = iterator.next();
      const peeked = isPromiseLike(second) ? await Promise.race([second, nextTurn()]) : second;
      if (peeked !== NOT_YET && peeked.done) return this.sendWhole([first]);
      if (this.closed) return;
      this.beginStream();
      await this.writeChunk(first);
      step = peeked === NOT_YET ? await second : peeked;
      while (!step.done && !this.closed) {
        await this.writeChunk(step.value);
        if (this.closed) break;
        step = await iterator.next();
      }
      if (this.closed) return;
      if (this.declared !== -1 && this.bytesSent < this.declared && !this.noBody) {
        throw complianceError(`§3.7 body ended after ${this.bytesSent} of its Content-Length of ${this.declared} bytes`);
      }
      this.res.end();
    } catch (error) {
      this.fail(error);
    } finally {
      await this.finishBody();
    }
  }

  /** Calls the iterator's `return()` once, then marks the body done. */
  private async finishBody(): Promise<void> {
    this.bodyDone = true;
    const iterator = this.iterator;
    if (iterator !== undefined && this.iteratorState === 0) {
      this.iteratorState = 1;
      if (typeof iterator.return === 'function') {
        try {
          await iterator.return();
        } catch (error) {
          this.log(error);
        }
      }
      this.iteratorState = 2;
    }
    this.report();
  }

  private cutConnection(): void {
    this.cutOff = true;
    this.res.destroy();
  }

  /** Node closed the response: finished, or the connection went away first. */
  handleClose(): void {
    this.closed = true;
    if (!this.res.writableFinished) {
      this.cutOff = true;
      this.abort.abort();
      // Unblock a body waiting in next(): return() now, not after its next chunk.
      if (this.iterator !== undefined && this.iteratorState === 0) void this.finishBody();
    }
    this.report();
  }

  private report(): void {
    if (this.reported || !this.closed || !this.bodyDone || (this.iterator !== undefined && this.iteratorState !== 2)) return;
    this.reported = true;
    const onFinished = this.settings.onFinished;
    if (onFinished === undefined) return;
    try {
      onFinished({
        environ: this.environ,
        status: this.status,
        headers: this.headers ?? NO_HEADERS,
        bytesSent: this.bytesSent,
        startTime: this.startTime,
        error: this.error,
        aborted: this.cutOff,
      });
    } catch (error) {
      this.log(error);
    }
  }

  private log(error: unknown): void {
    const environ = this.environ;
    const context = environ === undefined ? 'request' : `${environ.REQUEST_METHOD} ${environ.RAW_URI}`;
    try {
      this.settings.errors.write(describeError(context, error));
    } catch {
      // An error stream that itself fails has nowhere left to report to.
    }
  }
}

function onResponseClose(this: ServerResponse & { [kExchange]?: Exchange }): void {
  this[kExchange]?.handleClose();
}

/** A ServerResponse's fields that decide how Node frames a body it has no Content-Length header for. */
type LengthResponse = ServerResponse & { useChunkedEncodingByDefault: boolean; _contentLength: number | null };

/** `headers` and a Content-Length, in a new list (the application's may be shared or frozen). */
function withLength(headers: HeaderList, length: number): HeaderList {
  // Allocated once at its final size: slice + push grew it again, and concat is a slow C++ builtin
  // (~120 and ~600 instructions more, callgrind).
  const count = headers.length;
  const copy: HeaderList = new Array(count + 1);
  for (let i = 0; i < count; i++) copy[i] = headers[i]!;
  copy[count] = ['Content-Length', `${length}`];
  return copy;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>>).then === 'function';
}

function nextTurn(): Promise<typeof NOT_YET> {
  return new Promise((resolve) => setImmediate(resolve, NOT_YET));
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Turns each node:http request into an environ, calls the application and sends its response. */
export class Binding {
  private readonly app: TsgiApplication;
  private readonly defaults: EnvironDefaults;
  private readonly settings: ExchangeSettings;

  /** The `'request'` listener: defined here so that a request enters this file directly. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res, false);

  constructor(app: TsgiApplication, options: BindingOptions) {
    this.app = app;
    const errors = options.errors ?? process.stderr;
    this.defaults = {
      urlScheme: options.urlScheme ?? 'http',
      errors,
      multithread: options.multithread ?? false,
      multiprocess: options.multiprocess ?? false,
      runOnce: options.runOnce ?? false,
    };
    this.settings = { errors, onFinished: options.onFinished };
  }

  handle(req: IncomingMessage, res: ServerResponse, awaitingContinue: boolean): void {
    // Pipelined behind a response that closes the connection: nobody would read the answer.
    // (isOrphaned, inlined: a call into connection.ts saved on every request.)
    const closing = (req.socket as OrphanSocket | null)?.[kClosing];
    if (closing !== undefined && closing !== req) return;
    const exchange = new Exchange(this.settings, req, res);
    this.run(exchange, req, res, awaitingContinue);
    if (!exchange.settled || this.settings.onFinished !== undefined) exchange.watchClose();
  }

  /**
   * One request, in order:
   * 1. build the environ (a request that breaks a rule of RFC 9110/9112 Node leaves to the server,
   *    or whose target does not decode, is answered 400/505 without the app; request-rules.ts);
   * 2. give it the request body as `tsgi.input` when there is one;
   * 3. call the application;
   * 4. send the response it returned — now, or when its promise settles; an exception at any
   *    point becomes `Exchange.fail` (a 500, or the status an `HttpStatusError` carries).
   */
  private run(exchange: Exchange, req: IncomingMessage, res: ServerResponse, awaitingContinue: boolean): void {
    let environ: Environ;
    try {
      environ = exchange.environ = buildEnviron(req, this.defaults, EMPTY_INPUT, exchange.abort.signal);
    } catch (error) {
      if (!(error instanceof RequestRefused)) throw error;
      exchange.environ = buildEnviron(req, this.defaults, EMPTY_INPUT, exchange.abort.signal, false);
      exchange.refuse(error.status, error.message);
      return;
    }
    // Node's parser stops at an Upgrade it does not take: what follows on the connection would
    // never be read, so the connection closes after this response.
    if (environ.HTTP_UPGRADE !== undefined) closeAfterResponse(req, res);
    // hasBody inlined, on the environ: `req.headers` is a lazy getter that would build Node's
    // header object just for this (RFC 9112 §6.3: only Content-Length or Transfer-Encoding give a body).
    const length = environ.CONTENT_LENGTH;
    if ((length !== undefined && length !== '0') || environ.HTTP_TRANSFER_ENCODING !== undefined)
      environ['tsgi.input'] = exchange.input = new RequestBody(req, res, awaitingContinue);
    let result: TsgiResult;
    try {
      result = this.app(environ);
    } catch (error) {
      exchange.fail(error);
      return;
    }
    // `!= null`: an application that returns nothing gets a 500 from send(), not a TypeError here.
    if (result != null && typeof (result as Partial<Promise<TsgiResponse>>).then === 'function') {
      (result as Promise<TsgiResponse>).then(
        (response) => exchange.send(response),
        (error: unknown) => exchange.fail(error),
      );
    } else exchange.send(result as TsgiResponse);
  }
}
