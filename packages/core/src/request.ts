import { environKey, type Environ } from '@carafe/gateway';
import { concatBytes, decodeUtf8 } from './bytes.js';
import type { CarafeConfig } from './config.js';
import { AUTH_KEY, type CarafeUser, type RequestAuth } from './auth.js';
import { parseCookies } from './cookies.js';
import { BadRequest, ContentTooLarge, HttpError, UnsupportedMediaType, httpError } from './errors.js';
import { parseForm } from './form.js';
import type { FormData } from './form-data.js';
import { requestHost } from './hosts.js';
import type { Response } from './response.js';
import { parseQuery } from './query.js';
import type { Session } from './session.js';
import type { CarafeRoutes, Query, RouteName, UrlForArgs } from './types.js';
import { encodePath } from './uri.js';
import { acceptsOther, acceptsType } from './negotiate.js';
import type { UrlForOptions } from './url.js';
import { consoleLogger, requestBindings, type Logger } from './observe.js';

/**
 * The application as a request shows it (`req.app`, Flask's `current_app`): its settings and URL
 * building. `Carafe` implements it; declared here so that requests do not depend on the app class.
 */
export interface RequestApp {
  /** The application's settings. */
  readonly config: CarafeConfig;
  /** The path of a named route under `config.applicationRoot`; inside a request prefer `req.urlFor`. Names and params are checked against {@link CarafeRoutes} when it is declared. */
  urlFor<const N extends RouteName>(name: N, ...args: UrlForArgs<N, UrlForOptions>): string;
  /** The logger of one request (`req.log`): the app's logger bound to the request id and trace ids. */
  requestLogger?(environ: Environ): Logger;
}

/** Each request's logger, made on first use of `req.log` (kept out of the request object itself). */
const requestLogs = new WeakMap<Request<any, any, any>, Logger>();

/** What a request needs from its application: settings, sessions and URL building. */
export interface RequestContext {
  readonly app: RequestApp;
  /** Loads the session, the first time a request reads `req.session`. */
  openSession(req: Request<any, any, any>): Session;
  /** Builds a URL for `req.urlFor`: under the request's `SCRIPT_NAME`, relative to its blueprint, external on its host. */
  urlFor(
    name: string,
    params: Record<string, unknown> | undefined,
    options: UrlForOptions | undefined,
    req: Request<any, any, any>,
  ): string;
}

/** Runs after the handler of one request, before the after-request hooks (see {@link Request.afterThisRequest}). */
export type AfterThisRequestHook = (response: Response, req: Request<any, any, any>) => unknown;

/** The matched route, as seen by a request. */
export interface MatchedRoute {
  /** The route's name, e.g. `"users.detail"`. */
  readonly name: string;
  /** The full path pattern, e.g. `"/users/:id"`. */
  readonly path: string;
  /** The full name of the blueprint the route belongs to, if any. */
  readonly blueprint: string | undefined;
}

/** Request headers read from the environ; names are case-insensitive. */
export class RequestHeaders implements Iterable<[string, string]> {
  readonly #environ: Environ;
  constructor(environ: Environ) {
    this.#environ = environ;
  }

  /** The header's value (repeated headers arrive joined by the server), or `undefined`. */
  get(name: string): string | undefined {
    const key = environKey(name);
    if (key === '') return undefined;
    const value = this.#environ[key] as string | undefined;
    // CGI's CONTENT_TYPE/CONTENT_LENGTH may be "" for "absent"; any other header may be empty.
    return value === '' && (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') ? undefined : value;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    const env = this.#environ;
    if (env.CONTENT_TYPE) yield ['content-type', env.CONTENT_TYPE];
    if (env.CONTENT_LENGTH) yield ['content-length', env.CONTENT_LENGTH];
    for (const key of Object.keys(env)) {
      const value = env[key];
      if (key.startsWith('HTTP_') && typeof value === 'string') {
        yield [key.slice(5).toLowerCase().replaceAll('_', '-'), value];
      }
    }
  }

  /** All headers as an object with lower-case names. */
  toObject(): Record<string, string> {
    return Object.fromEntries(this);
  }
}

/** `application/json` or any `application/*+json`, ignoring parameters. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/**
 * What a request needs after its handler, as bits of one field ({@link NEEDS_FINISHING},
 * {@link NEEDS_CLOSE}); 0 for almost every request, so the dispatcher's fast path reads this one
 * field instead of calling into this module to ask.
 */
export const kNeeds = Symbol('carafe.needs');
/** A session was opened or {@link Request.afterThisRequest} hooks registered: the full pipeline finishes the response. */
export const NEEDS_FINISHING = 1;
/** {@link Request.callOnClose} callbacks are waiting: see request-close.ts. */
export const NEEDS_CLOSE = 2;

let closeCallbacks: (req: Request<any, any, any>) => (() => Promise<void>) | undefined;
let afterThisHooks: (req: Request<any, any, any>) => readonly AfterThisRequestHook[] | undefined;
let finishing: (req: Request<any, any, any>) => boolean;

/**
 * Takes the request's {@link Request.callOnClose} callbacks: `undefined` when it has none, else a
 * function that runs them (never rejects). For the dispatcher, which runs it when the request is finished.
 */
export function takeCloseCallbacks(req: Request<any, any, any>): (() => Promise<void>) | undefined {
  return closeCallbacks(req);
}

/**
 * Whether the response needs more than the synchronous fast path gives: a session to save or
 * {@link Request.afterThisRequest} hooks to run. For the dispatcher.
 */
export function needsFinishing(req: Request<any, any, any>): boolean {
  return finishing(req);
}

/** The request's {@link Request.afterThisRequest} hooks, in registration order; for the dispatcher. */
export function afterThisRequestHooks(req: Request<any, any, any>): readonly AfterThisRequestHook[] | undefined {
  return afterThisHooks(req);
}

/**
 * Registers `hook` to run on the response of this request only (Flask's `after_this_request`):
 * the same as `req.afterThisRequest(hook)`.
 *
 * @example
 * app.post('/login', (req) => {
 *   afterThisRequest(req, (response) => void response.setCookie('seen', '1'));
 *   return { ok: true };
 * });
 */
export function afterThisRequest(req: Request<any, any, any>, hook: AfterThisRequestHook): void {
  req.afterThisRequest(hook);
}

/**
 * An incoming request, built lazily from the TSGI environ: nothing is parsed until asked for.
 * `Params`, `Q` and `Body` are the typed route params, query and validated body.
 */
export class Request<Params = Record<string, string | string[] | undefined>, Q = Query, Body = unknown> {
  /** The TSGI environ this request wraps. */
  readonly environ: Environ;
  /** The HTTP method, upper case. */
  readonly method: string;
  /** Route params (validated and coerced when the route declares a params schema). */
  params: Params;
  /** The validated body when the route declares a body schema; otherwise `undefined`. */
  body: Body = undefined as Body;
  /** The route that matched, or `undefined` for unmatched requests (404, 405, automatic OPTIONS). */
  readonly route: MatchedRoute | undefined;
  readonly #ctx: RequestContext;
  #query: Q | undefined;
  #headers: RequestHeaders | undefined;
  #cookies: Record<string, string> | undefined;
  #state: Record<string, unknown> | undefined;
  #session: Session | undefined;
  #bytes: Promise<Uint8Array> | undefined;
  #form: Promise<FormData> | undefined;
  #onClose: Array<() => unknown> | undefined;
  #afterThis: AfterThisRequestHook[] | undefined;
  /** See {@link kNeeds}. */
  [kNeeds] = 0;

  constructor(ctx: RequestContext, environ: Environ, params: Params, route: MatchedRoute | undefined) {
    this.#ctx = ctx;
    this.environ = environ;
    this.method = environ.REQUEST_METHOD;
    this.params = params;
    this.route = route;
  }

  /** The application handling this request (Flask's `current_app`). */
  get app(): RequestApp {
    return this.#ctx.app;
  }

  /** The path inside the application (`PATH_INFO`), always starting with `/`. */
  get path(): string {
    return this.environ.PATH_INFO || '/';
  }

  /** Where the application is mounted (`SCRIPT_NAME`), `""` at the root. */
  get scriptName(): string {
    return this.environ.SCRIPT_NAME;
  }

  /** The raw query string, without `?`. */
  get queryString(): string {
    return this.environ.QUERY_STRING;
  }

  /** The URL scheme the client used (`tsgi.url_scheme`): `"http"` or `"https"`. */
  get scheme(): string {
    return this.environ['tsgi.url_scheme'];
  }

  /** Whether the request came over a secure protocol (`https` or `wss`), Werkzeug's `is_secure`. */
  get isSecure(): boolean {
    const scheme = this.scheme;
    return scheme === 'https' || scheme === 'wss';
  }

  /**
   * The host the request was addressed to, `name[:port]`: the `Host` header, else the server name
   * and port; the port only when it is not the scheme's default. Checked against
   * `config.trustedHosts` before any handler runs, when that is set.
   */
  get host(): string {
    return requestHost(this.environ);
  }

  /** Scheme and host: `https://example.com/` (Werkzeug's `host_url`). */
  get hostUrl(): string {
    return `${this.scheme}://${this.host}/`;
  }

  /** Where the application is reached: `https://example.com/app/` for `SCRIPT_NAME` `/app` (Werkzeug's `url_root`). */
  get urlRoot(): string {
    return `${this.scheme}://${this.host}${encodePath(this.scriptName)}/`;
  }

  /** The URL of the request without its query string (Werkzeug's `base_url`). */
  get baseUrl(): string {
    return `${this.scheme}://${this.host}${encodePath(this.scriptName + this.path)}`;
  }

  /** The full URL of the request, percent-encoded. */
  get url(): string {
    const query = this.environ.QUERY_STRING;
    return `${this.baseUrl}${query ? `?${query}` : ''}`;
  }

  /** The path inside the application and the query string: `/search?q=tea` (Werkzeug's `full_path`, without a lone `?`). */
  get fullPath(): string {
    const query = this.environ.QUERY_STRING;
    return query ? `${this.path}?${query}` : this.path;
  }

  /** The parsed query string; a key given more than once maps to an array of its values. */
  get query(): Q {
    return (this.#query ??= parseQuery(this.environ.QUERY_STRING) as Q);
  }
  set query(value: Q) {
    this.#query = value;
  }

  /** Case-insensitive request headers. */
  get headers(): RequestHeaders {
    return (this.#headers ??= new RequestHeaders(this.environ));
  }

  /** One request header, case-insensitive. */
  header(name: string): string | undefined {
    return this.headers.get(name);
  }

  /** The request cookies. */
  get cookies(): Record<string, string> {
    return (this.#cookies ??= parseCookies(this.environ.HTTP_COOKIE));
  }

  /** The client address (`REMOTE_ADDR`). */
  get remoteAddr(): string {
    return this.environ.REMOTE_ADDR;
  }

  /** The `Content-Type` header, if any. */
  get contentType(): string | undefined {
    return this.environ.CONTENT_TYPE || undefined;
  }

  /** Aborted when the client disconnects. */
  get signal(): AbortSignal {
    return this.environ['tsgi.signal'];
  }

  /**
   * The request's logger: the app's logger (`app.log`) whose records carry `request_id` and, while
   * the request is traced, `trace_id` and `span_id`. A pino logger under `carafe serve`.
   *
   * @example req.log.info({ userId }, 'user signed in')
   */
  get log(): Logger {
    let log = requestLogs.get(this);
    if (log === undefined) {
      log = this.#ctx.app.requestLogger?.(this.environ) ?? consoleLogger(requestBindings(this.environ));
      requestLogs.set(this, log);
    }
    return log;
  }

  /**
   * The identity an authentication middleware verified (`environ['carafe.auth']`: `jwtAuth`,
   * `bearerAuth`, `basicAuth` of `@carafe/middleware`), or `undefined`.
   */
  get auth(): RequestAuth | undefined {
    return this.environ[AUTH_KEY] as RequestAuth | undefined;
  }

  /** The user the authentication middleware mapped the credentials to (`req.auth.user`); type it with {@link CarafeUser}. */
  get user(): CarafeUser | undefined {
    return this.auth?.user;
  }

  /**
   * Content negotiation on `Accept` (by the `negotiator` package). With media types or short names
   * (`json`, `html`, `text`, `csv`, `xml`): the one the client prefers, as given, or `false` when it
   * takes none; a request without `Accept` takes the first. Without arguments: the accepted types, best first.
   *
   * @example req.accepts('application/json', 'text/csv') === 'text/csv'
   */
  accepts(): string[];
  accepts(...types: string[]): string | false;
  accepts(...types: string[]): string | false | string[] {
    return acceptsType(this.environ, types);
  }

  /** The best of `encodings` by `Accept-Encoding` (`identity` unless refused), `false` for none; without arguments, all accepted. */
  acceptsEncodings(): string[];
  acceptsEncodings(...encodings: string[]): string | false;
  acceptsEncodings(...encodings: string[]): string | false | string[] {
    return acceptsOther(this.environ, 'encodings', encodings);
  }

  /** The best of `charsets` by `Accept-Charset`, `false` for none; without arguments, all accepted. */
  acceptsCharsets(): string[];
  acceptsCharsets(...charsets: string[]): string | false;
  acceptsCharsets(...charsets: string[]): string | false | string[] {
    return acceptsOther(this.environ, 'charsets', charsets);
  }

  /** The best of `languages` by `Accept-Language`, `false` for none; without arguments, all accepted. */
  acceptsLanguages(): string[];
  acceptsLanguages(...languages: string[]): string | false;
  acceptsLanguages(...languages: string[]): string | false | string[] {
    return acceptsOther(this.environ, 'languages', languages);
  }

  /** Per-request storage for hooks and handlers (Flask's `g`). */
  get state(): Record<string, unknown> {
    return (this.#state ??= {});
  }

  /** The session (Flask's `session`): by default a signed cookie, which needs `config.secretKey`. */
  get session(): Session {
    if (this.#session === undefined) {
      this.#session = this.#ctx.openSession(this);
      this[kNeeds] |= NEEDS_FINISHING;
    }
    return this.#session;
  }

  /** Whether the session was touched during this request (then it is saved with the response). */
  get sessionOpened(): boolean {
    return this.#session !== undefined;
  }

  /** The raw body, read once up to `config.maxContentLength` (413 beyond it). */
  bytes(): Promise<Uint8Array> {
    if (this.#form) return Promise.reject(new Error('The request body was already consumed by form()'));
    return (this.#bytes ??= this.#readBody());
  }

  /** The body decoded as UTF-8. */
  async text(): Promise<string> {
    return decodeUtf8(await this.bytes());
  }

  /** The body parsed as JSON: 415 unless the Content-Type is JSON, 400 if it does not parse. */
  json<T = unknown>(): Promise<T> {
    if (!isJsonContentType(this.contentType)) {
      return Promise.reject(new UnsupportedMediaType("Expected a JSON body with Content-Type 'application/json'."));
    }
    // bytes(), not text(), and a `then` rather than an async function: two async functions less
    // between the body and the parse (~400 instructions each, callgrind).
    return this.bytes().then(parseJson) as Promise<T>;
  }

  /**
   * The body parsed as `application/x-www-form-urlencoded` (on every runtime) or `multipart/form-data`,
   * files included (Node, Bun and Deno: its parser is loaded on the first multipart body). Uploads
   * spooled to temporary files are deleted when the request is finished (see {@link callOnClose}).
   */
  form(): Promise<FormData> {
    if (this.#form) return this.#form;
    const form = (this.#form = this.#readForm());
    let parsed: FormData | undefined;
    form.then(
      (value) => {
        parsed = value;
      },
      () => {},
    ); // a failed parse deletes its own files
    // Not waiting for a parse still under way (a handler that never awaited it): it cleans up when it ends.
    this.callOnClose(() => (parsed ? parsed.cleanup() : void form.then((value) => value.cleanup()).catch(() => {})));
    return form;
  }

  /**
   * Registers `fn` to run once the request is finished: after its response was produced and its body
   * sent (or dropped), or at once for a body already in memory. Errors are written to `tsgi.errors`.
   */
  callOnClose(fn: () => unknown): void {
    (this.#onClose ??= []).push(fn);
    this[kNeeds] |= NEEDS_CLOSE;
  }

  /**
   * Registers `hook` to run on the response of this request only, before the after-request hooks
   * (Flask's `after_this_request`): it may change the response or return a replacement, like an
   * `afterRequest` hook. Hooks run in registration order, on error responses too.
   */
  afterThisRequest(hook: AfterThisRequestHook): void {
    (this.#afterThis ??= []).push(hook);
    this[kNeeds] |= NEEDS_FINISHING;
  }

  static {
    afterThisHooks = (req) => req.#afterThis;
    finishing = (req) => req.#session !== undefined || req.#afterThis !== undefined;
    closeCallbacks = (req) => {
      const callbacks = req.#onClose;
      if (!callbacks) return undefined;
      req.#onClose = undefined;
      req[kNeeds] &= ~NEEDS_CLOSE;
      return async () => {
        for (const fn of callbacks) {
          try {
            await fn();
          } catch (error) {
            try {
              req.environ['tsgi.errors'].write(`[carafe] callOnClose callback failed: ${(error as Error)?.stack ?? String(error)}\n`);
            } catch {
              // The error stream failing must not turn into a second error.
            }
          }
        }
      };
    };
  }

  /**
   * Builds a URL for a route like `app.urlFor`, under this request's `SCRIPT_NAME`; `.name` is relative
   * to the current blueprint. `{ external: true }` (or a `scheme`) makes it absolute on this request's
   * host; see {@link UrlForOptions}.
   *
   * @example req.urlFor('users.detail', { id: 7 }, { external: true, anchor: 'posts' }) // 'http://host/users/7#posts'
   */
  urlFor<const N extends RouteName>(name: N, ...[params, options]: UrlForArgs<N, UrlForOptions>): string {
    return this.#ctx.urlFor(name, params as Record<string, unknown> | undefined, options, this);
  }

  async #readForm(): Promise<FormData> {
    const contentType = this.contentType;
    if (!contentType) throw new UnsupportedMediaType('Expected a form body, but the request has no Content-Type.');
    const { maxContentLength: max, form: limits } = this.#ctx.app.config;
    this.#checkDeclaredLength(max);
    const input = this.#bytes ? once(await this.#bytes) : this.environ['tsgi.input'];
    try {
      return await parseForm(input, contentType, { maxBytes: max, ...limits });
    } catch (error) {
      const status = (error as { status?: unknown } | null)?.status;
      if (error instanceof HttpError || typeof status !== 'number' || status < 400 || status > 499) throw error;
      throw httpError(status, (error as Error).message, { cause: error });
    }
  }

  #checkDeclaredLength(max: number): void {
    const declared = this.environ.CONTENT_LENGTH;
    if (declared && Number(declared) > max) {
      throw new ContentTooLarge(`The request body exceeds the limit of ${max} bytes.`);
    }
  }

  /**
   * The whole body, up to `maxContentLength`: the input's iterator read as `for await` would
   * (`return()` called when the body is too large), from one promise settled by a `then` callback
   * per chunk. An async function cost ~350 instructions more a request, and a chain of `then`s
   * returning promises ~500 more (each such return is one more job looking up `then`; callgrind).
   */
  #readBody(): Promise<Uint8Array> {
    const max = this.#ctx.app.config.maxContentLength;
    const source = this.environ['tsgi.input'];
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#checkDeclaredLength(max);
      const input = source[Symbol.asyncIterator]();
      const chunks: Uint8Array[] = [];
      let size = 0;
      const step = (result: IteratorResult<Uint8Array>): void => {
        try {
          if (result.done) {
            resolve(chunks.length === 1 ? chunks[0]! : concatBytes(chunks, size));
            return;
          }
          size += result.value.byteLength;
          if (size > max) {
            const error = new ContentTooLarge(`The request body exceeds the limit of ${max} bytes.`);
            const fail = () => reject(error);
            Promise.resolve(input.return?.()).then(fail, fail);
            return;
          }
          chunks.push(result.value);
          input.next().then(step, reject);
        } catch (error) {
          reject(error);
        }
      };
      input.next().then(step, reject);
    });
  }
}

/** The body parsed as JSON: a 400 if it does not parse. */
function parseJson(bytes: Uint8Array): unknown {
  const body = decodeUtf8(bytes);
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new BadRequest(`The JSON body does not parse: ${(error as Error).message}`);
  }
}
