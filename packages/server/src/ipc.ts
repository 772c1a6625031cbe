/** The messages between the arbiter and its workers (over the cluster IPC channel). */
import type { Settings } from './settings.js';

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
  | { t: 'failed'; code: number; message: string };

export type ArbiterMessage =
  /** Sent with a bound socket handle, once per `--bind` address. */
  | { t: 'socket'; bind: string }
  | { t: 'stop'; graceful: boolean }
  | { t: 'reopen' };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string';
}
