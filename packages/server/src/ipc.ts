/** The messages between the arbiter and its workers (over the cluster IPC channel). */
import type { Settings } from './settings.js';
import type { MetricsSnapshot } from './telemetry/metrics.js';

/** What a worker is told at spawn, in the environment variable {@link WORKER_ENV}. */
export interface WorkerBrief {
  id: number;
  app: string;
  settings: Settings;
}

export const WORKER_ENV = 'CARAFE__WORKER';

export type WorkerMessage =
  /** The event loop is alive (sent on a timer, never per request). */
  | { t: 'hb' }
  /** Listening on every address, lifespan startup done. */
  | { t: 'ready' }
  /** Wants to be replaced (max-requests reached, or an uncaught error); keeps serving until told to stop. */
  | { t: 'retire'; why: string }
  /** Could not boot; `code` is the exit code it is about to exit with. */
  | { t: 'failed'; code: number; message: string }
  /** Its cumulative request metrics: the answer to `metrics?` (same `seq`), or unasked (`seq` 0). */
  | { t: 'metrics'; seq: number; snapshot: MetricsSnapshot }
  /** Hits on the counters the arbiter keeps for all workers (shared-counters.ts), one event loop turn's worth. */
  | { t: 'count'; hits: CountHit[] };

/** One hit on a shared counter: `[request id, key, window in ms, cost]`. */
export type CountHit = [id: number, key: string, windowMs: number, cost: number];
/** A counter after a hit: `[request id, count in the window, window end in ms since the epoch]`. */
export type CountResult = [id: number, count: number, resetAt: number];

export type ArbiterMessage =
  /** Sent with a bound socket handle, once per `--bind` address. */
  | { t: 'socket'; bind: string }
  | { t: 'stop'; graceful: boolean }
  | { t: 'reopen' }
  /** A scrape of `--metrics-bind`: send your metrics now. */
  | { t: 'metrics?'; seq: number }
  /** The answers to a worker's `count` message. */
  | { t: 'count'; hits: CountResult[] };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string';
}
