/**
 * JWT bearer tokens verified with `jose`: HMAC secrets (HS*), public keys (RS*, PS*, ES*, EdDSA)
 * and remote JWKS sets with caching and key rotation (`createRemoteJWKSet`: a token whose `kid` is
 * not in the cached set makes it fetch the set again, at most once per cooldown), with issuer,
 * audience, expiry and clock-skew checks.
 */
import type { Environ } from '@carafe/gateway';
import {
  createRemoteJWKSet,
  errors,
  importJWK,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type KeyObject,
} from 'jose';
import { authEngine, type AuthFailure, type AuthInfo, type AuthOptions } from './auth.js';
import type { DocumentedMiddleware } from './util.js';

export interface JwtAuthOptions extends AuthOptions {
  /** An HMAC secret (HS256/384/512). */
  secret?: string | Uint8Array;
  /** A PEM public key (`-----BEGIN PUBLIC KEY-----`); give `algorithms` with it. */
  publicKey?: string;
  /** A key as a JWK, a Web Crypto `CryptoKey` or a Node `KeyObject`. */
  key?: JWK | CryptoKey | KeyObject;
  /** The URL of a JSON Web Key Set (`/.well-known/jwks.json`): fetched when needed, cached, refetched on an unknown `kid`. */
  jwksUrl?: string | URL;
  /** How the JWKS is cached, in milliseconds: `cacheMaxAge` (default 10 min), `cooldownDuration` between refetches (default 30 s), `timeoutDuration` (default 5 s). */
  jwks?: { cacheMaxAge?: number; cooldownDuration?: number; timeoutDuration?: number };
  /** Accepted `alg`s. Default: HS256/384/512 with a secret, RS*, PS*, ES* and EdDSA with a key or JWKS. */
  algorithms?: readonly string[];
  /** The expected `iss` (one or any of several). */
  issuer?: string | readonly string[];
  /** The expected `aud` (one or any of several). */
  audience?: string | readonly string[];
  /** Allowed clock skew for `exp`/`nbf`/`iat`, in seconds (default 5). */
  clockTolerance?: number;
  /** Refuse tokens issued longer ago than this (`'1h'`, or seconds); needs `iat`. */
  maxTokenAge?: string | number;
  /** Claims that must be present (e.g. `['exp', 'sub']`; `exp` is always checked when present). */
  requiredClaims?: readonly string[];
  /** Where the scopes are: a space-separated string or an array claim; default `scope`, then `scp`. */
  scopeClaim?: string;
  /** Maps the verified claims to `req.user` (default: none; `req.auth.claims` holds them). */
  user?: (claims: JWTPayload, environ: Environ) => unknown;
}

const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** The scopes a token grants: `scope` (space-separated, RFC 8693) or `scp` (a list or string). */
export function scopesOf(claims: JWTPayload, claim?: string): string[] {
  const value = claim !== undefined ? claims[claim] : (claims.scope ?? claims.scp);
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === 'string');
  return [];
}

/** What a verification error means for the client (no token content is echoed back). */
function failureOf(error: unknown): AuthFailure {
  if (error instanceof errors.JWTExpired) return { status: 401, error: 'invalid_token', description: 'The access token expired.' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    return { status: 401, error: 'invalid_token', description: `The access token's "${error.claim}" claim is not valid.` };
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)) {
    // The keys could not be had: not the client's fault, and not a reason to call its token bad.
    return { status: 503, description: 'The keys to verify the access token are not available; try again shortly.' };
  }
  if (error instanceof errors.JWKSNoMatchingKey)
    return { status: 401, error: 'invalid_token', description: 'No known key signed the access token.' };
  if (error instanceof errors.JOSEAlgNotAllowed)
    return { status: 401, error: 'invalid_token', description: 'The access token uses an algorithm not accepted here.' };
  return { status: 401, error: 'invalid_token', description: 'The access token is not valid.' };
}

/**
 * JWT bearer authentication. The verified identity is `environ['carafe.auth']` (`req.auth` in a
 * Carafe app): `subject` is `sub`, `scopes` from `scope`/`scp`, `claims` the whole payload.
 *
 * @example
 * jwtAuth({ jwksUrl: 'https://auth.example.com/.well-known/jwks.json', issuer: 'https://auth.example.com/', audience: 'api' })
 */
export function jwtAuth(options: JwtAuthOptions): DocumentedMiddleware {
  const sources = [options.secret, options.publicKey, options.key, options.jwksUrl].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new TypeError('jwtAuth(): give exactly one of `secret`, `publicKey`, `key` or `jwksUrl`');
  const algorithms = [...(options.algorithms ?? (options.secret !== undefined ? HMAC : ASYMMETRIC))];
  if (options.publicKey !== undefined && options.algorithms === undefined) {
    throw new TypeError('jwtAuth(): a `publicKey` needs `algorithms` (e.g. ["RS256"])');
  }
  let key: Promise<Uint8Array | CryptoKey | KeyObject | JWTVerifyGetKey>;
  const load = () => {
    if (options.secret !== undefined)
      return Promise.resolve(typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret);
    if (options.publicKey !== undefined) return importSPKI(options.publicKey, algorithms[0]!);
    if (options.jwksUrl !== undefined) return Promise.resolve(createRemoteJWKSet(new URL(options.jwksUrl), options.jwks));
    const given = options.key!;
    return 'kty' in given && typeof given.kty === 'string'
      ? importJWK(given as JWK, algorithms[0])
      : Promise.resolve(given as CryptoKey | KeyObject);
  };
  const verifyOptions: JWTVerifyOptions = {
    algorithms,
    ...(options.issuer !== undefined && { issuer: options.issuer as string | string[] }),
    ...(options.audience !== undefined && { audience: options.audience as string | string[] }),
    clockTolerance: options.clockTolerance ?? 5,
    ...(options.maxTokenAge !== undefined && { maxTokenAge: options.maxTokenAge }),
    ...(options.requiredClaims !== undefined && { requiredClaims: [...options.requiredClaims] }),
  };
  const name = options.schemeName ?? 'bearerAuth';
  return authEngine({
    scheme: 'Bearer',
    options,
    async check(token, environ): Promise<AuthInfo | AuthFailure> {
      if (token === '' || token.split('.').length !== 3) {
        return { status: 401, error: 'invalid_token', description: 'The access token is not a JWT.' };
      }
      key ??= load();
      let payload: JWTPayload;
      try {
        const resolved = await key;
        payload =
          typeof resolved === 'function'
            ? (await jwtVerify(token, resolved, verifyOptions)).payload
            : (await jwtVerify(token, resolved, verifyOptions)).payload;
      } catch (error) {
        return failureOf(error);
      }
      const user = options.user?.(payload, environ);
      return {
        scheme: 'Bearer',
        subject: payload.sub,
        scopes: scopesOf(payload, options.scopeClaim),
        claims: payload,
        ...(user !== undefined && { user }),
      };
    },
    openapi: {
      securitySchemes: { [name]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      security: [{ [name]: options.scopes ?? [] }],
      responses: {
        '401': {
          description: 'Missing or invalid access token',
          headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
        ...(options.scopes?.length
          ? {
              '403': {
                description: 'The token lacks a required scope',
                content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
              },
            }
          : {}),
      },
    },
  });
}
