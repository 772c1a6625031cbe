/**
 * A rate limit store in MongoDB, for several hosts that must share one limit. It does not import
 * the driver: give it a collection (`client.db().collection('rate_limits')` of the official
 * `mongodb` package, or anything with the same methods).
 *
 * It counts with inserts only, because a unique `_id` is the one guarantee every MongoDB-compatible
 * server keeps under concurrency (FerretDB 1.x loses concurrent `$inc` updates, `findOneAndUpdate`
 * included). Windows are aligned to the clock (`floor(now / window)`), so hosts agree on them without
 * talking to each other. The n-th hit of a key in a window claims the slot document
 * `<key>#<window>#<n>`: it starts at the number of slots already there plus one and moves up on a
 * duplicate-key error, so every hit gets its exact rank whatever runs concurrently. Past the limit
 * (which the middleware passes) nothing more is written: the hit is refused anyway. Slots carry
 * their window's end in `expiresAt`, for a TTL index (`ensureIndexes()`) to delete them.
 */
import type { RateLimitHit, RateLimitStore } from './rate-limit.js';

/** A slot document: one counted hit. */
export interface SlotDocument {
  /** `<key>#<window number>#<n>`. */
  _id: string;
  /** `<key>#<window number>`: what a window's slots share. */
  w: string;
  /** The end of the window: a TTL index on it deletes the slot after. */
  expiresAt: Date;
}

/** The part of the `mongodb` driver's `Collection` the store uses. */
export interface CounterCollection {
  insertOne(document: SlotDocument): Promise<unknown>;
  countDocuments(filter: { w: string }): Promise<number>;
  createIndex?(spec: Record<string, 1 | -1>, options?: { expireAfterSeconds?: number; name?: string }): Promise<unknown>;
  deleteMany?(filter: { expiresAt: { $lte: Date } }): Promise<unknown>;
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

export class MongoRateLimitStore implements RateLimitStore {
  readonly #collection: () => CounterCollection | Promise<CounterCollection>;

  /** `collection`, or a function giving it (called per hit: hand over a client opened in the lifespan). */
  constructor(collection: CounterCollection | (() => CounterCollection | Promise<CounterCollection>)) {
    this.#collection = typeof collection === 'function' ? collection : () => collection;
  }

  /**
   * Creates the index counting uses and the TTL index that removes ended windows (run once, e.g. at
   * startup). Resolves with whether the server took the TTL index: one that has none (FerretDB 1.x)
   * keeps ended windows until {@link purge} deletes them.
   */
  async ensureIndexes(): Promise<{ ttl: boolean }> {
    const collection = await this.#collection();
    await collection.createIndex?.({ w: 1 }, { name: 'rate_limit_window' });
    try {
      await collection.createIndex?.({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'rate_limit_expiry' });
      return { ttl: collection.createIndex !== undefined };
    } catch (error) {
      const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
      if (code === 238 || /not implemented/i.test(String(message))) return { ttl: false };
      throw error;
    }
  }

  /** Deletes the slots of ended windows (for a server without TTL indexes; run it now and then). */
  async purge(): Promise<void> {
    const collection = await this.#collection();
    await collection.deleteMany?.({ expiresAt: { $lte: new Date() } });
  }

  async hit(key: string, windowMs: number, cost = 1, limit = Number.POSITIVE_INFINITY): Promise<RateLimitHit> {
    const collection = await this.#collection();
    const now = Date.now();
    const number = Math.floor(now / windowMs);
    const resetAt = (number + 1) * windowMs;
    const w = `${key}#${number}`;
    let n = await collection.countDocuments({ w });
    // Over the limit already: refused whatever the exact count, so nothing is written.
    if (n >= limit) return { count: n + cost, resetAt };
    const expiresAt = new Date(resetAt);
    for (let unit = 0; unit < cost; unit++) {
      for (let attempts = 0; ; attempts++) {
        n++;
        try {
          await collection.insertOne({ _id: `${w}#${n}`, w, expiresAt });
          break;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          if (attempts > 10_000) throw new Error(`MongoRateLimitStore: could not count ${JSON.stringify(key)}`);
          // Taken by a concurrent hit: try the next slot.
        }
      }
    }
    return { count: n, resetAt };
  }
}
