/**
 * Authentication: the `Authorization` header's Bearer (RFC 6750) and Basic (RFC 7617) schemes, the
 * verified identity in `environ['carafe.auth']`, and the challenges those RFCs prescribe — `401`
 * with `WWW-Authenticate` for missing or bad credentials, `403` with `error="insufficient_scope"`
 * for missing scopes. Secrets are compared in constant time (both sides hashed with SHA-256, then
 * compared byte by byte without an early exit), with Web Crypto only.
 */
import { keepLifespan, type Environ, type TsgiApplication, type TsgiResult } from '@carafe/gateway';
import { documented, problem, problemDoc, quoted, type DocumentedMiddleware, type OpenApiContribution } from './util.js';

/** The environ key holding the verified identity (`req.auth` in @carafe/core). */
export const AUTH_KEY = 'carafe.auth';

/** A verified identity, as an authentication middleware leaves it in `environ['carafe.auth']`. */
export interface AuthInfo {
  /** The scheme it was verified with. */
  scheme: 'Bearer' | 'Basic';
  /** Who: a JWT's `sub`, a Basic user name, or what a `verify` function returned. */
  subject: string | undefined;
  /** The scopes granted (a JWT's `scope`/`scp`, or what `verify` returned). */
  scopes: readonly string[];
  /** A JWT's verified claims. */
  claims?: Record<string, unknown>;
  /** What the application's `verify` (or a JWT's `user` mapping) returned as the user. */
  user?: unknown;
}

/** The identity of a request, if an authentication middleware verified one. */
export function authOf(environ: Environ): AuthInfo | undefined {
  return environ[AUTH_KEY] as AuthInfo | undefined;
}

/** Options every authentication middleware takes. */
export interface AuthOptions {
  /** The protection space named in challenges (`realm="api"`). */
  realm?: string;
  /** Scopes the identity must all have; otherwise `403` with `error="insufficient_scope"`. */
  scopes?: readonly string[];
  /** Let requests without credentials through, without an identity (bad credentials are still refused). */
  optional?: boolean;
  /** The name of the security scheme in the OpenAPI document. */
  schemeName?: string;
}

/** What a `verify` function may return: `false`/`null`/`undefined` to refuse, `true` or parts of an identity to accept. */
export type Verified = boolean | null | undefined | { subject?: string; scopes?: readonly string[]; user?: unknown };

/** A refusal: the status, the RFC 6750 error code (Bearer), a description for the client, and extra headers. */
export interface AuthFailure {
  status: 400 | 401 | 503;
  error?: 'invalid_request' | 'invalid_token';
  description: string;
}

const encoder = new TextEncoder();

/** SHA-256 of the UTF-8 of `text`. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** Equal byte arrays, compared in time that depends on their lengths only. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Whether `given` equals one of `expected` (already hashed), and which: every entry is compared,
 * whatever matched, so the time taken tells nothing about the secrets.
 */
export async function constantTimeFind(given: string, expected: readonly Uint8Array[]): Promise<number> {
  const hash = await sha256(given);
  let found = -1;
  for (let i = 0; i < expected.length; i++) if (timingSafeEqual(hash, expected[i]!) && found === -1) found = i;
  return found;
}

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The credentials after `scheme` in an Authorization header; `undefined` when absent or another scheme. */
function credentialsFor(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  const name = space === -1 ? header : header.slice(0, space);
  if (name.toLowerCase() !== scheme.toLowerCase()) return undefined;
  return space === -1 ? '' : header.slice(space + 1).trim();
}

/** The fields a generic engine needs to run one scheme. */
interface Engine {
  scheme: 'Bearer' | 'Basic';
  options: AuthOptions;
  check(credentials: string, environ: Environ): AuthInfo | AuthFailure | Promise<AuthInfo | AuthFailure>;
  openapi: OpenApiContribution;
}

function challengeValue(
  scheme: 'Bearer' | 'Basic',
  realm: string,
  failure?: { error?: string; description?: string; scope?: string },
): string {
  const params = [`realm=${quoted(realm)}`];
  if (scheme === 'Basic') params.push('charset="UTF-8"');
  if (failure?.error) params.push(`error=${quoted(failure.error)}`);
  if (failure?.error && failure.description) params.push(`error_description=${quoted(failure.description)}`);
  if (failure?.scope) params.push(`scope=${quoted(failure.scope)}`);
  return `${scheme} ${params.join(', ')}`;
}

/** The 403 of RFC 6750 §3.1 when the identity lacks one of `scopes`, else `undefined`. */
export function scopeFailure(info: AuthInfo, scopes: readonly string[] | undefined, realm = 'api') {
  if (scopes === undefined || scopes.length === 0) return undefined;
  const missing = scopes.filter((scope) => !info.scopes.includes(scope));
  if (missing.length === 0) return undefined;
  const description = `The token lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`;
  return problem(403, description, [
    ['WWW-Authenticate', challengeValue('Bearer', realm, { error: 'insufficient_scope', description, scope: scopes.join(' ') })],
  ]);
}

function isFailure(result: AuthInfo | AuthFailure): result is AuthFailure {
  return (result as AuthFailure).status !== undefined;
}

function engine(config: Engine): DocumentedMiddleware {
  const { scheme, options } = config;
  const realm = options.realm ?? 'api';
  const missing = problem(401, 'This request needs credentials.', [['WWW-Authenticate', challengeValue(scheme, realm)]]);
  const refuse = (failure: AuthFailure) => {
    if (failure.status === 503) return problem(503, failure.description, [['Retry-After', '5']]);
    const challenge = challengeValue(scheme, realm, { error: failure.error, description: failure.description });
    return problem(failure.status, failure.description, [['WWW-Authenticate', challenge]]);
  };
  const settle = (app: TsgiApplication, environ: Environ, result: AuthInfo | AuthFailure): TsgiResult => {
    if (isFailure(result)) return refuse(result);
    const forbidden = scopeFailure(result, options.scopes, realm);
    if (forbidden !== undefined) return forbidden;
    environ[AUTH_KEY] = result;
    return app(environ);
  };
  const middleware = (app: TsgiApplication) =>
    keepLifespan((environ: Environ) => {
      const credentials = credentialsFor(environ.HTTP_AUTHORIZATION, scheme);
      if (credentials === undefined) return options.optional ? app(environ) : missing;
      let result: AuthInfo | AuthFailure | Promise<AuthInfo | AuthFailure>;
      try {
        result = config.check(credentials, environ);
      } catch (error) {
        return Promise.reject(error);
      }
      if (result instanceof Promise) return result.then((settled) => settle(app, environ, settled));
      return settle(app, environ, result);
    }, app);
  return documented(middleware, config.openapi);
}

function accepted(scheme: 'Bearer' | 'Basic', verified: Verified, fallbackSubject: string | undefined): AuthInfo | undefined {
  if (verified === false || verified === null || verified === undefined) return undefined;
  const parts = verified === true ? {} : verified;
  return {
    scheme,
    subject: parts.subject ?? fallbackSubject,
    scopes: parts.scopes ?? [],
    ...(parts.user !== undefined && { user: parts.user }),
  };
}

function responsesDoc(scopes: readonly string[] | undefined): Record<string, Record<string, unknown>> {
  return {
    '401': problemDoc('Missing or invalid credentials', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
    ...(scopes?.length ? { '403': problemDoc('The credentials lack a required scope') } : {}),
  };
}

export interface BearerAuthOptions extends AuthOptions {
  /** Static tokens (API keys) accepted as they are, compared in constant time. */
  tokens?: readonly string[];
  /** Checks a token (an opaque token looked up in a database, say). Called when `tokens` did not match. */
  verify?: (token: string, environ: Environ) => Verified | Promise<Verified>;
}

/**
 * Bearer tokens (RFC 6750): static tokens, or any token your `verify` accepts. For JWTs use {@link jwtAuth}.
 *
 * @example bearerAuth({ tokens: [process.env.API_TOKEN!] })
 */
export function bearerAuth(options: BearerAuthOptions): DocumentedMiddleware {
  if (!options.tokens?.length && !options.verify) throw new TypeError('bearerAuth(): give `tokens` or `verify`');
  let hashes: Promise<Uint8Array[]> | undefined;
  const name = options.schemeName ?? 'bearerAuth';
  return engine({
    scheme: 'Bearer',
    options,
    async check(token, environ) {
      if (!TOKEN68.test(token))
        return { status: 400, error: 'invalid_request', description: 'The Authorization header is not a valid Bearer token.' };
      if (options.tokens?.length) {
        hashes ??= Promise.all(options.tokens.map(sha256));
        const index = await constantTimeFind(token, await hashes);
        if (index !== -1) return { scheme: 'Bearer', subject: undefined, scopes: [] };
      }
      const info = options.verify ? accepted('Bearer', await options.verify(token, environ), undefined) : undefined;
      return info ?? { status: 401, error: 'invalid_token', description: 'The access token is not valid.' };
    },
    openapi: {
      securitySchemes: { [name]: { type: 'http', scheme: 'bearer' } },
      security: [{ [name]: options.scopes ?? [] }],
      responses: responsesDoc(options.scopes),
    },
  });
}

export interface BasicAuthOptions extends AuthOptions {
  /** User names and their passwords, compared in constant time (the name and password together). */
  users?: Readonly<Record<string, string>>;
  /** Checks a user name and password (against password hashes in a database, say). Called when `users` did not match. */
  verify?: (username: string, password: string, environ: Environ) => Verified | Promise<Verified>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBasic(credentials: string): [string, string] | undefined {
  if (!TOKEN68.test(credentials)) return undefined;
  try {
    const binary = atob(credentials);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const text = utf8.decode(bytes);
    const colon = text.indexOf(':');
    return colon === -1 ? undefined : [text.slice(0, colon), text.slice(colon + 1)];
  } catch {
    return undefined;
  }
}

/**
 * HTTP Basic authentication (RFC 7617). Only over https: the password travels in every request.
 *
 * @example basicAuth({ users: { admin: process.env.ADMIN_PASSWORD! }, realm: 'admin' })
 */
export function basicAuth(options: BasicAuthOptions): DocumentedMiddleware {
  const users = Object.entries(options.users ?? {});
  if (users.length === 0 && !options.verify) throw new TypeError('basicAuth(): give `users` or `verify`');
  let hashes: Promise<Uint8Array[]> | undefined;
  const name = options.schemeName ?? 'basicAuth';
  return engine({
    scheme: 'Basic',
    options,
    async check(credentials, environ) {
      const pair = decodeBasic(credentials);
      if (pair === undefined) return { status: 401, description: 'The Basic credentials are malformed.' };
      const [username, password] = pair;
      if (users.length > 0) {
        hashes ??= Promise.all(users.map(([user, pass]) => sha256(`${user}:${pass}`)));
        const index = await constantTimeFind(`${username}:${password}`, await hashes);
        if (index !== -1) return { scheme: 'Basic', subject: users[index]![0], scopes: [] };
      }
      const info = options.verify ? accepted('Basic', await options.verify(username, password, environ), username) : undefined;
      return info ?? { status: 401, description: 'The user name or password is not valid.' };
    },
    openapi: {
      securitySchemes: { [name]: { type: 'http', scheme: 'basic' } },
      security: [{ [name]: options.scopes ?? [] }],
      responses: responsesDoc(options.scopes),
    },
  });
}

/**
 * Requires an identity with every one of `scopes`, verified by an authentication middleware
 * further out: `401` without one, `403` (`error="insufficient_scope"`) when a scope is missing.
 *
 * @example bp.use(requireScopes('todos:write'))
 */
export function requireScopes(...scopes: string[]): DocumentedMiddleware {
  const missing = problem(401, 'This request needs credentials.', [['WWW-Authenticate', challengeValue('Bearer', 'api')]]);
  const middleware = (app: TsgiApplication) =>
    keepLifespan((environ: Environ) => {
      const info = authOf(environ);
      if (info === undefined) return missing;
      return scopeFailure(info, scopes) ?? app(environ);
    }, app);
  return documented(middleware, { responses: responsesDoc(scopes) });
}

export { challengeValue, engine as authEngine };
