import { HttpStatusError, STATUS_TEXT } from '@carafe/gateway';
import { Response } from './response.js';
import type { FieldError } from './schema.js';
import { encodePath } from './uri.js';

/** Extra members of an RFC 9457 problem document beyond the standard ones. */
export type ProblemExtensions = Record<string, unknown>;

/** Options accepted by every {@link HttpError} constructor. */
export interface HttpErrorOptions {
  /** A URI identifying the problem type; defaults to `about:blank`. */
  type?: string;
  /** A short summary; defaults to the status reason phrase. */
  title?: string;
  /** Extra headers sent with the error response (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  /** Extension members added to the problem document. */
  extensions?: ProblemExtensions;
  /** The underlying error, kept for logging; never sent to the client. */
  cause?: unknown;
}

/** The reason phrase for a status code (`404` → `"Not Found"`). */
export function reasonPhrase(status: number): string {
  return STATUS_TEXT[status] ?? (status >= 500 ? 'Server Error' : status >= 400 ? 'Client Error' : 'Unknown');
}

/**
 * An error that maps to an HTTP response. Throw it (or call {@link abort}) from a handler or hook;
 * unless an error handler says otherwise it is answered as `application/problem+json` (RFC 9457).
 *
 * It is a gateway `HttpStatusError`, so servers and middleware around the app understand it too;
 * an `HttpStatusError` from elsewhere (e.g. the server's 413 while reading the body) reaches the
 * app's error handlers as the `HttpError` of its status.
 */
export class HttpError extends HttpStatusError {
  /** A human-readable explanation specific to this occurrence (the problem's `detail`). */
  readonly detail: string | undefined;
  readonly type: string;
  readonly title: string;
  readonly headers: Record<string, string>;
  readonly extensions: ProblemExtensions;

  constructor(status: number, detail?: string, options: HttpErrorOptions = {}) {
    const title = options.title ?? reasonPhrase(status);
    super(status, detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = detail;
    this.type = options.type ?? 'about:blank';
    this.title = title;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  /** The RFC 9457 problem document for this error; `instance` is usually the request path. */
  toProblem(instance?: string): Record<string, unknown> {
    const problem: Record<string, unknown> = { type: this.type, title: this.title, status: this.status };
    if (this.detail !== undefined) problem.detail = this.detail;
    if (instance !== undefined) problem.instance = instance;
    return Object.assign(problem, this.extensions);
  }
}

type Detail = [detail?: string, options?: HttpErrorOptions];

/** 400: the request is malformed. */
export class BadRequest extends HttpError {
  constructor(...[d, o]: Detail) {
    super(400, d, o);
  }
}
/** 401: authentication is required. */
export class Unauthorized extends HttpError {
  constructor(...[d, o]: Detail) {
    super(401, d, o);
  }
}
/** 403: the client may not do this. */
export class Forbidden extends HttpError {
  constructor(...[d, o]: Detail) {
    super(403, d, o);
  }
}
/** 404: nothing here. */
export class NotFound extends HttpError {
  constructor(...[d, o]: Detail) {
    super(404, d, o);
  }
}
/** 405: the path exists but not with this method; carries the `Allow` header. */
export class MethodNotAllowed extends HttpError {
  readonly allowed: string[];
  constructor(allowed: string[], detail?: string, options: HttpErrorOptions = {}) {
    super(405, detail, { ...options, headers: { ...options.headers, allow: allowed.join(', ') } });
    this.allowed = allowed;
  }
}
/** 406: no acceptable representation. */
export class NotAcceptable extends HttpError {
  constructor(...[d, o]: Detail) {
    super(406, d, o);
  }
}
/** 408: the client took too long to send the request. */
export class RequestTimeout extends HttpError {
  constructor(...[d, o]: Detail) {
    super(408, d, o);
  }
}
/** 409: the request conflicts with the current state. */
export class Conflict extends HttpError {
  constructor(...[d, o]: Detail) {
    super(409, d, o);
  }
}
/** 410: gone for good. */
export class Gone extends HttpError {
  constructor(...[d, o]: Detail) {
    super(410, d, o);
  }
}
/** 411: a `Content-Length` is required. */
export class LengthRequired extends HttpError {
  constructor(...[d, o]: Detail) {
    super(411, d, o);
  }
}
/** 412: a precondition header failed. */
export class PreconditionFailed extends HttpError {
  constructor(...[d, o]: Detail) {
    super(412, d, o);
  }
}
/** 413: the body exceeds `config.maxContentLength`. */
export class ContentTooLarge extends HttpError {
  constructor(...[d, o]: Detail) {
    super(413, d, o);
  }
}
/** 415: the body's media type is not accepted here. */
export class UnsupportedMediaType extends HttpError {
  constructor(...[d, o]: Detail) {
    super(415, d, o);
  }
}
/** 422: well-formed but semantically invalid. */
export class UnprocessableContent extends HttpError {
  constructor(...[d, o]: Detail) {
    super(422, d, o);
  }
}
/** 429: rate limited. */
export class TooManyRequests extends HttpError {
  constructor(...[d, o]: Detail) {
    super(429, d, o);
  }
}
/** 500: an unexpected failure; the cause is logged, never sent unless `debug` is on. */
export class InternalServerError extends HttpError {
  constructor(...[d, o]: Detail) {
    super(500, d, o);
  }
}
/** 501: not implemented. */
export class NotImplemented extends HttpError {
  constructor(...[d, o]: Detail) {
    super(501, d, o);
  }
}
/** 502: bad upstream answer. */
export class BadGateway extends HttpError {
  constructor(...[d, o]: Detail) {
    super(502, d, o);
  }
}
/** 503: temporarily unavailable. */
export class ServiceUnavailable extends HttpError {
  constructor(...[d, o]: Detail) {
    super(503, d, o);
  }
}
/** 504: upstream timed out. */
export class GatewayTimeout extends HttpError {
  constructor(...[d, o]: Detail) {
    super(504, d, o);
  }
}

/**
 * 400 raised when a schema rejects the request; the problem document lists every failing field
 * under `errors`.
 */
export class ValidationError extends BadRequest {
  readonly errors: FieldError[];
  constructor(errors: FieldError[], detail = 'The request failed validation.') {
    super(detail, { extensions: { errors } });
    this.errors = errors;
  }
}

const byStatus = new Map<number, new (detail?: string, options?: HttpErrorOptions) => HttpError>([
  [400, BadRequest],
  [401, Unauthorized],
  [403, Forbidden],
  [404, NotFound],
  [406, NotAcceptable],
  [408, RequestTimeout],
  [409, Conflict],
  [410, Gone],
  [411, LengthRequired],
  [412, PreconditionFailed],
  [413, ContentTooLarge],
  [415, UnsupportedMediaType],
  [422, UnprocessableContent],
  [429, TooManyRequests],
  [500, InternalServerError],
  [501, NotImplemented],
  [502, BadGateway],
  [503, ServiceUnavailable],
  [504, GatewayTimeout],
]);

/**
 * The class `abort(status)` throws for a status (`404` → `NotFound`; `HttpError` for a status without
 * a class of its own): where a handler registered for the status sits among the classes (Flask files
 * `errorhandler(404)` under `NotFound`).
 */
export function statusErrorClass(status: number): Function {
  return byStatus.get(status) ?? HttpError;
}

/** Builds the most specific {@link HttpError} for a status (`404` → `NotFound`). */
export function httpError(status: number, detail?: string, options?: HttpErrorOptions): HttpError {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`HTTP error status must be an integer in 400..599, got ${status}`);
  }
  const ErrorClass = byStatus.get(status);
  return ErrorClass ? new ErrorClass(detail, options) : new HttpError(status, detail, options);
}

/**
 * What `abort(response)` throws: it stops the request and sends `response` as it is. Error handlers
 * do not see it (Flask passes an `HTTPException` carrying a response through unchanged); after-request
 * hooks still run.
 */
export class ResponseAbort extends Error {
  readonly response: Response;
  constructor(response: Response) {
    super(`The request was aborted with a ${response.status} response`);
    this.name = 'ResponseAbort';
    this.response = response;
  }
}

/**
 * Stops the request, like Flask's `abort`: `abort(404)`, `abort(403, "Not yours")` throw the matching
 * {@link HttpError} subclass, so `errorHandler(NotFound, …)` catches `abort(404)`; `abort(response)`
 * sends a ready response as it is (see {@link ResponseAbort}).
 */
export function abort(response: Response): never;
export function abort(status: number, detail?: string, options?: HttpErrorOptions): never;
export function abort(status: number | Response, detail?: string, options?: HttpErrorOptions): never {
  if (status instanceof Response) throw new ResponseAbort(status);
  throw httpError(status, detail, options);
}

/** What {@link problem} reads of a request: where it was sent, for the problem's `instance`. */
export interface ProblemRequest {
  /** Decoded, as `SCRIPT_NAME` is. */
  readonly scriptName: string;
  /** Decoded, as `PATH_INFO` is. */
  readonly path: string;
}

const PROBLEM_TYPE = 'application/problem+json';

/**
 * The RFC 9457 `application/problem+json` response for an HTTP error — what the framework answers
 * by default; error handlers use it to answer the same way, optionally with extension members.
 *
 * @example
 * app.errorHandler(NotFound, (error, req) => problem(error, req, { hint: 'Ids start at 1.' }));
 */
export function problem(error: HttpError, req: ProblemRequest, extensions?: ProblemExtensions): Response {
  // `instance` is a URI reference: the decoded path percent-encoded again (a space, `é` or `?` would break it).
  const document = error.toProblem(encodePath(req.scriptName + req.path));
  if (extensions) Object.assign(document, extensions);
  const response = new Response(JSON.stringify(document), {
    status: error.status,
    headers: [['content-type', PROBLEM_TYPE]],
  });
  for (const [name, value] of Object.entries(error.headers)) response.headers.set(name, value);
  return response;
}

/**
 * The {@link HttpError} for an `HttpStatusError` thrown outside the framework (the server's
 * `BodyTooLargeError` while reading the body), so error handlers see one kind of HTTP error.
 */
export function toHttpError(error: HttpStatusError): HttpError {
  return error instanceof HttpError ? error : httpError(error.status, error.message, { cause: error });
}
