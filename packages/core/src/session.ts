/**
 * Client-side sessions kept in a signed cookie, like Flask's default `session`: the data is readable
 * by the client but cannot be changed without the secret key.
 */
import { decodeBase64url, encodeBase64url } from './base64url.js';
import { decodeUtf8Exact, encodeUtf8 } from './bytes.js';
import { HmacSha256, timingSafeEqual } from './hmac.js';

/**
 * The session of one request: a small map of JSON-serializable values. `modified` tells the framework whether the
 * cookie must be written again. Changes inside a stored object or array are not seen; call
 * {@link Session.markModified} after such changes, or `set` the value again.
 */
export class Session {
  readonly #data: Map<string, unknown>;
  #modified = false;
  /** True when the request carried no valid session cookie. */
  readonly isNew: boolean;

  /**
   * @param data The decoded cookie payload (e.g. {@link SessionSigner.unsign}'s result). Anything but
   *   a plain object (`undefined`, `null`, an array, a primitive) starts a new, empty session.
   */
  constructor(data?: unknown) {
    const valid = typeof data === 'object' && data !== null && !Array.isArray(data);
    this.isNew = !valid;
    this.#data = new Map(valid ? Object.entries(data) : []);
  }

  /** True once a value was set or removed during this request. */
  get modified(): boolean {
    return this.#modified;
  }

  /** Number of keys. */
  get size(): number {
    return this.#data.size;
  }

  /** The stored value; the type parameter is an unchecked assertion about what was stored. */
  get<T = unknown>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  has(key: string): boolean {
    return this.#data.has(key);
  }

  /** Stores a JSON-serializable value; `undefined` removes the key. */
  set(key: string, value: unknown): this {
    if (value === undefined) {
      this.delete(key);
      return this;
    }
    this.#data.set(key, value);
    this.#modified = true;
    return this;
  }

  delete(key: string): boolean {
    const existed = this.#data.delete(key);
    if (existed) this.#modified = true;
    return existed;
  }

  clear(): void {
    if (this.#data.size > 0) this.#modified = true;
    this.#data.clear();
  }

  keys(): IterableIterator<string> {
    return this.#data.keys();
  }

  entries(): IterableIterator<[string, unknown]> {
    return this.#data.entries();
  }

  /** Flags the session for saving after a stored object or array was changed in place. */
  markModified(): void {
    this.#modified = true;
  }

  /**
   * Whether the session outlives the browser session (Flask's `session.permanent`): the default
   * interface then gives its cookie `config.permanentSessionLifetime`. Stored with the data, under
   * the key `_permanent` as in Flask, so it survives every session interface; `clear()` resets it.
   */
  get permanent(): boolean {
    return this.#data.get(PERMANENT) === true;
  }
  set permanent(value: boolean) {
    this.set(PERMANENT, value ? true : undefined);
  }

  /** The data as a plain object, ready for {@link SessionSigner.sign}. */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.#data);
  }
}

/** Where {@link Session.permanent} is kept in the data (Flask's key). */
const PERMANENT = '_permanent';

/**
 * The session of a request when sessions are unavailable, e.g. no `config.secretKey` (Flask's
 * `NullSession`): it reads as empty, so a page that only looks at the session still works, and
 * every change throws, because it could not be saved. The framework never saves it.
 */
export class NullSession extends Session {
  readonly #reason: string;

  /** @param reason Why the session is unavailable; the message of the error a change throws. */
  constructor(reason: string) {
    super(undefined);
    this.#reason = reason;
  }

  override set(_key: string, _value: unknown): never {
    throw new Error(this.#reason);
  }
  override delete(_key: string): never {
    throw new Error(this.#reason);
  }
  override clear(): never {
    throw new Error(this.#reason);
  }
  override markModified(): never {
    throw new Error(this.#reason);
  }
  override get permanent(): boolean {
    return false;
  }
  override set permanent(_value: boolean) {
    throw new Error(this.#reason);
  }
}

/** Options of {@link SessionSigner.unsign}. */
export interface UnsignOptions {
  /** Reject values signed longer ago than this many seconds. */
  maxAgeSeconds?: number;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const TIMESTAMP = /^[0-9a-z]{1,11}$/;
const SIGNATURE_BYTES = 32;

/**
 * Signs and verifies values as `payload.timestamp.signature`: base64url JSON, the signing time in
 * base-36 seconds, and an HMAC-SHA256 over both (base64url). Synchronous on every runtime: the
 * HMAC is hmac.ts's, in plain JavaScript (the same bytes as node:crypto's, as fast for a cookie).
 *
 * The MAC key is not a secret itself but HMAC(secret, salt), so the same `secretKey` can serve other
 * purposes without one signature being valid for another. Signs with the first key and accepts every
 * key of the list, so keys can be rotated by putting the new key first and keeping the old ones for a while.
 */
export class SessionSigner {
  readonly #keys: HmacSha256[];

  /**
   * @param keys `[current, ...previous]` secrets; throws if empty or if a key is empty.
   * @param options.salt Purpose of the signatures (default `"carafe.session"`).
   */
  constructor(keys: string[], options: { salt?: string } = {}) {
    if (keys.length === 0) throw new TypeError('SessionSigner needs at least one secret key');
    const salt = options.salt ?? 'carafe.session';
    this.#keys = keys.map((secret) => {
      if (typeof secret !== 'string' || secret === '') throw new TypeError('Secret keys must be non-empty strings');
      return new HmacSha256(new HmacSha256(secret).digest(salt));
    });
  }

  /** Signs any JSON-serializable value with the current key; throws `TypeError` if it is not serializable. */
  sign(data: unknown): string {
    const json = JSON.stringify(data);
    if (json === undefined) throw new TypeError('Session data must be JSON-serializable');
    const payload = encodeBase64url(encodeUtf8(json));
    const signed = `${payload}.${Math.floor(Date.now() / 1000).toString(36)}`;
    return `${signed}.${encodeBase64url(this.#keys[0]!.digest(signed))}`;
  }

  /**
   * Verifies a signed value and returns its data, or `undefined` if it is malformed, was tampered with,
   * was signed by a key not in the list, or is older than `maxAgeSeconds`. Never throws.
   * Signatures are compared in constant time.
   */
  unsign(value: string, options: UnsignOptions = {}): unknown | undefined {
    if (typeof value !== 'string') return undefined;
    const parts = value.split('.');
    if (parts.length !== 3) return undefined;
    const [payload, timestamp, signature] = parts as [string, string, string];
    if (!SEGMENT.test(payload) || !TIMESTAMP.test(timestamp) || !SEGMENT.test(signature)) return undefined;
    const given = decodeBase64url(signature);
    // Canonical encoding only, so one signature has exactly one accepted spelling.
    if (given === undefined || given.length !== SIGNATURE_BYTES || encodeBase64url(given) !== signature) return undefined;

    const signed = `${payload}.${timestamp}`;
    let valid = false;
    // Check every key (no early exit) so timing does not reveal which key matched.
    for (const key of this.#keys) valid = timingSafeEqual(key.digest(signed), given) || valid;
    if (!valid) return undefined;

    if (options.maxAgeSeconds !== undefined) {
      const age = Date.now() / 1000 - parseInt(timestamp, 36);
      if (age > options.maxAgeSeconds) return undefined;
    }
    try {
      return JSON.parse(decodeUtf8Exact(decodeBase64url(payload)!));
    } catch {
      return undefined;
    }
  }
}
