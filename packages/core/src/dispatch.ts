import type { Environ, HeaderList, ResponseBody, StartResponse } from '@carafe/gateway';
import {
  BadRequest, HttpError, type ProblemExtensions, InternalServerError, MethodNotAllowed, NotFound, UnsupportedMediaType, ValidationError, httpError,
  reasonPhrase,
} from './errors.js';
import { Request, isJsonContentType, type MatchedRoute, type RequestContext } from './request.js';
import { FileResponse, JSON_TYPE, Response, TEXT_TYPE, defaultContentType, toTsgiBody } from './response.js';
import type { Router } from './routing.js';
import type { AfterRequestHook, BeforeRequestHook, Scaffold, TeardownHook } from './scaffold.js';
import type { CompiledRouteSchema, FieldError } from './schema.js';
import { FileError, fileResponse } from './file.js';

/**
 * The per-request pipeline: match, run hooks and handler, turn the result into a TSGI response,
 * handle errors. A route without hooks or schema takes a synchronous fast path.
 */

/** A route ready to dispatch, with its hook chains flattened once at build time. */
export interface Target {
  readonly handler: (req: Request<any, any, any>) => unknown;
  readonly info: MatchedRoute | undefined;
  /** App hooks first, then each blueprint's from the outermost in. */
  readonly before: readonly BeforeRequestHook[];
  /** Innermost blueprint first, each scope's hooks in reverse registration order. */
  readonly after: readonly AfterRequestHook[];
  readonly teardown: readonly TeardownHook[];
  /** Where error handlers are looked up: innermost blueprint first, the app last. */
  readonly errorScopes: readonly Scaffold[];
  readonly compiled: CompiledRouteSchema | undefined;
  /** No hooks and nothing of the request to validate: eligible for the synchronous fast path. */
  readonly plain: boolean;
}

/** What the pipeline needs from the application besides the routes. */
export interface DispatchServices {
  readonly ctx: RequestContext;
  debug(): boolean;
  /** Adds the session cookie to the response if the request changed the session. */
  saveSession(req: Request<any, any, any>, response: Response): void;
}

const statusLines: string[] = [];
function statusLine(status: number): string {
  return (statusLines[status] ??= `${status} ${reasonPhrase(status)}`);
}

const PROBLEM_TYPE = 'application/problem+json';
const NO_BODY: ResponseBody = [];

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

type Serialize = (value: unknown) => string;

/** Converts what a handler returned into a Response; `serialize` writes JSON values (JSON.stringify by default). */
export function toResponse(value: unknown, serialize?: Serialize): Response {
  if (value instanceof Response) return value;
  if (value === null || value === undefined) return new Response(null, { status: 204 });
  if (typeof value === 'string') return new Response(value, { headers: [['content-type', TEXT_TYPE]] });
  if (value instanceof Uint8Array) return new Response(value, { headers: [['content-type', 'application/octet-stream']] });
  return new Response(jsonText(value, serialize), { headers: [['content-type', JSON_TYPE]] });
}

function jsonText(value: unknown, serialize: Serialize | undefined): string {
  return serialize === undefined ? JSON.stringify(value) ?? 'null' : serialize(value);
}

/**
 * The RFC 9457 `application/problem+json` response for an HTTP error — what the framework answers
 * by default; error handlers use it to answer the same way, optionally with extension members.
 *
 * @example
 * app.errorHandler(NotFound, (error, req) => problem(error, req, { hint: 'Ids start at 1.' }));
 */
export function problem(error: HttpError, req: Request<any, any, any>, extensions?: ProblemExtensions): Response {
  const document = error.toProblem(req.scriptName + req.path);
  if (extensions) Object.assign(document, extensions);
  const response = new Response(JSON.stringify(document), {
    status: error.status,
    headers: [['content-type', PROBLEM_TYPE]],
  });
  for (const [name, value] of Object.entries(error.headers)) response.headers.set(name, value);
  return response;
}

function closeBody(body: ResponseBody): void {
  if (Array.isArray(body)) return;
  const iterator = Symbol.asyncIterator in body
    ? (body as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    : (body as Iterable<unknown>)[Symbol.iterator]();
  void Promise.resolve(iterator.return?.()).catch(() => {});
}

/** Starts the TSGI response for a Response object and returns its body. */
function send(response: Response, method: string, startResponse: StartResponse): ResponseBody {
  const status = response.status;
  const headers: HeaderList = response.headers.list.slice();
  const bodyless = status === 204 || status === 304 || (status >= 100 && status < 200);
  let body: ResponseBody = NO_BODY;
  if (!bodyless) {
    const type = response.headers.has('content-type') ? undefined : defaultContentType(response.body);
    if (type) headers.push(['content-type', type]);
    const converted = toTsgiBody(response.body);
    body = converted.body;
    if (converted.length !== undefined && !response.headers.has('content-length')) {
      headers.push(['content-length', String(converted.length)]);
    }
  } else if (response.body !== null && response.body !== undefined) {
    closeBody(toTsgiBody(response.body).body);
  }
  startResponse(statusLine(status), headers);
  if (method === 'HEAD' && body !== NO_BODY) {
    closeBody(body);
    return NO_BODY;
  }
  return body;
}

/** The fast path's answer for a plain value, without building a Response. */
function sendValue(value: unknown, method: string, startResponse: StartResponse, serialize: Serialize | undefined): ResponseBody {
  let text: string;
  let type: string;
  if (typeof value === 'string') {
    text = value;
    type = TEXT_TYPE;
  } else if (value === null || value === undefined) {
    startResponse('204 No Content', []);
    return NO_BODY;
  } else {
    text = jsonText(value, serialize);
    type = JSON_TYPE;
  }
  startResponse('200 OK', [['content-type', type], ['content-length', String(Buffer.byteLength(text))]]);
  return method === 'HEAD' ? NO_BODY : [text];
}

export class Dispatcher {
  constructor(
    private readonly router: Router<Target>,
    /** Hooks and error handlers of the app alone, for requests no route matched. */
    private readonly appTarget: Omit<Target, 'handler' | 'info' | 'plain' | 'compiled'>,
    private readonly services: DispatchServices,
  ) {}

  dispatch(environ: Environ, startResponse: StartResponse): ResponseBody | Promise<ResponseBody> {
    const method = environ.REQUEST_METHOD;
    const match = this.router.match(method, environ.PATH_INFO || '/');
    if (match.kind !== 'found') return this.unmatched(match, environ, startResponse);
    const target = match.target;
    const req = new Request(this.services.ctx, environ, match.params, target.info);
    if (!target.plain) return this.run(req, target, startResponse);
    let value: unknown;
    try {
      value = target.handler(req);
    } catch (error) {
      return this.run(req, target, startResponse, { error });
    }
    if (isThenable(value)) {
      return Promise.resolve(value).then(
        (resolved) => this.finishPlain(req, target, resolved, startResponse),
        (error: unknown) => this.run(req, target, startResponse, { error }),
      );
    }
    return this.finishPlain(req, target, value, startResponse);
  }

  private finishPlain(req: Request<any, any, any>, target: Target, value: unknown, startResponse: StartResponse): ResponseBody | Promise<ResponseBody> {
    if (req.sessionOpened || value instanceof FileResponse) return this.run(req, target, startResponse, { value });
    try {
      if (value instanceof Response) return send(value, req.method, startResponse);
      if (value instanceof Uint8Array) return send(toResponse(value), req.method, startResponse);
      return sendValue(value, req.method, startResponse, target.compiled?.serialize);
    } catch (error) {
      return this.run(req, target, startResponse, { error });
    }
  }

  private unmatched(match: Exclude<ReturnType<Router<Target>['match']>, { kind: 'found' }>, environ: Environ, startResponse: StartResponse): Promise<ResponseBody> {
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
    const target: Target = { ...this.appTarget, handler, info: undefined, compiled: undefined, plain: false };
    return this.run(new Request(this.services.ctx, environ, {}, undefined), target, startResponse);
  }

  /** The full pipeline: before hooks, validation, handler, error handlers, after hooks, session, teardown. */
  private async run(req: Request<any, any, any>, target: Target, startResponse: StartResponse,
    first?: { value: unknown } | { error: unknown }): Promise<ResponseBody> {
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
      this.services.saveSession(req, response);
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
    return send(response, req.method, startResponse);
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
   * become a logged 500.
   */
  private async handleError(error: unknown, req: Request<any, any, any>, target: Target): Promise<{ response: Response; unhandled?: unknown }> {
    const scopes = target.errorScopes;
    if (error instanceof HttpError) {
      const handler = findHandler(scopes, error, true) ?? findHandler(scopes, error, false);
      if (handler) return { response: await this.resolve(await handler(error, req), req) };
      return { response: problem(error, req) };
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
