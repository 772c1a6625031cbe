/**
 * @carafe/middleware: the API edge as TSGI middleware — CORS, security headers, authentication
 * (Bearer, Basic, JWT with JWKS), CSRF protection, rate limiting, trusted hosts and an offline
 * docs UI. Each is a factory `(options) => TsgiMiddleware`: use it around any TSGI application, in
 * `carafe serve`'s config (`middleware: [...]`), or attach it to a Carafe app, blueprint or route
 * (`app.use(mw)`, `bp.use(mw)`, `{ middleware: [mw] }`).
 */
export { cors, ALLOWED_METHODS_KEY, type AllowedMethods, type CorsOptions, type OriginOption, type OriginPattern } from './cors.js';
export { securityHeaders, API_CSP, HTML_CSP, type HstsOptions, type SecurityHeadersOptions } from './security-headers.js';
export {
  AUTH_KEY,
  authOf,
  basicAuth,
  bearerAuth,
  requireScopes,
  timingSafeEqual,
  type AuthFailure,
  type AuthInfo,
  type AuthOptions,
  type BasicAuthOptions,
  type BearerAuthOptions,
  type Verified,
} from './auth.js';
export { jwtAuth, scopesOf, type JwtAuthOptions } from './jwt.js';
export { csrf, crossOriginRefusal, type CsrfOptions } from './csrf.js';
export {
  rateLimit,
  MemoryStore,
  clientKey,
  type RateLimitHit,
  type RateLimitKey,
  type RateLimitOptions,
  type RateLimitStore,
} from './rate-limit.js';
export { MongoRateLimitStore, type CounterCollection, type SlotDocument } from './mongo-store.js';
export { trustedHosts, hostMatches, type TrustedHostsOptions } from './trusted-hosts.js';
export { docsUi, docsCsp, type DocsUiOptions } from './docs-ui.js';
export type { DocumentedMiddleware, OpenApiContribution } from './util.js';
