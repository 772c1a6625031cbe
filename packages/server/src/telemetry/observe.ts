/**
 * The worker's observation of each request, wired in only when tracing or metrics are on (with
 * both off the app is served exactly as before): a middleware just inside the proxy fix that
 * starts the SERVER span and counts the request in flight, and a finished-record callback that
 * ends the span and records the duration.
 */
import { readFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import { keepLifespan, type FinishedRecord, type TsgiMiddleware } from '@carafe/gateway';
import type { WorkerMetrics } from './metrics.js';
import { finishSpan, traceRequest } from './tracing.js';

export interface Observation {
  tracing: boolean;
  metrics: WorkerMetrics | undefined;
}

/** This package's version, for the instrumentation scope of its spans. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function observeMiddleware({ tracing, metrics }: Observation): TsgiMiddleware {
  const tracer = tracing ? trace.getTracer('@carafe/server', VERSION) : undefined;
  return (app) =>
    keepLifespan((environ) => {
      metrics?.start(environ);
      return tracer === undefined ? app(environ) : traceRequest(tracer, app, environ);
    }, app);
}

export function observeFinished({ tracing, metrics }: Observation): (record: FinishedRecord) => void {
  if (tracing && metrics) {
    return (record) => {
      metrics.finish(record);
      finishSpan(record);
    };
  }
  if (metrics) return (record) => metrics.finish(record);
  return finishSpan;
}

/** Where `carafe serve` tells the apps of a worker process about its telemetry (read by @carafe/core). */
export const SERVER_TELEMETRY = Symbol.for('carafe.telemetry');

/** What the apps of this process are told: the logger to use, and whether requests are traced or measured. */
export function announceTelemetry(telemetry: { logger: unknown; tracing: boolean; metrics: boolean }): void {
  (globalThis as Record<symbol, unknown>)[SERVER_TELEMETRY] = telemetry;
}
