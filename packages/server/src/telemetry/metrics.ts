/**
 * HTTP server metrics by the OpenTelemetry semantic conventions, counted in each worker and
 * added up in the arbiter, which serves them as Prometheus text (see metrics-endpoint.ts):
 *
 * - `http.server.request.duration` (histogram, seconds, semconv's buckets) by
 *   `http.request.method`, `http.response.status_code`, `http.route`, `url.scheme` and, on 5xx,
 *   `error.type`: its `_count` is the request count per route;
 * - `http.server.active_requests` (gauge) by `http.request.method` and `url.scheme`.
 *
 * A worker keeps cumulative counts and sends them whole ({@link MetricsSnapshot}) when the
 * arbiter asks (on each scrape), every few seconds, and when it stops; the arbiter keeps the
 * last snapshot of each live worker and folds a worker's into a retired total when it exits,
 * so counters never go backwards across worker restarts.
 */
import { metrics, type Attributes, type Histogram, type UpDownCounter } from '@opentelemetry/api';
import type { Environ, FinishedRecord } from '@carafe/gateway';
import { KNOWN_METHODS, errorType } from './tracing.js';

/** Semconv's advised boundaries for `http.server.request.duration`, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

export type Labels = Record<string, string>;

/** One histogram series: per-bucket (not cumulative) counts, the last one for `+Inf`. */
export interface HistogramSeries {
  labels: Labels;
  count: number;
  sum: number;
  buckets: number[];
}

/** What a worker reports: cumulative since it started. */
export interface MetricsSnapshot {
  duration: HistogramSeries[];
  active: Array<{ labels: Labels; value: number }>;
}

const ACTIVE_KEY = 'carafe.metrics.active';

function bucketIndex(seconds: number): number {
  for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]!) return i;
  return DURATION_BUCKETS.length;
}

function keyOf(labels: Labels): string {
  let key = '';
  for (const name of Object.keys(labels).sort()) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}

/** Adds a histogram series into `into` (by labels). */
export function addSeries(into: Map<string, HistogramSeries>, series: HistogramSeries): void {
  const key = keyOf(series.labels);
  const found = into.get(key);
  if (found === undefined) {
    into.set(key, { labels: series.labels, count: series.count, sum: series.sum, buckets: [...series.buckets] });
    return;
  }
  found.count += series.count;
  found.sum += series.sum;
  for (let i = 0; i < series.buckets.length; i++) found.buckets[i] = (found.buckets[i] ?? 0) + series.buckets[i]!;
}

/** The OTel instruments, when an SDK meter provider exports metrics itself (OTEL_METRICS_EXPORTER). */
interface OtelInstruments {
  duration: Histogram;
  active: UpDownCounter;
}

/** One worker's counts. `start` when the app is called, `finish` from the finished record. */
export class WorkerMetrics {
  private readonly duration = new Map<string, HistogramSeries>();
  private readonly active = new Map<string, { labels: Labels; value: number }>();
  private readonly otel: OtelInstruments | undefined;

  constructor(options: { otlp?: boolean } = {}) {
    if (options.otlp) {
      const meter = metrics.getMeter('@carafe/server');
      this.otel = {
        duration: meter.createHistogram('http.server.request.duration', {
          unit: 's',
          description: 'Duration of HTTP server requests.',
          advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
        }),
        active: meter.createUpDownCounter('http.server.active_requests', {
          unit: '{request}',
          description: 'Number of active HTTP server requests.',
        }),
      };
    }
  }

  start(environ: Environ): void {
    const method = KNOWN_METHODS.has(environ.REQUEST_METHOD) ? environ.REQUEST_METHOD : '_OTHER';
    const scheme = environ['tsgi.url_scheme'];
    const key = `${method} ${scheme}`;
    const entry = this.active.get(key);
    if (entry === undefined) this.active.set(key, { labels: { 'http.request.method': method, 'url.scheme': scheme }, value: 1 });
    else entry.value++;
    environ[ACTIVE_KEY] = key;
    this.otel?.active.add(1, { 'http.request.method': method, 'url.scheme': scheme });
  }

  finish(record: FinishedRecord): void {
    const environ = record.environ;
    const activeKey = environ[ACTIVE_KEY] as string | undefined;
    if (activeKey === undefined) return;
    environ[ACTIVE_KEY] = undefined;
    const active = this.active.get(activeKey)!;
    active.value--;
    const seconds = Number(process.hrtime.bigint() - record.startTime) / 1e9;
    const route = environ['carafe.route'];
    const error = record.status >= 500 ? (errorType(environ['carafe.error'] ?? record.error) ?? String(record.status)) : undefined;
    // The series key from the values alone; the labels object is made once per series.
    const key = `${activeKey} ${record.status} ${typeof route === 'string' ? route : ''} ${error ?? ''}`;
    let series = this.duration.get(key);
    if (series === undefined) {
      const labels: Labels = { ...active.labels, 'http.response.status_code': String(record.status) };
      if (typeof route === 'string') labels['http.route'] = route;
      if (error !== undefined) labels['error.type'] = error;
      series = { labels, count: 0, sum: 0, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0) };
      this.duration.set(key, series);
    }
    series.count++;
    series.sum += seconds;
    series.buckets[bucketIndex(seconds)]!++;
    if (this.otel) {
      this.otel.active.add(-1, active.labels);
      const attributes: Attributes = { ...series.labels, 'http.response.status_code': record.status };
      this.otel.duration.record(seconds, attributes);
    }
  }

  snapshot(): MetricsSnapshot {
    return { duration: [...this.duration.values()], active: [...this.active.values()] };
  }
}

/** A counter or gauge of the arbiter's own, by labels. */
export interface ServerSeries {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Array<{ labels: Labels; value: number }>;
}

/** `http.server.request.duration` → `http_server_request_duration`. */
function promName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.keys(labels)
    .sort()
    .map((name) => `${promName(name)}="${escapeLabel(labels[name]!)}"`);
  if (extra) parts.push(`${extra[0]}="${extra[1]}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function numberText(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
}

/** The Prometheus text exposition (format 0.0.4) of the merged request metrics and the server's series. */
export function renderPrometheus(
  duration: Iterable<HistogramSeries>,
  active: Iterable<{ labels: Labels; value: number }>,
  server: ServerSeries[],
): string {
  const out: string[] = [];
  const name = 'http_server_request_duration_seconds';
  out.push(`# HELP ${name} Duration of HTTP server requests.`, `# TYPE ${name} histogram`);
  const sorted = [...duration].sort((a, b) => keyOf(a.labels).localeCompare(keyOf(b.labels)));
  for (const series of sorted) {
    let cumulative = 0;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      cumulative += series.buckets[i] ?? 0;
      out.push(`${name}_bucket${labelText(series.labels, ['le', String(DURATION_BUCKETS[i])])} ${cumulative}`);
    }
    out.push(`${name}_bucket${labelText(series.labels, ['le', '+Inf'])} ${series.count}`);
    out.push(`${name}_sum${labelText(series.labels)} ${numberText(series.sum)}`);
    out.push(`${name}_count${labelText(series.labels)} ${series.count}`);
  }
  out.push('# HELP http_server_active_requests Number of active HTTP server requests.', '# TYPE http_server_active_requests gauge');
  const gauges = new Map<string, { labels: Labels; value: number }>();
  for (const entry of active) {
    const key = keyOf(entry.labels);
    const found = gauges.get(key);
    if (found) found.value += entry.value;
    else gauges.set(key, { labels: entry.labels, value: entry.value });
  }
  for (const entry of gauges.values()) out.push(`http_server_active_requests${labelText(entry.labels)} ${entry.value}`);
  for (const series of server) {
    out.push(`# HELP ${series.name} ${series.help}`, `# TYPE ${series.name} ${series.type}`);
    for (const { labels, value } of series.values) out.push(`${series.name}${labelText(labels)} ${numberText(value)}`);
  }
  return `${out.join('\n')}\n`;
}
