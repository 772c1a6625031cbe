/**
 * TSGI middleware on a Carafe app, blueprint or route (`app.use`, `bp.use`, the `middleware` route
 * option): the environ keys core fills for the middleware it runs, and what OpenAPI learns from
 * middleware that describe themselves (an `openapi` property, as `@carafe/middleware`'s
 * authentication and rate limiting have). Core does not import any middleware package.
 */
import type { TsgiMiddleware } from '@carafe/gateway';

/**
 * Set on a request's environ once it went through its route's middleware, so the dispatch they
 * wrap goes on with the route instead of entering them again.
 */
export const ROUTE_MIDDLEWARE_KEY = 'carafe.route_middleware';

/**
 * A function `(path) => methods | undefined` giving the methods a `PATH_INFO` answers (an `Allow`
 * list), set for the middleware a Carafe app runs: a CORS preflight answered before routing lists
 * the route's real methods.
 */
export const ALLOWED_METHODS_KEY = 'carafe.allowed_methods';

/**
 * What a middleware tells `app.openapi()` about the operations it wraps, in its `openapi` property:
 * security schemes (→ `components.securitySchemes`), the requirement it enforces (→ the operation's
 * `security`: alternatives, each an AND of schemes) and the responses it may answer with.
 */
export interface OpenApiContribution {
  securitySchemes?: Record<string, Record<string, unknown>>;
  security?: ReadonlyArray<Record<string, readonly string[]>>;
  responses?: Record<string, Record<string, unknown>>;
}

/** What the middleware around one operation add to its documentation. */
export interface MiddlewareDocs {
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, Record<string, unknown>>;
  securitySchemes?: Record<string, Record<string, unknown>>;
}

/**
 * Combines the contributions of the middleware around an operation, outermost first: every
 * middleware must pass, so their requirements are ANDed (each alternative of one with each of the
 * other); responses and schemes are merged.
 */
export function documentMiddleware(middleware: readonly TsgiMiddleware[]): MiddlewareDocs {
  const docs: MiddlewareDocs = {};
  for (const mw of middleware) {
    const contribution = (mw as { openapi?: OpenApiContribution }).openapi;
    if (contribution === undefined) continue;
    if (contribution.securitySchemes) docs.securitySchemes = { ...docs.securitySchemes, ...contribution.securitySchemes };
    if (contribution.responses) docs.responses = { ...docs.responses, ...contribution.responses };
    if (contribution.security) {
      const alternatives = contribution.security.map((requirement) =>
        Object.fromEntries(Object.entries(requirement).map(([name, scopes]) => [name, [...scopes]])),
      );
      docs.security =
        docs.security === undefined
          ? alternatives
          : docs.security.flatMap((left) => alternatives.map((right) => mergeRequirements(left, right)));
    }
  }
  return docs;
}

function mergeRequirements(left: Record<string, string[]>, right: Record<string, string[]>): Record<string, string[]> {
  const merged: Record<string, string[]> = { ...left };
  for (const [name, scopes] of Object.entries(right)) merged[name] = [...new Set([...(merged[name] ?? []), ...scopes])];
  return merged;
}
