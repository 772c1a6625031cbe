/**
 * Counters shared by every worker process of one `carafe serve`: the arbiter holds them, workers
 * ask it over the IPC channel they already have. This is what makes a rate limit hold across
 * workers — with a counter per worker, `--workers 4` would let four times the limit through.
 *
 * Protocol (JSON over the cluster IPC channel, see ipc.ts): a worker collects the hits of one event
 * loop turn and sends them in one message, `{ t: 'count', hits: [[id, key, windowMs, cost], …] }`;
 * the arbiter adds each to its counter (a key's window starts with its first hit and lasts
 * `windowMs`) and answers in one message, `{ t: 'count', hits: [[id, count, resetAt], …] }`. The
 * arbiter is one thread, so each hit is atomic. The counters outlive workers (restarts, HUP reloads)
 * and end with the arbiter.
 *
 * `workerSharedStore()` has the shape of `@carafe/middleware`'s `RateLimitStore` (this package does
 * not depend on that one). Outside a `carafe serve` worker (a test, `app.run()`), it counts in the
 * process's own memory, which for one process is the same thing.
 */
import type { ChildProcess } from 'node:child_process';
import type { ArbiterMessage, CountHit, CountResult } from './ipc.js';

/** A counter after a hit: its count in the current window and the window's end (ms since the epoch). */
export interface SharedHit {
  count: number;
  resetAt: number;
}

interface Counter {
  count: number;
  resetAt: number;
}

/** Counters by key, with windows; what the arbiter keeps (and the in-process fallback). */
export class CounterTable {
  readonly #counters = new Map<string, Counter>();
  #nextSweep = 0;

  constructor(private readonly maxKeys = 1_000_000) {}

  hit(key: string, windowMs: number, cost: number, now = Date.now()): SharedHit {
    let counter = this.#counters.get(key);
    if (counter === undefined || counter.resetAt <= now) {
      if (counter !== undefined) this.#counters.delete(key);
      if (now >= this.#nextSweep || this.#counters.size >= this.maxKeys) this.#sweep(now);
      counter = { count: 0, resetAt: now + windowMs };
      this.#counters.set(key, counter);
    }
    counter.count += cost;
    return { count: counter.count, resetAt: counter.resetAt };
  }

  get size(): number {
    return this.#counters.size;
  }

  /** Drops ended windows; past `maxKeys`, the oldest windows too (a flood of keys must not exhaust memory). */
  #sweep(now: number): void {
    for (const [key, counter] of this.#counters) if (counter.resetAt <= now) this.#counters.delete(key);
    for (const key of this.#counters.keys()) {
      if (this.#counters.size < this.maxKeys) break;
      this.#counters.delete(key);
    }
    this.#nextSweep = now + 10_000;
  }
}

function isHit(value: unknown): value is CountHit {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'string' &&
    typeof value[2] === 'number' &&
    value[2] > 0 &&
    typeof value[3] === 'number'
  );
}

/** The arbiter's side: counts a worker's batch and answers it. */
export class SharedCounters {
  readonly table = new CounterTable();

  answer(worker: Pick<ChildProcess, 'send' | 'connected'>, hits: unknown): void {
    if (!Array.isArray(hits)) return;
    const now = Date.now();
    const results: CountResult[] = [];
    for (const hit of hits) {
      if (!isHit(hit)) continue;
      const { count, resetAt } = this.table.hit(hit[1], hit[2], hit[3], now);
      results.push([hit[0], count, resetAt]);
    }
    if (results.length === 0 || !worker.connected) return;
    try {
      worker.send({ t: 'count', hits: results } satisfies ArbiterMessage);
    } catch {
      // A worker on its way out: it will not wait for the answer.
    }
  }
}

const WORKER_MARK = Symbol.for('carafe.server.worker');
const CLIENT = Symbol.for('carafe.server.counter-client');
type Marked = typeof globalThis & { [WORKER_MARK]?: boolean; [CLIENT]?: CounterClient };

/** Called by the worker at boot: from then on shared stores in this process ask the arbiter. */
export function markWorkerProcess(): void {
  (globalThis as Marked)[WORKER_MARK] = true;
}

function inWorker(): boolean {
  return (globalThis as Marked)[WORKER_MARK] === true && typeof process.send === 'function' && process.connected === true;
}

interface Pending {
  resolve(hit: SharedHit): void;
  reject(error: Error): void;
}

/** The worker's side: batches hits per event loop turn, matches the answers to them. */
class CounterClient {
  #next = 0;
  readonly #pending = new Map<number, Pending>();
  #queue: CountHit[] = [];
  #scheduled = false;

  constructor(private readonly timeoutMs: number) {
    process.on('message', (message: unknown) => {
      const m = message as { t?: unknown; hits?: unknown } | null;
      if (m?.t === 'count' && Array.isArray(m.hits)) this.#receive(m.hits as CountResult[]);
    });
  }

  hit(key: string, windowMs: number, cost: number): Promise<SharedHit> {
    return new Promise<SharedHit>((resolve, reject) => {
      const id = ++this.#next;
      this.#pending.set(id, { resolve, reject });
      this.#queue.push([id, key, windowMs, cost]);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const hits = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    const ids = hits.map((hit) => hit[0]);
    const fail = (why: string) => {
      for (const id of ids) {
        const pending = this.#pending.get(id);
        if (pending === undefined) continue;
        this.#pending.delete(id);
        pending.reject(new Error(`shared counter: ${why}`));
      }
    };
    try {
      process.send!({ t: 'count', hits }, undefined, {}, (error: Error | null) => {
        if (error) fail(error.message);
      });
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    // One timer per batch: an arbiter that does not answer in time fails these hits (the rate limiter then fails open or closed as configured).
    setTimeout(() => fail(`no answer from the arbiter within ${this.timeoutMs} ms`), this.timeoutMs).unref();
  }

  #receive(results: CountResult[]): void {
    for (const result of results) {
      if (!Array.isArray(result)) continue;
      const pending = this.#pending.get(result[0]);
      if (pending === undefined) continue;
      this.#pending.delete(result[0]);
      pending.resolve({ count: result[1], resetAt: result[2] });
    }
  }
}

export interface WorkerSharedStoreOptions {
  /** How long a hit waits for the arbiter before it fails; default 1000 ms. */
  timeoutMs?: number;
}

/** A counter store shared by every worker of this server (a `RateLimitStore` for `@carafe/middleware`'s `rateLimit`). */
export interface WorkerSharedStore {
  hit(key: string, windowMs: number, cost?: number): SharedHit | Promise<SharedHit>;
}

/**
 * A rate limit store shared by all worker processes of this `carafe serve`: the counters live in the
 * arbiter. Create it in the app or the config file; it starts talking to the arbiter on its first hit.
 *
 * @example
 * // carafe.config.js
 * import { workerSharedStore } from '@carafe/server';
 * import { rateLimit } from '@carafe/middleware';
 * export default { workers: 4, middleware: [rateLimit({ limit: 100, window: 60, store: workerSharedStore() })] };
 */
export function workerSharedStore(options: WorkerSharedStoreOptions = {}): WorkerSharedStore {
  const timeoutMs = options.timeoutMs ?? 1000;
  let local: CounterTable | undefined;
  return {
    hit(key, windowMs, cost = 1) {
      if (!inWorker()) {
        local ??= new CounterTable();
        return local.hit(key, windowMs, cost);
      }
      const marked = globalThis as Marked;
      marked[CLIENT] ??= new CounterClient(timeoutMs);
      return marked[CLIENT].hit(key, windowMs, cost);
    },
  };
}
