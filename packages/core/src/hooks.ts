/**
 * The kinds of request hooks and error handlers, and the set of them one level of an application
 * holds: an app, a blueprint, or the app-wide part a blueprint registers (Flask's
 * `before_app_request`, `app_errorhandler`, …). Kept apart from scaffold.ts so that the route
 * compiler and the dispatcher read hook sets without the registration API.
 */
import type { Request } from './request.js';
import type { Response } from './response.js';
import type { UrlDefaultsHook } from './url.js';

/** Runs before the handler; returning anything but `undefined`/`null` short-circuits with that response. */
export type BeforeRequestHook = (req: Request<any, any, any>) => unknown;
/** Runs after the handler; may modify the response or return a replacement. */
export type AfterRequestHook = (response: Response, req: Request<any, any, any>) => unknown;
/** Always runs at the end of a request; receives the unhandled error, if there was one. */
export type TeardownHook = (error: unknown, req: Request<any, any, any>) => unknown;
/** Turns an error into a response (any value a handler may return). */
export type ErrorHandler<E = any> = (error: E, req: Request<any, any, any>) => unknown;
/**
 * Runs on a matched route's params before the before-request hooks (Flask's `url_value_preprocessor`):
 * may take values out of `params` (it is `req.params`), e.g. into `req.state`.
 */
export type UrlValuePreprocessor = (name: string, params: Record<string, unknown>, req: Request<any, any, any>) => void;
/** Fills in params before `urlFor` builds a URL (Flask's `url_defaults`); `req` is absent outside a request. */
export type UrlDefaults = UrlDefaultsHook<Request<any, any, any>>;

/** The error handlers of one level, by status and by class; the dispatcher looks them up. */
export interface HandlerScope {
  readonly statusHandlers: Map<number, ErrorHandler>;
  readonly classHandlers: Map<Function, ErrorHandler>;
}

/** Everything one level of an application registers besides routes. */
export interface HookSet extends HandlerScope {
  readonly beforeHooks: BeforeRequestHook[];
  readonly afterHooks: AfterRequestHook[];
  readonly teardownHooks: TeardownHook[];
  readonly urlDefaultsHooks: UrlDefaults[];
  readonly urlValuePreprocessors: UrlValuePreprocessor[];
}

/** An empty {@link HookSet}. */
export function hookSet(): HookSet {
  return {
    beforeHooks: [],
    afterHooks: [],
    teardownHooks: [],
    statusHandlers: new Map(),
    classHandlers: new Map(),
    urlDefaultsHooks: [],
    urlValuePreprocessors: [],
  };
}

/** What `errorHandler` accepts: an HTTP error status, or an error class. */
export type ErrorKey<E> = number | (abstract new (...args: any[]) => E);

/**
 * Adds `handler` for `key` to `scope`, refusing what could never match (as Flask does): a status
 * outside 400–599, or something that is not a class (an error instance, say).
 */
export function addErrorHandler(scope: HandlerScope, key: ErrorKey<unknown>, handler: ErrorHandler): void {
  if (typeof handler !== 'function') throw new TypeError('An error handler must be a function');
  if (typeof key === 'number') {
    if (!Number.isInteger(key) || key < 400 || key > 599)
      throw new RangeError(`Error handlers take an HTTP error status (400-599), got ${key}`);
    scope.statusHandlers.set(key, handler);
  } else if (typeof key === 'function') {
    scope.classHandlers.set(key, handler);
  } else {
    throw new TypeError(`Error handlers take a status or an error class, got ${String(key)}; pass the class, not an instance`);
  }
}
