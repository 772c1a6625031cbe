/**
 * The TSGI server for node:http (docs/tsgi.md §6): turns each IncomingMessage /
 * ServerResponse pair into an environ and a response. Production workers, `app.run()`
 * and supertest all go through {@link toNodeListener}.
 *
 * This module sets servers up; what runs per request (the listener, `Binding`, `Exchange`)
 * is in exchange.ts, so that a request's node:http glue is one file.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answerClientError, answerConnect, answerExpectation, isOrphaned } from './connection.js';
import { shutdown, startup } from './lifespan.js';
import { Binding, type BindingOptions } from './exchange.js';
import type { TsgiApplication } from './types.js';

export type { BindingOptions } from './exchange.js';

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
  return new Binding(app, options).listener;
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
      ? http.createServer(serverOptions, binding.listener)
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
