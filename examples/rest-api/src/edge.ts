/**
 * The API edge of this service, from @carafe/middleware, configured from the environment:
 * security headers (always), CORS for the origins in `CORS_ORIGINS`, a rate limit per client shared
 * by every worker of `carafe serve` (`RATE_LIMIT` per `RATE_LIMIT_WINDOW` seconds), trusted hosts
 * (`TRUSTED_HOSTS`), the interactive API reference at `/docs`, and JWT authentication on the write
 * routes once `JWT_JWKS_URL` or `JWT_SECRET` is set (off by default, so `npm start` needs nothing).
 */
import type { Carafe } from '@carafe/core';
import {
  cors,
  docsUi,
  jwtAuth,
  rateLimit,
  securityHeaders,
  trustedHosts,
  type DocumentedMiddleware,
  type JwtAuthOptions,
  type RateLimitStore,
} from '@carafe/middleware';
import { workerSharedStore } from '@carafe/server';

export interface EdgeSettings {
  /** Origins allowed to call the API from a browser; none by default (same-origin only). */
  corsOrigins: string[];
  /** Requests per window per client address; `undefined` turns the limit off. */
  rateLimit: { limit: number; window: number } | undefined;
  /** Host names the API answers for; `undefined` answers any. */
  trustedHosts: string[] | undefined;
  /** JWT verification for the write routes; `undefined` leaves them open. */
  jwt: JwtAuthOptions | undefined;
}

/** A comma-separated list, blanks dropped. */
function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  return n;
}

/** The settings from environment variables (see the README's table). */
export function edgeSettings(env: NodeJS.ProcessEnv = process.env): EdgeSettings {
  const limit = positive('RATE_LIMIT', env.RATE_LIMIT, 6000);
  const window = positive('RATE_LIMIT_WINDOW', env.RATE_LIMIT_WINDOW, 60);
  const hosts = list(env.TRUSTED_HOSTS);
  let jwt: JwtAuthOptions | undefined;
  if (env.JWT_JWKS_URL || env.JWT_SECRET) {
    jwt = {
      ...(env.JWT_JWKS_URL ? { jwksUrl: env.JWT_JWKS_URL } : { secret: env.JWT_SECRET! }),
      ...(env.JWT_ISSUER && { issuer: env.JWT_ISSUER }),
      ...(env.JWT_AUDIENCE && { audience: env.JWT_AUDIENCE }),
    };
    if (jwt.secret !== undefined && String(jwt.secret).length < 32) throw new Error('JWT_SECRET must be at least 32 characters');
  }
  return {
    corsOrigins: list(env.CORS_ORIGINS),
    rateLimit: limit > 0 && window > 0 ? { limit: Math.floor(limit), window } : undefined,
    trustedHosts: hosts.length > 0 ? hosts : undefined,
    jwt,
  };
}

/** Health probes are never limited: a load balancer or the kubelet asks them from one address. */
const PROBES = new Set(['/healthz', '/readyz']);

/**
 * Puts the edge on `app` (outermost first: trusted hosts, security headers, CORS, rate limit, docs)
 * and returns the middleware for the write routes (the JWT check, or none).
 */
export function applyEdge(app: Carafe, settings: EdgeSettings, store: RateLimitStore = workerSharedStore()): DocumentedMiddleware[] {
  if (settings.trustedHosts) app.use(trustedHosts({ hosts: settings.trustedHosts }));
  app.use(
    securityHeaders(),
    cors({
      origin: settings.corsOrigins,
      exposedHeaders: ['Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
    }),
  );
  if (settings.rateLimit) {
    app.use(rateLimit({ ...settings.rateLimit, store, skip: (environ) => PROBES.has(environ.PATH_INFO) }));
  }
  app.use(docsUi({ path: '/docs', spec: '/openapi.json', title: 'Carafe REST API example' }));
  return settings.jwt ? [jwtAuth(settings.jwt)] : [];
}
