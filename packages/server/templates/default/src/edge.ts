import type { Carafe } from '@carafe/core';
import { cors, docsUi, jwtAuth, rateLimit, securityHeaders, type DocumentedMiddleware } from '@carafe/middleware';
import { workerSharedStore } from '@carafe/server';

/**
 * The API edge, from @carafe/middleware, set by environment variables (see the README):
 * security headers always; CORS for CORS_ORIGINS (none by default: same-origin only); a rate limit
 * of RATE_LIMIT requests per RATE_LIMIT_WINDOW seconds per client (600 a minute; 0 turns it off),
 * counted across all workers; the API reference at /docs; and JWT authentication on the write
 * routes once JWT_JWKS_URL or JWT_SECRET is set (with JWT_ISSUER, JWT_AUDIENCE).
 */
const env = process.env;
const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** The middleware of the routes that change data: a JWT check when configured, else none. */
export const writeAuth: DocumentedMiddleware[] =
  env.JWT_JWKS_URL || env.JWT_SECRET
    ? [
        jwtAuth({
          ...(env.JWT_JWKS_URL ? { jwksUrl: env.JWT_JWKS_URL } : { secret: env.JWT_SECRET! }),
          ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
          ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
        }),
      ]
    : [];

/** Puts the edge around the whole app, outermost first. */
export function useEdge(app: Carafe): void {
  app.use(securityHeaders(), cors({ origin: list(env.CORS_ORIGINS), exposedHeaders: ['Location', 'RateLimit', 'RateLimit-Policy'] }));
  const limit = Number(env.RATE_LIMIT ?? 600);
  const window = Number(env.RATE_LIMIT_WINDOW ?? 60);
  if (limit > 0 && window > 0) {
    app.use(rateLimit({ limit, window, store: workerSharedStore(), skip: (environ) => environ.PATH_INFO === '/healthz' }));
  }
  app.use(docsUi({ path: '/docs', spec: '/openapi.json' }));
}
