/**
 * Which registered error handler answers an error: Flask's `_find_error_handler`, on the handler
 * scopes of the route that failed (innermost blueprint first, then the app, then the app-wide
 * handlers of blueprints).
 */
import { HttpError, statusErrorClass } from './errors.js';
import type { ErrorHandler, HandlerScope } from './hooks.js';

/**
 * The handler for `error`, the way Flask looks it up. For an {@link HttpError}: first among the
 * handlers specific to HTTP errors — in each scope from the innermost out, along the error's class
 * chain from its own class, where a handler for the status sits at the status's class (`404` at
 * `NotFound`; `HttpError` for a status without a class), so a handler for a subclass beats one for
 * its status — then, like any other error, among handlers for its base classes (`HttpError`,
 * `Error`, …), again scope by scope.
 */
export function findErrorHandler(scopes: readonly HandlerScope[], error: unknown): ErrorHandler | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if (error instanceof HttpError) {
    const specific = findSpecific(scopes, error);
    if (specific !== undefined) return specific;
  }
  for (const scope of scopes) {
    if (scope.classHandlers.size === 0) continue;
    for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
      const ctor = proto.constructor as Function;
      if (ctor === Object) break;
      const handler = scope.classHandlers.get(ctor);
      if (handler) return handler;
    }
  }
  return undefined;
}

/** The handler among those for the error's status and its classes below `HttpError`. */
function findSpecific(scopes: readonly HandlerScope[], error: HttpError): ErrorHandler | undefined {
  const statusClass = statusErrorClass(error.status);
  for (const scope of scopes) {
    const byStatus = scope.statusHandlers.get(error.status);
    for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
      const ctor = proto.constructor as Function;
      // The status's own class is not in the chain (a bare `new HttpError(404)`): the status handler sits here.
      if (ctor === HttpError) {
        if (byStatus) return byStatus;
        break;
      }
      const handler = scope.classHandlers.get(ctor);
      if (handler) return handler;
      if (ctor === statusClass && byStatus) return byStatus;
    }
  }
  return undefined;
}
