/**
 * The per-request pipeline: match, run hooks and handler, turn the result into a TSGI response,
 * handle errors. A route without hooks or schema takes a synchronous fast path, which stays in
 * this file: the app's TSGI callable ({@link appCallable}), the plain value's TSGI response
 * ({@link valueToTsgi}) and the close-callback check (one field read, {@link kNeeds}) are here, so
 * a request crosses only into the router, `new Request` and the handler.
 */
import {
  ClientDisconnected,
  HttpStatusError,
  type Environ,
  type TsgiApplication,
  type TsgiResponse,
  type TsgiResult,
  utf8Length,
} from '@carafe/gateway';
import { routeMiddleware, type CompiledRoutes, type ScopeTarget, type Target } from './compile.js';
import { ALLOWED_METHODS_KEY, ROUTE_MIDDLEWARE_KEY } from './middleware.js';
import { findErrorHandler } from './error-handlers.js';
import {
  BadRequest,
  HttpError,
  InternalServerError,
  MethodNotAllowed,
  NotFound,
  ResponseAbort,
  UnsupportedMediaType,
  ValidationError,
  httpError,
  problem,
  toHttpError,
} from './errors.js';
import { FileError, fileResponse } from './file.js';
import { applyResponseSchema, needsBodyRead, readBody, serializerFor, toResponse, type ResponseChecks, type Serialize } from './reply.js';
import { NodeBuffer } from './bytes.js';
import { hostIsTrusted, requestHost } from './hosts.js';
import { NEEDS_CLOSE, NEEDS_FINISHING, Request, afterThisRequestHooks, isJsonContentType, kNeeds, type RequestContext } from './request.js';
import { closeAfter } from './request-close.js';
import { FileResponse, JSON_TYPE, NO_BODY, Response, TEXT_TYPE, toTsgi } from './response.js';
import { encodePath } from './uri.js';
import type { Match } from './routing.js';
import { kSerializeParts, type CompiledRouteSchema, type FieldError, type SerializeParts, type ValidationResult } from './schema.js';
import { expandPath } from './openapi.js';
import { ROUTE_KEY, inSpan, pickTemplate, recordRequestError, requestBindings, type Logger, type RouteTemplates } from './observe.js';

/** What the pipeline needs from the application besides the routes. */
export interface DispatchServices {
  readonly ctx: RequestContext;
  debug(): boolean;
  /** Saves the session of a request that opened it (onto the response, usually). */
  saveSession(req: Request<any, any, any>, response: Response): void | Promise<void>;
  /** Report the route in `environ['carafe.route']` and errors on the request's span (see observe.ts). */
  readonly observe?: boolean;
  /** Trace the hooks: spans for the before-request, after-request and teardown hooks. */
  readonly traceHooks?: boolean;
  /** The logger unhandled exceptions go to (the app's or its server's); without one, `tsgi.errors`. */
  logger?(): Logger | undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** What an app has built from its registrations, as {@link appCallable} reads it. */
interface BuiltApp {
  readonly dispatcher: Dispatcher;
  readonly entry?: TsgiApplication;
}

/**
 * The TSGI callable a Carafe app is (app.ts gives it the class's prototype and fields). Made here so
 * that a request goes from the binding straight into the dispatcher: one field read of the app's
 * `built`, no hop through `Carafe.handle`, which does the same for callers that use it by name.
 */
export function appCallable(): TsgiApplication {
  const app = (environ: Environ): TsgiResult => {
    const owner = app as unknown as { built: BuiltApp | undefined; build(): BuiltApp };
    const built = owner.built ?? owner.build();
    return built.entry === undefined ? built.dispatcher.dispatch(environ) : built.entry(environ);
  };
  return app;
}

/**
 * The TSGI response for a plain value (not a `Response`, not bytes) without building a Response:
 * the synchronous fast path's answer. `null`/`undefined` → 204, string → text, else JSON.
 */
export function valueToTsgi(value: unknown, method: string, serialize: Serialize | undefined): TsgiResponse {
  if (value === null || value === undefined) return { status: 204, headers: [], body: NO_BODY };
  const isText = typeof value === 'string';
  let text: string;
  if (isText) text = value;
  else if (serialize === undefined) text = JSON.stringify(value) ?? 'null';
  else {
    // The schema's generated validator and serializer called directly when the value fits as it is:
    // the call through schema.ts's wrapper (another module) saved per response.
    const parts = (serialize as Serialize & { [kSerializeParts]?: SerializeParts })[kSerializeParts];
    text = parts !== undefined && parts.check(value) ? parts.write(value) : serialize(value);
  }
  // A fresh pair, not a shared frozen one: frozen arrays sent every keyed load on the pair (in the
  // binding and in Node's writeHead) to V8's generic path, ~500 instructions a response (callgrind).
  const type: [string, string] = ['content-type', isText ? TEXT_TYPE : JSON_TYPE];
  // A body of one known chunk: the server measures it and sends its Content-Length (docs/tsgi.md
  // §3.7), so it is not measured here as well — Buffer.byteLength, String() and the server's check
  // of the value cost ~900 instructions a response (callgrind). HEAD has no body to measure: it
  // declares the length its GET would have.
  if (method !== 'HEAD') return { status: 200, headers: [type], body: [text] };
  const length = NodeBuffer !== undefined ? NodeBuffer.byteLength(text) : utf8Length(text);
  return { status: 200, headers: [type, ['content-length', String(length)]], body: NO_BODY };
}

/** `response`, set to run the request's close callbacks when it is finished: one field read when it has none (almost always). */
function afterClose(req: Request<any, any, any>, response: TsgiResponse): TsgiResult {
  return (req[kNeeds] & NEEDS_CLOSE) === 0 ? response : closeAfter(req, response);
}

/** The detail of the answer to a client that went away: nobody reads it, but teardown still runs. */
const CLIENT_GONE = 'The client disconnected before the request was complete.';

/** Requests whose params the router already checked against their route's params schema (typed routes only). */
const paramsChecked = new WeakSet<Request<any, any, any>>();

/** Why a request reaches no route besides routing: its Host is not one of `config.trustedHosts`. */
type Refused = { kind: 'untrusted-host'; host: string };

const ROOT = { kind: 'redirect', path: '/' } as const;

/** Runs requests against an app's compiled routes. */
export class Dispatcher {
  private readonly router: CompiledRoutes['router'];
  /** Hooks and error handlers of the app alone, for requests no route matched. */
  private readonly appScope: ScopeTarget;
  private readonly config: RequestContext['app']['config'];
  private readonly observe: boolean;
  private readonly traceHooks: boolean;
  /** Each route's OpenAPI-style templates, computed on first use (telemetry only). */
  private readonly templates = new Map<string, RouteTemplates>();

  constructor(
    routes: CompiledRoutes,
    private readonly services: DispatchServices,
  ) {
    this.router = routes.router;
    this.appScope = routes.appScope;
    this.config = services.ctx.app.config;
    this.observe = services.observe === true;
    this.traceHooks = services.traceHooks === true;
    this.routeMiddleware = routes.routes.some((route) => routeMiddleware(route).length > 0);
  }

  /** Whether some route has TSGI middleware of its own (or its blueprints'). */
  private readonly routeMiddleware: boolean;

  /** The methods `path` answers (an `Allow` list), `undefined` if no route matches: for middleware (CORS preflights). */
  readonly allowedMethods = (path: string): string[] | undefined => this.router.allowed(path);

  /** Runs a request through its route's middleware, whose inner application dispatches it again, past them. */
  private enter(wrapped: TsgiApplication, environ: Environ): TsgiResult {
    environ[ROUTE_MIDDLEWARE_KEY] = true;
    environ[ALLOWED_METHODS_KEY] ??= this.allowedMethods;
    return wrapped(environ);
  }

  /** The middleware of a route on `path` for an automatic OPTIONS answer (a CORS preflight), if it has any. */
  private optionsMiddleware(environ: Environ, path: string, allow: readonly string[]): TsgiApplication | undefined {
    if (!this.routeMiddleware || environ[ROUTE_MIDDLEWARE_KEY] !== undefined) return undefined;
    for (const method of allow) {
      const match = this.router.match(method, path);
      if (match.kind === 'found' && match.target.wrapped !== undefined) return match.target.wrapped;
    }
    return undefined;
  }

  /** `environ['carafe.route']`: the matched route as a template under the mount point, e.g. `/api/users/{id}`. */
  private reportRoute(environ: Environ, path: string, params: Record<string, unknown>): void {
    let variants = this.templates.get(path);
    if (variants === undefined) {
      variants = expandPath(path).map((v) => ({ template: v.path, params: v.params }));
      this.templates.set(path, variants);
    }
    const template = pickTemplate(variants, params);
    environ[ROUTE_KEY] = environ.SCRIPT_NAME === '' ? template : environ.SCRIPT_NAME + template;
  }

  /** Answers one request: synchronously when a plain route's handler answers synchronously. */
  dispatch(environ: Environ): TsgiResult {
    const trusted = this.config.trustedHosts;
    if (trusted !== undefined) {
      const host = requestHost(environ);
      if (!hostIsTrusted(host, trusted)) return this.unmatched({ kind: 'untrusted-host', host }, environ);
    }
    const path = environ.PATH_INFO;
    // An app mounted at /app, asked for /app: its root is /app/ (Werkzeug redirects too).
    const match = path === '' && environ.SCRIPT_NAME !== '' ? ROOT : this.router.match(environ.REQUEST_METHOD, path || '/');
    if (match.kind !== 'found') {
      const wrapped = match.kind === 'options' ? this.optionsMiddleware(environ, path || '/', match.allow) : undefined;
      return wrapped === undefined ? this.unmatched(match, environ) : this.enter(wrapped, environ);
    }
    const target = match.target;
    if (this.observe) this.reportRoute(environ, target.info!.path, match.params);
    if (target.wrapped !== undefined && environ[ROUTE_MIDDLEWARE_KEY] === undefined) return this.enter(target.wrapped, environ);
    const req = new Request(this.services.ctx, environ, match.params, target.info);
    if (match.checked) paramsChecked.add(req);
    if (!target.plain) return this.run(req, target);
    let value: unknown;
    try {
      value = target.handler(req);
    } catch (error) {
      return this.run(req, target, { error });
    }
    // isThenable inlined: a call saved on every request whose handler answers synchronously.
    if (value !== null && value !== undefined && typeof (value as Partial<PromiseLike<unknown>>).then === 'function') {
      return Promise.resolve(value).then(
        (resolved) => this.finishPlain(req, target, resolved),
        (error: unknown) => this.run(req, target, { error }),
      );
    }
    return this.finishPlain(req, target, value);
  }

  /** The fast path's answer; what needs more (a session to save, a file to open) takes the full pipeline. */
  private finishPlain(req: Request<any, any, any>, target: Target, value: unknown): TsgiResult {
    // needsFinishing read as a field: no call into request.ts.
    if ((req[kNeeds] & NEEDS_FINISHING) !== 0 || value instanceof FileResponse) return this.run(req, target, { value });
    try {
      if (value instanceof Response) {
        // A streamed JSON body under a response schema is read (asynchronously) before it is checked.
        if (needsBodyRead(value, target.compiled)) return this.run(req, target, { value });
        return afterClose(req, toTsgi(applyResponseSchema(value, target.compiled), req.method));
      }
      if (value instanceof Uint8Array) return afterClose(req, toTsgi(toResponse(value), req.method));
      // With a response[200] schema: one compiled validator call, then the compiled serializer (schema.ts),
      // looked up once when the routes were compiled (`serialize200`).
      return afterClose(req, valueToTsgi(value, req.method, target.serialize200));
    } catch (error) {
      return this.run(req, target, { error });
    }
  }

  private unmatched(match: Exclude<Match<Target>, { kind: 'found' }> | Refused, environ: Environ): Promise<TsgiResponse> {
    let handler: Target['handler'];
    switch (match.kind) {
      case 'untrusted-host': {
        const detail = `The host ${JSON.stringify(match.host)} is not one this application answers for.`;
        handler = () => {
          throw new BadRequest(detail);
        };
        break;
      }
      case 'options': {
        const allow = match.allow.join(', ');
        handler = () =>
          new Response(null, {
            status: 200,
            headers: [
              ['allow', allow],
              ['content-length', '0'],
            ],
          });
        break;
      }
      case 'method-not-allowed': {
        const allow = match.allow;
        handler = () => {
          throw new MethodNotAllowed(allow);
        };
        break;
      }
      case 'redirect': {
        // Never `//host/…`, which a browser reads as another site.
        const location =
          encodePath(environ.SCRIPT_NAME + match.path).replace(/^\/{2,}/, '/') + (environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : '');
        handler = () => new Response(null, { status: 308, headers: [['location', location]] });
        break;
      }
      default:
        handler = () => {
          throw new NotFound('The requested URL was not found on the server.');
        };
    }
    // No route, no params: URL value preprocessors do not run.
    const target: Target = {
      ...this.appScope,
      urlValuePreprocessors: [],
      handler,
      info: undefined,
      compiled: undefined,
      serialize200: undefined,
      plain: false,
    };
    return this.run(new Request(this.services.ctx, environ, {}, undefined), target);
  }

  /** The full pipeline: before hooks, validation, handler, error handlers, after hooks, session, teardown. */
  private async run(req: Request<any, any, any>, target: Target, first?: { value: unknown } | { error: unknown }): Promise<TsgiResponse> {
    let response: Response;
    let unhandled: unknown;
    try {
      try {
        const value = first ? ('error' in first ? Promise.reject(first.error) : first.value) : await this.respond(req, target);
        response = await this.resolve(await value, req, target.compiled);
      } catch (error) {
        response = await this.handleError(error, req, target);
      }
      response = await (this.traceHooks && hasAfterHooks(req, target)
        ? inSpan('carafe.after_request', { 'carafe.hooks': target.after.length }, () => this.finalize(response, req, target))
        : this.finalize(response, req, target));
    } catch (error) {
      // No handler took it, or an error handler, an after hook or the session failed: a 500 (Flask's handle_exception).
      unhandled = error;
      response = await this.handleException(error, req, target);
    }
    if (this.traceHooks && target.teardown.length > 0) {
      await inSpan('carafe.teardown_request', { 'carafe.hooks': target.teardown.length }, () => this.teardown(target, unhandled, req));
    } else {
      for (const hook of target.teardown) {
        try {
          await hook(unhandled, req);
        } catch (error) {
          this.log(req, error, 'teardownRequest hook failed');
        }
      }
    }
    // After teardown: the request's close callbacks (spooled uploads) wait for the body to be sent.
    return afterClose(req, toTsgi(response, req.method));
  }

  /** The teardown hooks, traced (the untraced path runs the same loop inline). */
  private async teardown(target: Target, unhandled: unknown, req: Request<any, any, any>): Promise<void> {
    for (const hook of target.teardown) {
      try {
        await hook(unhandled, req);
      } catch (error) {
        this.log(req, error, 'teardownRequest hook failed');
      }
    }
  }

  /** After-this-request hooks, then after-request hooks, then the session is saved (Flask's `process_response`). */
  private async finalize(response: Response, req: Request<any, any, any>, target: Target): Promise<Response> {
    const own = afterThisRequestHooks(req);
    for (const hook of own === undefined ? target.after : [...own, ...target.after]) {
      const replaced = await hook(response, req);
      if (replaced !== undefined) response = await this.resolve(replaced, req);
    }
    if (req.sessionOpened) await this.services.saveSession(req, response);
    return response;
  }

  /** URL value preprocessors, before hooks, schema validation and the handler; returns what the handler (or a hook) returned. */
  private async respond(req: Request<any, any, any>, target: Target): Promise<unknown> {
    if (this.traceHooks && (target.before.length > 0 || target.urlValuePreprocessors.length > 0)) {
      const early = await inSpan('carafe.before_request', { 'carafe.hooks': target.before.length }, () => this.before(req, target));
      if (early !== undefined) return early;
      if (target.compiled) await validate(req, target.compiled);
      return target.handler(req);
    }
    const preprocessors = target.urlValuePreprocessors;
    if (preprocessors.length > 0) for (const hook of preprocessors) hook(target.info!.name, req.params, req);
    for (const hook of target.before) {
      const early = await hook(req);
      if (early !== undefined && early !== null) return early;
    }
    if (target.compiled) await validate(req, target.compiled);
    return target.handler(req);
  }

  /** URL value preprocessors and before hooks, traced: what a hook answered with, else `undefined`. */
  private async before(req: Request<any, any, any>, target: Target): Promise<unknown> {
    const preprocessors = target.urlValuePreprocessors;
    if (preprocessors.length > 0) for (const hook of preprocessors) hook(target.info!.name, req.params, req);
    for (const hook of target.before) {
      const early = await hook(req);
      if (early !== undefined && early !== null) return early;
    }
    return undefined;
  }

  /** The Response for what a handler, hook or error handler returned; `checks` (the handler's answer only) applies the route's response schemas. */
  private async resolve(value: unknown, req: Request<any, any, any>, checks?: ResponseChecks): Promise<Response> {
    const response = toResponse(value, serializerFor(checks, 200));
    if (checks !== undefined && value instanceof Response) {
      if (needsBodyRead(response, checks)) await readBody(response);
      applyResponseSchema(response, checks);
    }
    if (response instanceof FileResponse) {
      const { status, headers, body } = await fileResponse(response.path, req, response.options).catch((error: unknown) => {
        // The file's path stays out of the response; the status says enough.
        if (error instanceof FileError) throw httpError(error.status, undefined, { cause: error });
        throw error;
      });
      const resolved = new Response(body, { status, headers });
      for (const [name, v] of response.headers) if (!resolved.headers.has(name) || name === 'set-cookie') resolved.headers.append(name, v);
      if (response.status !== 200 && status === 200) resolved.status = response.status;
      return resolved;
    }
    return response;
  }

  /**
   * Answers an error of the handler or a before hook through the error handlers, the way Flask does
   * (see {@link findErrorHandler}); an HTTP error without a handler is its problem document.
   * `abort(response)` sends its response. An `HttpStatusError` from outside the framework (the
   * server's 413 while the body is read) counts as the `HttpError` of its status. Throws what no
   * handler takes, for {@link handleException}.
   */
  private async handleError(error: unknown, req: Request<any, any, any>, target: Target): Promise<Response> {
    if (error instanceof ResponseAbort) return error.response;
    if (error instanceof ClientDisconnected) throw error;
    const known = error instanceof HttpStatusError ? toHttpError(error) : error;
    const handler = findErrorHandler(target.errorScopes, known);
    if (this.observe)
      return this.observedAnswer(
        error,
        req,
        handler ? await this.resolve(await handler(known, req), req) : known instanceof HttpError ? problem(known, req) : undefined,
      );
    if (handler) return this.resolve(await handler(known, req), req);
    if (known instanceof HttpError) return problem(known, req);
    throw error;
  }

  /** With telemetry: a 5xx answered for an exception reports the exception (its type is `error.type`); no answer rethrows it. */
  private observedAnswer(error: unknown, req: Request<any, any, any>, response: Response | undefined): Response {
    if (response === undefined) throw error;
    if (response.status >= 500) recordRequestError(req.environ, error);
    return response;
  }

  /**
   * Flask's `handle_exception`: an error nothing handled is logged and becomes a 500 (through a
   * `500`/`InternalServerError` handler, whose error's `cause` is the original), and the after hooks
   * and session still run on that answer — their own failures only logged now. A client that went
   * away is not the app's failure: no handler runs and nothing is logged; the answer goes nowhere.
   */
  private async handleException(error: unknown, req: Request<any, any, any>, target: Target): Promise<Response> {
    let response: Response;
    if (error instanceof ClientDisconnected) response = problem(new BadRequest(CLIENT_GONE, { cause: error }), req);
    else {
      const internal = this.internalError(error, req);
      try {
        const handler = findErrorHandler(target.errorScopes, internal);
        response = handler ? await this.resolve(await handler(internal, req), req) : problem(internal, req);
      } catch (failure) {
        this.log(req, failure, 'The 500 error handler failed');
        response = problem(internal, req);
      }
    }
    try {
      return await this.finalize(response, req, target);
    } catch (failure) {
      this.log(req, failure, 'Finishing the error response failed');
      return response;
    }
  }

  private internalError(error: unknown, req: Request<any, any, any>): InternalServerError {
    this.log(req, error, 'Exception');
    if (this.observe) recordRequestError(req.environ, error);
    const detail = this.services.debug() ? (error instanceof Error ? (error.stack ?? error.message) : String(error)) : undefined;
    return new InternalServerError(detail, { cause: error });
  }

  private log(req: Request<any, any, any>, error: unknown, what: string): void {
    // With a logger (the app's own, or its server's): one structured record, stack included,
    // carrying the request id and trace ids.
    const logger = this.services.logger?.();
    if (logger !== undefined) {
      try {
        logger.child(requestBindings(req.environ)).error({ err: error }, `${what} on ${req.method} ${req.scriptName}${req.path}`);
        return;
      } catch {
        // A failing logger falls back to the error stream.
      }
    }
    const text = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    try {
      req.environ['tsgi.errors'].write(`[carafe] ${what} on ${req.method} ${req.scriptName}${req.path}\n${text}\n`);
    } catch {
      // The error stream failing must not turn into a second error.
    }
  }
}

/** Whether a request has after-request work to trace: hooks of its route, or of its own. */
function hasAfterHooks(req: Request<any, any, any>, target: Target): boolean {
  return target.after.length > 0 || afterThisRequestHooks(req) !== undefined;
}

/** Validates params, query, headers and body against the route schema; 400 lists every failing field. */
async function validate(req: Request<any, any, any>, compiled: CompiledRouteSchema): Promise<void> {
  const errors: FieldError[] = [];
  // A Standard Schema validator may answer with a promise; ajv's answer synchronously.
  const pending: Array<Promise<void>> = [];
  const check = <T>(
    validator: ((raw: T) => ValidationResult | Promise<ValidationResult>) | undefined,
    raw: () => T,
    assign: (value: any) => void,
  ) => {
    if (!validator) return;
    const settle = (result: ValidationResult) => {
      if ('errors' in result) errors.push(...result.errors);
      else assign(result.value);
    };
    const result = validator(raw());
    if (isThenable(result)) pending.push(Promise.resolve(result).then(settle));
    else settle(result);
  };
  // A typed route's params were checked (and coerced) when the router chose it.
  if (!paramsChecked.has(req))
    check(
      compiled.params,
      () => req.params,
      (v) => {
        req.params = v;
      },
    );
  check(
    compiled.query,
    () => req.query,
    (v) => {
      req.query = v;
    },
  );
  check(
    compiled.headers,
    () => req.headers.toObject(),
    () => {},
  );
  if (compiled.body) {
    if (!isJsonContentType(req.contentType)) {
      throw new UnsupportedMediaType("This route expects a JSON body with Content-Type 'application/json'.");
    }
    const text = await req.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new BadRequest(`The JSON body does not parse: ${(error as Error).message}`);
    }
    check(
      compiled.body,
      () => parsed,
      (v) => {
        req.body = v;
      },
    );
  }
  if (pending.length > 0) await Promise.all(pending);
  if (errors.length > 0) throw new ValidationError(errors);
}
