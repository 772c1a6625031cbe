/**
 * The TSGI server for node:http (docs/tsgi.md §6): turns each IncomingMessage /
 * ServerResponse pair into an environ and a response. Production workers, `app.run()`
 * and supertest all go through {@link toNodeListener}.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RequestRefused, buildEnviron, type EnvironDefaults } from './environ.js';
import { answerClientError, answerConnect, answerExpectation, closeAfterResponse, isOrphaned } from './connection.js';
import { EMPTY_INPUT, RequestBody, hasBody } from './input.js';
import { shutdown, startup } from './lifespan.js';
import { Exchange, type ExchangeSettings, type FinishedRecord } from './exchange.js';
import type { Environ, ErrorStream, TsgiApplication, TsgiResponse, TsgiResult } from './types.js';

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

/**
 * Options of the underlying `http.Server`, plus the seams a server process (such as
 * `carafe serve`) uses to put its own checks in front of the binding.
 */
export interface ServerOptions extends http.ServerOptions {
  /**
   * Called first for every request (and every `Expect: 100-continue` request). Return `false`
   * after answering `res` yourself (a limit was broken) to keep the request from the app.
   */
  admit?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * Replaces the binding's `clientError` handler (requests Node's parser refuses, timeouts);
   * the default is the gateway's `answerClientError`.
   */
  onClientError?: (error: Error & { code?: string }, socket: Socket) => void;
}

/** A `'request'` listener for `node:http`. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Turns the application into a node:http request listener. */
export function toNodeListener(app: TsgiApplication, options: BindingOptions = {}): NodeListener {
  const binding = new Binding(app, options);
  return (req, res) => binding.handle(req, res, false);
}

/**
 * An `http.Server` serving `app`. `Expect: 100-continue` is answered only when the
 * application starts reading `tsgi.input`, never when it answers without the body.
 *
 * What never reaches the app is answered with an RFC 9457 problem, and its connection closed:
 * requests the binding refuses (docs/tsgi.md §6.7; request-rules.ts), requests Node's parser
 * refuses or that come too slowly (`clientError`), an `Expect` other than `100-continue` (417),
 * CONNECT (405). Node's own plain 400 for a missing Host is turned off (`requireHostHeader`)
 * because the binding answers it.
 */
export function createServer(app: TsgiApplication, options: BindingOptions & ServerOptions = {}): http.Server {
  const binding = new Binding(app, options);
  const admit = options.admit;
  const serverOptions: http.ServerOptions = { requireHostHeader: false, ...options };
  const server =
    admit === undefined
      ? http.createServer(serverOptions, (req, res) => binding.handle(req, res, false))
      : http.createServer(serverOptions, (req, res) => {
          if (!isOrphaned(req) && admit(req, res)) binding.handle(req, res, false);
        });
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (admit === undefined || (!isOrphaned(req) && admit(req, res))) binding.handle(req, res, true);
  });
  server.on('checkExpectation', answerExpectation);
  server.on('connect', answerConnect);
  server.on('clientError', options.onClientError ?? answerClientError);
  return server;
}

/** Where {@link serve} listens. */
export interface ListenOptions {
  /** Default: 8000. `0` picks a free port. */
  port?: number;
  /** Default: `"127.0.0.1"`. */
  host?: string;
}

/**
 * Runs the app's startup hook, then listens. Closing the returned server runs the
 * shutdown hook before `close`'s callback is called.
 */
export async function serve(app: TsgiApplication, options: ListenOptions & BindingOptions & ServerOptions = {}): Promise<http.Server> {
  await startup(app);
  const server = createServer(app, options);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await shutdown(app);
    throw error;
  }
  const close = server.close.bind(server);
  let stopping: Promise<void> | undefined;
  server.close = (callback?: (error?: Error) => void) => {
    close((closeError) => {
      stopping ??= shutdown(app);
      stopping.then(
        () => callback?.(closeError),
        (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error))),
      );
    });
    return server;
  };
  return server;
}

class Binding {
  private readonly app: TsgiApplication;
  private readonly defaults: EnvironDefaults;
  private readonly settings: ExchangeSettings;

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
    if (isOrphaned(req)) return;
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
      environ = exchange.environ = buildEnviron(req, this.defaults, EMPTY_INPUT, exchange.abort);
    } catch (error) {
      if (!(error instanceof RequestRefused)) throw error;
      exchange.environ = buildEnviron(req, this.defaults, EMPTY_INPUT, exchange.abort, false);
      exchange.refuse(error.status, error.message);
      return;
    }
    // Node's parser stops at an Upgrade it does not take: what follows on the connection would
    // never be read, so the connection closes after this response.
    if (environ.HTTP_UPGRADE !== undefined) closeAfterResponse(req, res);
    if (hasBody(req)) environ['tsgi.input'] = exchange.input = new RequestBody(req, res, awaitingContinue);
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
