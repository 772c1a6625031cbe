/**
 * The identity an authentication middleware verified (`@carafe/middleware`'s `jwtAuth`,
 * `bearerAuth`, `basicAuth`, or one of yours), as a request shows it: `req.auth` and `req.user`
 * read `environ['carafe.auth']`.
 */

/** The environ key authentication middleware put the verified identity in. */
export const AUTH_KEY = 'carafe.auth';

/**
 * Your user type, for `req.user`: declare it by declaration merging and map the credentials to it
 * in the middleware (`jwtAuth({ user: (claims) => … })`, a `verify` returning `{ user }`).
 *
 * ```ts
 * declare module '@carafe/core' {
 *   interface CarafeUser { id: string; roles: string[] }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface CarafeUser {}

/** A verified identity (the shape `@carafe/middleware`'s `AuthInfo` has). */
export interface RequestAuth {
  /** The scheme it was verified with: `Bearer`, `Basic`, … */
  readonly scheme: string;
  /** Who: a JWT's `sub`, a Basic user name, or what a verify function returned. */
  readonly subject: string | undefined;
  /** The scopes granted. */
  readonly scopes: readonly string[];
  /** A JWT's verified claims. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The user the middleware mapped the credentials to. */
  readonly user?: CarafeUser;
}
