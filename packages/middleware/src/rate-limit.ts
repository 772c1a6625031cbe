/**
 * Rate limiting: at most `limit` requests per `window` seconds for each key (the client address
 * after the proxy fix, an API key, a user, or anything a function derives), counted in a
 * {@link RateLimitStore} — in this process's memory, across every worker of `carafe serve`
 * (`workerSharedStore()` from `@carafe/server`), or in MongoDB for several hosts. Over the limit:
 * `429` with `Retry-After`; every answer carries the IETF `RateLimit-Policy` and `RateLimit`
 * fields (draft-ietf-httpapi-ratelimit-headers: `"default";q=10;w=60` and `"default";r=0;t=42`).
 */
import { keepLifespan, mapResponse, type Environ, type HeaderList, type TsgiMiddleware, type TsgiResult } from '@carafe/gateway';
import { authOf } from './auth.js';
import { documented, problem, problemDoc, withHeaders, type DocumentedMiddleware } from './util.js';

/** A counter after a hit: how many hits the key has in its current window, and when that window ends (ms since the epoch). */
export interface RateLimitHit {
  count: number;
  resetAt: number;
}

/**
 * Where counters live. `hit` adds `cost` to the key's counter in its current window of `windowMs`
 * and returns the count after it. Must be atomic: two concurrent hits never both see the same
 * count. The store decides where windows begin (the memory and worker-shared stores: at a key's
 * first hit; the MongoDB store: aligned to the clock, so hosts agree). `limit` is the policy's
 * limit: past it a store may stop counting exactly (the request is refused anyway).
 */
export interface RateLimitStore {
  hit(key: string, windowMs: number, cost: number, limit?: number): RateLimitHit | Promise<RateLimitHit>;
}

/**
 * Counters in this process's memory: exact for one process (`carafe serve --workers 1`, a test);
 * under several workers each would count alone — use `workerSharedStore()` from `@carafe/server`.
 * Synchronous, so a synchronous application stays synchronous. Expired windows are swept as new
 * ones are made.
 */
export class MemoryStore implements RateLimitStore {
  readonly #counters = new Map<string, RateLimitHit>();
  #nextSweep = 0;

  hit(key: string, windowMs: number, cost = 1): RateLimitHit {
    const now = Date.now();
    let counter = this.#counters.get(key);
    if (counter === undefined || counter.resetAt <= now) {
      if (now >= this.#nextSweep) this.#sweep(now, windowMs);
      counter = { count: 0, resetAt: now + windowMs };
      this.#counters.set(key, counter);
    }
    counter.count += cost;
    return { count: counter.count, resetAt: counter.resetAt };
  }

  /** How many keys have a live window. */
  get size(): number {
    return this.#counters.size;
  }

  #sweep(now: number, windowMs: number): void {
    for (const [key, counter] of this.#counters) if (counter.resetAt <= now) this.#counters.delete(key);
    this.#nextSweep = now + Math.min(windowMs, 60_000);
  }
}

/** What a request is counted under: `'ip'` (the client address, IPv6 by /64), a request header, the authenticated subject, or a function (`undefined`: not limited). */
export type RateLimitKey = 'ip' | 'subject' | { header: string } | ((environ: Environ) => string | undefined);

export interface RateLimitOptions {
  /** Requests allowed per window per key. */
  limit: number;
  /** The window, in seconds. */
  window: number;
  /** What to count by; default `'ip'` (`REMOTE_ADDR`, so run it behind the proxy fix). */
  key?: RateLimitKey;
  /** Where to count; default a new {@link MemoryStore}. */
  store?: RateLimitStore;
  /** The policy's name in the headers (and the prefix of its keys in the store); default `'default'`. */
  policy?: string;
  /** Send `RateLimit-Policy`/`RateLimit` on answers that pass too (default `true`; the 429 always has them). */
  headers?: boolean;
  /** Requests not to count (health checks). */
  skip?: (environ: Environ) => boolean;
  /** What a request costs (default 1). */
  cost?: (environ: Environ) => number;
  /** When the store fails: `'allow'` the request (default; the error is written to `tsgi.errors`) or `'deny'` it with a 503. */
  onStoreError?: 'allow' | 'deny';
}

/** The first 64 bits of an IPv6 address (one customer's usual allocation); IPv4 (and IPv4-mapped) addresses as they are. */
export function clientKey(address: string): string {
  if (!address.includes(':')) return address;
  if (address.toLowerCase().startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function keyFunction(key: RateLimitKey | undefined): (environ: Environ) => string | undefined {
  if (key === undefined || key === 'ip') return (environ) => clientKey(environ.REMOTE_ADDR);
  if (key === 'subject') return (environ) => authOf(environ)?.subject;
  if (typeof key === 'function') return key;
  const name = `HTTP_${key.header.toUpperCase().replaceAll('-', '_')}`;
  return (environ) => environ[name] as string | undefined;
}

/** A string for a Structured Field (RFC 9651 §3.3.3): the policy's name. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * The rate limiting middleware.
 *
 * @example rateLimit({ limit: 100, window: 60, store: workerSharedStore() })
 */
export function rateLimit(options: RateLimitOptions): DocumentedMiddleware {
  const { limit, window } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('rateLimit(): `limit` must be a positive integer');
  if (!(window > 0)) throw new TypeError('rateLimit(): `window` must be a positive number of seconds');
  const windowMs = Math.round(window * 1000);
  const store = options.store ?? new MemoryStore();
  const policy = options.policy ?? 'default';
  const name = sfString(policy);
  const policyValue = `${name};q=${limit};w=${Math.ceil(window)}`;
  const keyOf = keyFunction(options.key);
  const prefix = `${policy}:`;
  const sendHeaders = options.headers !== false;
  const denyOnError = options.onStoreError === 'deny';

  const middleware: TsgiMiddleware = (app) => {
    const decide = (environ: Environ, hit: RateLimitHit): TsgiResult => {
      const seconds = Math.max(0, Math.ceil((hit.resetAt - Date.now()) / 1000));
      if (hit.count > limit) {
        return problem(429, `Too many requests: the limit is ${limit} per ${window} s; try again in ${seconds} s.`, [
          ['Retry-After', String(Math.max(1, seconds))],
          ['RateLimit-Policy', policyValue],
          ['RateLimit', `${name};r=0;t=${seconds}`],
        ]);
      }
      if (!sendHeaders) return app(environ);
      const extra: HeaderList = [
        ['RateLimit-Policy', policyValue],
        ['RateLimit', `${name};r=${limit - hit.count};t=${seconds}`],
      ];
      return mapResponse(app(environ), (response) => withHeaders(response, extra));
    };
    const failed = (environ: Environ, error: unknown): TsgiResult => {
      try {
        environ['tsgi.errors'].write(`[carafe] rate limit store failed: ${(error as Error)?.stack ?? String(error)}\n`);
      } catch {
        // The error stream failing must not become a second error.
      }
      return denyOnError ? problem(503, 'The rate limiter is not available; try again shortly.', [['Retry-After', '1']]) : app(environ);
    };
    return keepLifespan((environ: Environ) => {
      if (options.skip?.(environ)) return app(environ);
      const key = keyOf(environ);
      if (key === undefined || key === '') return app(environ);
      let hit: RateLimitHit | Promise<RateLimitHit>;
      try {
        hit = store.hit(prefix + key, windowMs, options.cost?.(environ) ?? 1, limit);
      } catch (error) {
        return failed(environ, error);
      }
      if (typeof (hit as Promise<RateLimitHit>).then === 'function') {
        return (hit as Promise<RateLimitHit>).then(
          (settled) => decide(environ, settled),
          (error: unknown) => failed(environ, error),
        );
      }
      return decide(environ, hit as RateLimitHit);
    }, app);
  };
  return documented(middleware, {
    responses: {
      '429': problemDoc('Too many requests', {
        'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until the window resets' },
        RateLimit: { schema: { type: 'string' }, description: 'draft-ietf-httpapi-ratelimit-headers' },
        'RateLimit-Policy': { schema: { type: 'string' } },
      }),
    },
  });
}
