/**
 * Tracing, metrics and logging of the server, in process: the request's SERVER span (named by
 * the route @carafe/core reports, semconv attributes, the caller's traceparent, errors), the
 * hook spans core adds, the per-worker counts and their sum in the arbiter (Prometheus text),
 * and the JSON / text shapes of the log records. Spans go to an in-memory exporter.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { propagation } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createServer, type FinishedRecord, type TsgiApplication } from '@carafe/gateway';
import { Blueprint, Carafe, ServiceUnavailable, type Logger } from '@carafe/core';
import { ErrorLog, LogFile } from '../src/logging.js';
import { compileAccessLogFormat } from '../src/logging.js';
import { createAppLogger, textLine } from '../src/telemetry/logger.js';
import { DURATION_BUCKETS, WorkerMetrics, renderPrometheus } from '../src/telemetry/metrics.js';
import { ArbiterMetrics, type WorkerHandle } from '../src/telemetry/metrics-endpoint.js';
import { observeFinished, observeMiddleware, type Observation } from '../src/telemetry/observe.js';
import { tracingWanted } from '../src/telemetry/setup.js';
import { defaultSettings } from '../src/settings.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

/** Lines written to a log, kept in memory. */
function memoryLog(): { lines: string[]; file: LogFile } {
  const lines: string[] = [];
  const file = new LogFile('-', {
    write: (text: string) => lines.push(...text.split('\n').filter(Boolean)),
  } as unknown as NodeJS.WriteStream);
  return { lines, file };
}

function capturingLogger(records: Array<Record<string, unknown>>, bindings: Record<string, unknown> = {}): Logger {
  const method =
    (level: string) =>
    (first: unknown, ...rest: unknown[]) =>
      records.push(
        typeof first === 'string' ? { level, ...bindings, msg: first } : { level, ...bindings, ...(first as object), msg: rest[0] },
      );
  return {
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    child: (more) => capturingLogger(records, { ...bindings, ...more }),
  };
}

/** Serves `app` the way a worker does with tracing and metrics on; resolves with its base URL. */
async function serveObserved(
  app: TsgiApplication,
  observation: Observation,
  finished: FinishedRecord[] = [],
): Promise<{ base: string; close(): Promise<void> }> {
  const done = observeFinished(observation);
  const server = createServer(observeMiddleware(observation)(app), {
    errors: { write: () => {} },
    onFinished: (record) => {
      done(record);
      finished.push(record);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function spansSettled(count: number): Promise<ReturnType<InMemorySpanExporter['getFinishedSpans']>> {
  for (let i = 0; i < 100 && exporter.getFinishedSpans().length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return exporter.getFinishedSpans();
}

describe('the SERVER span', () => {
  const records: Array<Record<string, unknown>> = [];
  const app = new Carafe({ telemetry: true, logger: capturingLogger(records) });
  app.get('/users/:id', (req) => {
    req.log.info('in the handler');
    return { id: req.params.id };
  });
  app.get('/boom', () => {
    throw new TypeError('broken');
  });
  app.get('/busy', () => {
    throw new ServiceUnavailable('later');
  });
  app.get('/files{/:name}', (req) => ({ name: req.params.name ?? null }));
  const admin = new Blueprint('admin', { urlPrefix: '/admin' });
  admin.beforeRequest(async () => {
    await trace.getTracer('test').startActiveSpan('inside the hook', async (span) => span.end());
  });
  admin.afterRequest((response) => response);
  admin.get('/items/:item', (req) => ({ item: req.params.item }));
  app.register(admin);

  let served: { base: string; close(): Promise<void> };
  const metrics = new WorkerMetrics();
  beforeAll(async () => {
    served = await serveObserved(app, { tracing: true, metrics });
  });
  afterAll(() => served.close());

  it('is named by the route template, child of the caller, with the stable HTTP attributes', async () => {
    const res = await fetch(`${served.base}/users/42?x=1`, {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'user-agent': 'span-test' },
    });
    expect(res.status).toBe(200);
    const [span] = await spansSettled(1);
    expect(span!.name).toBe('GET /users/{id}');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/users/{id}',
      'http.response.status_code': 200,
      'url.path': '/users/42',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'client.address': '127.0.0.1',
      'user_agent.original': 'span-test',
      'network.protocol.version': '1.1',
    });
    expect(span!.attributes['server.port']).toBeTypeOf('number');
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    // req.log carries the ids of that span.
    expect(records.at(-1)).toMatchObject({
      msg: 'in the handler',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: span!.spanContext().spanId,
    });
  });

  it('records an unhandled exception: ERROR status, exception event, error.type, one log record', async () => {
    records.length = 0;
    expect((await fetch(`${served.base}/boom`)).status).toBe(500);
    const [span] = await spansSettled(1);
    expect(span!.name).toBe('GET /boom');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('TypeError');
    expect(span!.events.map((e) => e.name)).toEqual(['exception']);
    expect(span!.events[0]!.attributes?.['exception.message']).toBe('broken');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 'error', msg: 'Exception on GET /boom', trace_id: span!.spanContext().traceId });
    expect((records[0]!.err as Error).message).toBe('broken');
  });

  it('marks a 5xx answered for an HttpError as an error, and a 404 as none, named by method alone', async () => {
    expect((await fetch(`${served.base}/busy`)).status).toBe(503);
    expect((await fetch(`${served.base}/nowhere`)).status).toBe(404);
    const spans = await spansSettled(2);
    expect(spans.map((s) => s.name)).toEqual(['GET /busy', 'GET']);
    expect(spans[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[0]!.attributes['error.type']).toBe('ServiceUnavailable');
    expect(spans[1]!.status.code).toBe(SpanStatusCode.UNSET);
    expect(spans[1]!.attributes['http.route']).toBeUndefined();
  });

  it('names optional groups by the variant that matched', async () => {
    await fetch(`${served.base}/files`);
    await fetch(`${served.base}/files/a.txt`);
    expect((await spansSettled(2)).map((s) => s.name)).toEqual(['GET /files', 'GET /files/{name}']);
  });

  it('traces the hooks as children of the server span, with what they call inside', async () => {
    expect((await fetch(`${served.base}/admin/items/9`)).status).toBe(200);
    const spans = await spansSettled(4);
    const byName = new Map(spans.map((s) => [s.name, s]));
    const server = byName.get('GET /admin/items/{item}')!;
    expect(byName.get('carafe.before_request')!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(byName.get('carafe.after_request')!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(byName.get('inside the hook')!.parentSpanContext?.spanId).toBe(byName.get('carafe.before_request')!.spanContext().spanId);
  });

  it('counts every request per route in the worker metrics, none left in flight', () => {
    const text = renderPrometheus(metrics.snapshot().duration, metrics.snapshot().active, []);
    expect(text).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",url_scheme="http"} 1',
    );
    expect(text).toContain(
      'http_server_request_duration_seconds_count{error_type="TypeError",http_request_method="GET",http_response_status_code="500",http_route="/boom",url_scheme="http"} 1',
    );
    expect(text).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="404",url_scheme="http"} 1',
    );
    expect(text).toContain('http_server_active_requests{http_request_method="GET",url_scheme="http"} 0');
  });
});

describe('a plain TSGI app (no Carafe)', () => {
  it('gets a span named by the method, and an app that throws is recorded by the server', async () => {
    const served = await serveObserved(
      () => {
        throw new RangeError('raw app failed');
      },
      { tracing: true, metrics: undefined },
    );
    try {
      expect((await fetch(`${served.base}/x`, { method: 'DELETE' })).status).toBe(500);
      const [span] = await spansSettled(1);
      expect(span!.name).toBe('DELETE');
      expect(span!.status.code).toBe(SpanStatusCode.ERROR);
      expect(span!.attributes['error.type']).toBe('RangeError');
      expect(span!.events[0]!.name).toBe('exception');
    } finally {
      await served.close();
    }
  });

  it('names an unknown method HTTP with http.request.method _OTHER', async () => {
    const served = await serveObserved(() => ({ status: 204, headers: [], body: [] }), { tracing: true, metrics: undefined });
    try {
      await new Promise<void>((resolve, reject) => {
        const { hostname, port } = new URL(served.base);
        http
          .request({ hostname, port, method: 'PURGE', path: '/' }, (res) => res.resume().on('end', resolve))
          .on('error', reject)
          .end();
      });
      const [span] = await spansSettled(1);
      expect(span!.name).toBe('HTTP');
      expect(span!.attributes).toMatchObject({ 'http.request.method': '_OTHER', 'http.request.method_original': 'PURGE' });
    } finally {
      await served.close();
    }
  });
});

describe('metrics of all workers, in the arbiter', () => {
  const finished = (route: string, status: number): FinishedRecord => {
    const environ = { REQUEST_METHOD: 'GET', 'tsgi.url_scheme': 'http', 'carafe.route': route } as never;
    return { environ, status, headers: [], bytesSent: 0, startTime: process.hrtime.bigint() - 3_000_000n, aborted: false };
  };
  function worker(requests: number, route = '/a/{id}'): WorkerMetrics {
    const metrics = new WorkerMetrics();
    for (let i = 0; i < requests; i++) {
      const record = finished(route, 200);
      metrics.start(record.environ);
      metrics.finish(record);
    }
    return metrics;
  }

  it('adds up the live workers and keeps what exited workers counted', async () => {
    const workers = new Map<number, WorkerMetrics>([
      [1, worker(3)],
      [2, worker(4)],
    ]);
    let arbiter!: ArbiterMetrics;
    const handles = (): WorkerHandle[] =>
      [...workers.keys()].map((id) => ({
        id,
        state: 'ready',
        send: (message) => {
          if (message.t === 'metrics?') setImmediate(() => arbiter.onSnapshot(id, message.seq, workers.get(id)!.snapshot()));
        },
      }));
    arbiter = new ArbiterMetrics('127.0.0.1:0', new ErrorLog(memoryLog().file, 'info'), handles);
    const count = (text: string) =>
      Number(/http_server_request_duration_seconds_count\{[^}]*http_route="\/a\/\{id\}"[^}]*\} (\d+)/.exec(text)?.[1]);
    expect(count(await arbiter.collect())).toBe(7);
    // Worker 2 exits; its 4 stay counted, and its replacement starts from 0.
    workers.delete(2);
    arbiter.workerExited(2, 'crashed');
    workers.set(3, worker(2));
    arbiter.workerStarted('replace');
    const text = await arbiter.collect();
    expect(count(text)).toBe(9);
    expect(text).toContain('carafe_worker_exits_total{reason="crashed"} 1');
    expect(text).toContain('carafe_worker_starts_total{purpose="replace"} 1');
    expect(text).toContain('carafe_workers{state="ready"} 2');
    expect(text).toMatch(/^http_server_request_duration_seconds_bucket\{.*,le="0.005"\} 9$/m);
  });

  it('does not wait long for a worker that does not answer', async () => {
    const arbiter = new ArbiterMetrics('127.0.0.1:0', new ErrorLog(memoryLog().file, 'info'), () => [
      { id: 1, state: 'ready', send: () => {} },
    ]);
    const started = Date.now();
    await arbiter.collect();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('renders semconv buckets cumulatively, +Inf equal to the count', () => {
    const metrics = worker(1, '/plain');
    const text = renderPrometheus(metrics.snapshot().duration, [], []);
    const buckets = [...text.matchAll(/_bucket\{[^}]*le="([^"]+)"\} (\d+)/g)].map((m) => [m[1], Number(m[2])]);
    expect(buckets.map((b) => b[0])).toEqual([...DURATION_BUCKETS.map(String), '+Inf']);
    expect(buckets.every(([, n]) => n === 1)).toBe(true);
  });
});

describe('log records', () => {
  it('the app logger writes JSON with the request bindings, redacting credentials', async () => {
    const { lines, file } = memoryLog();
    const settings = { ...defaultSettings(), logFormat: 'json' as const };
    const logger = await createAppLogger(settings, new ErrorLog(file, 'info', 'json'));
    logger.child({ request_id: 'r1' }).info({ headers: { authorization: 'Basic x', cookie: 'a=b', accept: '*/*' } }, 'hello');
    file.flushNow();
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 'info', name: 'app', request_id: 'r1', msg: 'hello', pid: process.pid });
    expect(record.headers).toEqual({ authorization: '[Redacted]', cookie: '[Redacted]', accept: '*/*' });
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('renders a record as a Gunicorn error-log line, the stack after it', () => {
    const line = textLine(
      JSON.stringify({
        level: 'error',
        time: new Date().toISOString(),
        pid: 7,
        msg: 'Exception on GET /x',
        request_id: 'r',
        err: { type: 'Error', message: 'm', stack: 'Error: m\n    at here' },
      }),
    );
    expect(line).toMatch(
      /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}\] \[7\] \[ERROR\] Exception on GET \/x request_id=r\nError: m\n {4}at here\n$/,
    );
  });

  it('the error log in JSON has the same shape, and tsgi.errors writes become error records', () => {
    const { lines, file } = memoryLog();
    const log = new ErrorLog(file, 'info', 'json');
    log.warning('Worker (pid:1) was slow');
    log.stream().write('[app] something\n');
    file.flushNow();
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', name: 'carafe', msg: 'Worker (pid:1) was slow' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'error', msg: '[app] something' });
  });

  it('the json access line carries route, request id and trace ids', () => {
    const span = provider.getTracer('t').startSpan('s');
    const environ = {
      REQUEST_METHOD: 'GET',
      RAW_URI: '/a/1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '10.0.0.1',
      'carafe.route': '/a/{id}',
      'carafe.request_id': 'rid',
      'carafe.span': span,
    } as never;
    const line = compileAccessLogFormat('json')(
      { environ, status: 500, headers: [], bytesSent: 3, startTime: 0n, aborted: false },
      1_000_000n,
    );
    expect(JSON.parse(line)).toMatchObject({
      level: 'info',
      name: 'carafe.access',
      msg: 'GET /a/1 500',
      route: '/a/{id}',
      request_id: 'rid',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
      status: 500,
    });
  });
});

describe('when tracing is on', () => {
  it('follows --tracing and the OTEL_* variables, and OTEL_SDK_DISABLED wins', () => {
    expect(tracingWanted({ tracing: false }, {})).toBe(false);
    expect(tracingWanted({ tracing: true }, {})).toBe(true);
    expect(tracingWanted({ tracing: false }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingWanted({ tracing: false }, { OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingWanted({ tracing: false }, { OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingWanted({ tracing: true }, { OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });
});
