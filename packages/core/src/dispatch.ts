/**
 * The per-request pipeline: match, run hooks and handler, turn the result into a TSGI response,
 * handle errors. A route without hooks or schema takes a synchronous fast path.
 */
import { ClientDisconnected, HttpStatusError, type Environ, type TsgiResponse, type TsgiResult } from '@carafe/gateway';
import type { CompiledRoutes, ScopeTarget, Target } from './compile.js';
import {
  BadRequest, HttpError, InternalServerError, MethodNotAllowed, NotFound, UnsupportedMediaType, ValidationError, httpError,
  problem, toHttpError,
} from './errors.js';
import { FileError, fileResponse } from './file.js';
import { toResponse, valueToTsgi, type Serialize } from './reply.js';
import { Request, isJsonContentType, type RequestContext } from './request.js';
import { closeAfter } from './request-close.js';
import { FileResponse, Response, toTsgi } from './response.js';
import type { Match } from './routing.js';
import type { Scaffold } from './scaffold.js';
import type { CompiledRouteSchema, FieldError } from './schema.js';

/** What the pipeline needs from the application besides the routes. */
export interface DispatchServices {
  readonly ctx: RequestContext;
  debug(): boolean;
  /** Saves the session of a request that opened it (onto the response, usually). */
  saveSession(req: Request<any, any, any>, response: Response): void | Promise<void>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** The detail of the answer to a client that went away: nobody reads it, but teardown still runs. */
const CLIENT_GONE = 'The client disconnected before the request was complete.';

/** Runs requests against an app's compiled routes. */
export class Dispatcher {
  private readonly router: CompiledRoutes['router'];
  /** Hooks and error handlers of the app alone, for requests no route matched. */
  private readonly appScope: ScopeTarget;

  constructor(routes: CompiledRoutes, private readonly services: DispatchServices) {
    this.router = routes.router;
    this.appScope = routes.appScope;
  }

  /** Answers one request: synchronously when a plain route's handler answers synchronously. */
  dispatch(environ: Environ): TsgiResult {
    const match = this.router.match(environ.REQUEST_METHOD, environ.PATH_INFO || '/');
    if (match.kind !== 'found') return this.unmatched(match, environ);
    const target = match.target;
    const req = new Request(this.services.ctx, environ, match.params, target.info);
    if (!target.plain) return this.run(req, target);
    let value: unknown;
    try {
      value = target.handler(req);
    } catch (error) {
      return this.run(req, target, { error });
    }
    if (isThenable(value)) {
      return Promise.resolve(value).then(
        (resolved) => this.finishPlain(req, target, resolved),
        (error: unknown) => this.run(req, target, { error }),
      );
    }
    return this.finishPlain(req, target, value);
  }

  /** The fast path's answer; what needs more (a session to save, a file to open) takes the full pipeline. */
  private finishPlain(req: Request<any, any, any>, target: Target, value: unknown): TsgiResult {
    if (req.sessionOpened || value instanceof FileResponse) return this.run(req, target, { value });
    try {
      if (value instanceof Response) return closeAfter(req, toTsgi(value, req.method));
      if (value instanceof Uint8Array) return closeAfter(req, toTsgi(toResponse(value), req.method));
      return closeAfter(req, valueToTsgi(value, req.method, target.compiled?.serialize));
    } catch (error) {
      return this.run(req, target, { error });
    }
  }

  private unmatched(match: Exclude<Match<Target>, { kind: 'found' }>, environ: Environ): Promise<TsgiResponse> {
    let handler: Target['handler'];
    switch (match.kind) {
      case 'options': {
        const allow = match.allow.join(', ');
        handler = () => new Response(null, { status: 200, headers: [['allow', allow], ['content-length', '0']] });
        break;
      }
      case 'method-not-allowed': {
        const allow = match.allow;
        handler = () => { throw new MethodNotAllowed(allow); };
        break;
      }
      case 'redirect': {
        const location = encodeURI(environ.SCRIPT_NAME + match.path).replace(/[?#]/g, encodeURIComponent)
          + (environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : '');
        handler = () => new Response(null, { status: 308, headers: [['location', location]] });
        break;
      }
      default:
        handler = () => { throw new NotFound('The requested URL was not found on the server.'); };
    }
    const target: Target = { ...this.appScope, handler, info: undefined, compiled: undefined, plain: false };
    return this.run(new Request(this.services.ctx, environ, {}, undefined), target);
  }

  /** The full pipeline: before hooks, validation, handler, error handlers, after hooks, session, teardown. */
  private async run(req: Request<any, any, any>, target: Target, first?: { value: unknown } | { error: unknown }): Promise<TsgiResponse> {
    let response: Response;
    let unhandled: unknown;
    try {
      try {
        const value = first ? ('error' in first ? Promise.reject(first.error) : first.value) : await this.respond(req, target);
        response = await this.resolve(await value, req, target.compiled?.serialize);
      } catch (error) {
        ({ response, unhandled } = await this.handleError(error, req, target));
      }
      for (const hook of target.after) {
        const replaced = await hook(response, req);
        if (replaced !== undefined) response = await this.resolve(replaced, req);
      }
      if (req.sessionOpened) await this.services.saveSession(req, response);
    } catch (error) {
      unhandled = error;
      response = problem(this.internalError(error, req), req);
    }
    for (const hook of target.teardown) {
      try {
        await hook(unhandled, req);
      } catch (error) {
        this.log(req, error, 'teardownRequest hook failed');
      }
    }
    // After teardown: the request's close callbacks (spooled uploads) wait for the body to be sent.
    return closeAfter(req, toTsgi(response, req.method));
  }

  /** Before hooks, schema validation and the handler; returns what the handler (or a hook) returned. */
  private async respond(req: Request<any, any, any>, target: Target): Promise<unknown> {
    for (const hook of target.before) {
      const early = await hook(req);
      if (early !== undefined && early !== null) return early;
    }
    if (target.compiled) await validate(req, target.compiled);
    return target.handler(req);
  }

  private async resolve(value: unknown, req: Request<any, any, any>, serialize?: Serialize): Promise<Response> {
    const response = toResponse(value, serialize);
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
   * Finds the error handler the way Flask does: for HTTP errors, handlers for the status code or a
   * specific error class, innermost blueprint first; then handlers for base classes; unknown errors
   * become a logged 500. An `HttpStatusError` from outside the framework (the server's 413 while
   * the body is read) counts as the `HttpError` of its status. A client that went away is not the
   * app's failure: no handler runs and nothing is logged; the answer goes nowhere.
   */
  private async handleError(error: unknown, req: Request<any, any, any>, target: Target): Promise<{ response: Response; unhandled?: unknown }> {
    if (error instanceof ClientDisconnected) return { response: problem(new BadRequest(CLIENT_GONE, { cause: error }), req), unhandled: error };
    const scopes = target.errorScopes;
    if (error instanceof HttpStatusError) {
      const known = toHttpError(error);
      const handler = findHandler(scopes, known, true) ?? findHandler(scopes, known, false);
      if (handler) return { response: await this.resolve(await handler(known, req), req) };
      return { response: problem(known, req) };
    }
    const handler = findHandler(scopes, error, false);
    if (handler) return { response: await this.resolve(await handler(error, req), req) };
    const internal = this.internalError(error, req);
    const fallback = findHandler(scopes, internal, true) ?? findHandler(scopes, internal, false);
    const response = fallback ? await this.resolve(await fallback(internal, req), req) : problem(internal, req);
    return { response, unhandled: error };
  }

  private internalError(error: unknown, req: Request<any, any, any>): InternalServerError {
    this.log(req, error, 'Exception');
    const detail = this.services.debug() ? (error instanceof Error ? error.stack ?? error.message : String(error)) : undefined;
    return new InternalServerError(detail, { cause: error });
  }

  private log(req: Request<any, any, any>, error: unknown, what: string): void {
    const text = error instanceof Error ? error.stack ?? String(error) : String(error);
    try {
      req.environ['tsgi.errors'].write(`[carafe] ${what} on ${req.method} ${req.scriptName}${req.path}\n${text}\n`);
    } catch {
      // The error stream failing must not turn into a second error.
    }
  }
}

function findHandler(scopes: readonly Scaffold[], error: unknown, specific: boolean) {
  if (typeof error !== 'object' || error === null) return undefined;
  for (const scope of scopes) {
    if (specific) {
      const byStatus = scope.statusHandlers.get((error as HttpError).status);
      if (byStatus) return byStatus;
    }
    for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
      const ctor = proto.constructor as Function;
      if (ctor === Object || (specific && ctor === HttpError)) break;
      const handler = scope.classHandlers.get(ctor);
      if (handler) return handler;
    }
  }
  return undefined;
}

/** Validates params, query, headers and body against the route schema; 400 lists every failing field. */
async function validate(req: Request<any, any, any>, compiled: CompiledRouteSchema): Promise<void> {
  const errors: FieldError[] = [];
  const check = <T>(validator: ((raw: T) => { value: any } | { errors: FieldError[] }) | undefined, raw: () => T, assign: (value: any) => void) => {
    if (!validator) return;
    const result = validator(raw());
    if ('errors' in result) errors.push(...result.errors);
    else assign(result.value);
  };
  check(compiled.params, () => req.params, (v) => { req.params = v; });
  check(compiled.query, () => req.query, (v) => { req.query = v; });
  check(compiled.headers, () => req.headers.toObject(), () => {});
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
    check(compiled.body, () => parsed, (v) => { req.body = v; });
  }
  if (errors.length > 0) throw new ValidationError(errors);
}
