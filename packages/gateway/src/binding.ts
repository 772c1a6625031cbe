/**
 * The TSGI server for node:http (docs/tsgi.md §6): turns each IncomingMessage /
 * ServerResponse pair into an environ and a response. Production workers, `app.run()`
 * and supertest all go through {@link toNodeListener}.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BadRequestTarget, buildEnviron, type EnvironDefaults } from './environ.js';
import { EMPTY_INPUT, RequestBody, hasBody } from './input.js';
import { shutdown, startup } from './lifespan.js';
import { Exchange, type ExchangeSettings, type FinishedRecord } from './exchange.js';
import type { ErrorStream, TsgiApplication, TsgiResponse, TsgiResult } from './types.js';
import { answerOnSocket } from './problem.js';

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
  /** Replaces the binding's `clientError` handler (requests Node's parser refuses, timeouts). */
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
 */
export function createServer(app: TsgiApplication, options: BindingOptions & ServerOptions = {}): http.Server {
  const binding = new Binding(app, options);
  const admit = options.admit;
  const server =
    admit === undefined
      ? http.createServer(options, (req, res) => binding.handle(req, res, false))
      : http.createServer(options, (req, res) => {
          if (admit(req, res)) binding.handle(req, res, false);
        });
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (admit === undefined || admit(req, res)) binding.handle(req, res, true);
  });
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
export async function serve(
  app: TsgiApplication,
  options: ListenOptions & BindingOptions & ServerOptions = {},
): Promise<http.Server> {
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

/** Requests Node's parser refuses, or that arrive too slowly, get a problem+json answer. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') answerOnSocket(socket, 408, 'The request was not received in time.');
  else answerOnSocket(socket, 400);
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
    const exchange = new Exchange(this.settings, req, res);
    this.run(exchange, req, res, awaitingContinue);
    if (!exchange.settled || this.settings.onFinished !== undefined) exchange.watchClose();
  }

  /**
   * One request, in order:
   * 1. build the environ (a target that does not decode is answered 400 without the app);
   * 2. give it the request body as `tsgi.input` when there is one;
   * 3. call the application;
   * 4. send the response it returned — now, or when its promise settles; an exception at any
   *    point becomes `Exchange.fail` (a 500, or the status an `HttpStatusError` carries).
   */
  private run(exchange: Exchange, req: IncomingMessage, res: ServerResponse, awaitingContinue: boolean): void {
    let environ;
    try {
      environ = exchange.environ = buildEnviron(req, this.defaults, EMPTY_INPUT, exchange.abort);
    } catch (error) {
      if (!(error instanceof BadRequestTarget)) throw error;
      exchange.environ = buildEnviron(req, this.defaults, EMPTY_INPUT, exchange.abort, false);
      exchange.rejectTarget();
      return;
    }
    if (hasBody(req)) environ['tsgi.input'] = new RequestBody(req, res, awaitingContinue);
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
