/**
 * Logging and tracing hooks of the framework, on interfaces only: a pino-compatible `Logger`
 * (the logger itself is injected — by `new Carafe({ logger })`, or by the server the app runs
 * under), and the OpenTelemetry API (node-free; without an SDK registered every call is a no-op).
 *
 * What a server and the app agree on (documented in the server's README):
 * - `globalThis[Symbol.for('carafe.telemetry')]`: {@link ServerTelemetry}, set by `carafe serve`
 *   in each worker process before it loads the app: the process's logger, and whether tracing or
 *   metrics are on (then the app reports what only it knows, below).
 * - `environ['carafe.route']`: set by the app, when telemetry is on, to the matched route as an
 *   OpenAPI-style template under the mount point (`/api/users/{id}`): the server names its span
 *   `GET /api/users/{id}` and labels its metrics with it.
 * - `environ['carafe.span']`: the server's SERVER span of the request (an OpenTelemetry `Span`),
 *   set by the server when tracing; the app records its exceptions on it and logs its ids.
 * - `environ['carafe.error']`: set by the app to the exception behind a 500 it answered, so the
 *   server can report its type (`error.type`).
 */
import { context, trace, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Environ } from '@carafe/gateway';

/** A logging method in pino's signature: `log.info('text')`, `log.info({ key: 1 }, 'text')`. */
export interface LogFn {
  (object: object, message?: string, ...args: unknown[]): void;
  (message: string, ...args: unknown[]): void;
}

/** What the framework needs of a logger: pino's methods (a pino logger is one). */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose records all carry `bindings`. */
  child(bindings: Record<string, unknown>): Logger;
}

/** What a server tells the apps of its process (`globalThis[Symbol.for('carafe.telemetry')]`). */
export interface ServerTelemetry {
  /** The process's logger; apps without a logger of their own log through it. */
  logger?: Logger;
  /** Requests are traced: report the route, record exceptions on the server span, trace hooks. */
  tracing?: boolean;
  /** Requests are measured per route: report the route. */
  metrics?: boolean;
}

export const SERVER_TELEMETRY = Symbol.for('carafe.telemetry');
export const ROUTE_KEY = 'carafe.route';
export const SPAN_KEY = 'carafe.span';
export const ERROR_KEY = 'carafe.error';

/** The telemetry the server of this process announced, if any. */
export function serverTelemetry(): ServerTelemetry | undefined {
  return (globalThis as { [SERVER_TELEMETRY]?: ServerTelemetry })[SERVER_TELEMETRY];
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

/**
 * The logger of an app that was given none and runs under no server that provides one: pino's
 * JSON shape (`level`, `time`, `msg`, bindings, fields; an `err` field as type, message and
 * stack), one line per record on the console's error stream, at `info` and above.
 */
export function consoleLogger(bindings: Record<string, unknown> = {}, level: Level = 'info'): Logger {
  const threshold = LEVELS.indexOf(level);
  const method = (name: Level): LogFn =>
    LEVELS.indexOf(name) < threshold
      ? () => {}
      : (first: unknown, ...rest: unknown[]) => {
          const fields = typeof first === 'object' && first !== null ? serializeFields(first as Record<string, unknown>) : undefined;
          const message = fields === undefined ? first : rest[0];
          const record = {
            level: name,
            time: new Date().toISOString(),
            ...bindings,
            ...fields,
            msg: message === undefined ? undefined : String(message),
          };
          console.error(JSON.stringify(record));
        };
  return {
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    child: (more) => consoleLogger({ ...bindings, ...more }, level),
  };
}

/** An error as pino's standard serializer writes it. */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const out: Record<string, unknown> = { type: error.constructor?.name ?? error.name, message: error.message, stack: error.stack };
  if (error.cause !== undefined) out.cause = serializeError(error.cause);
  return out;
}

function serializeFields(fields: Record<string, unknown>): Record<string, unknown> {
  if (fields instanceof Error) return { err: serializeError(fields) };
  return 'err' in fields ? { ...fields, err: serializeError(fields.err) } : fields;
}

/** The request's SERVER span: the server's (`environ['carafe.span']`), else the active span, if any. */
export function requestSpan(environ: Environ): Span | undefined {
  return (environ[SPAN_KEY] as Span | undefined) ?? trace.getSpan(context.active());
}

/**
 * What every log record of a request carries: its id (the request-id middleware's, else the
 * `X-Request-Id` header) and, while it is traced, the trace and span ids of its server span.
 */
export function requestBindings(environ: Environ): Record<string, unknown> {
  const bindings: Record<string, unknown> = {};
  const id = environ['carafe.request_id'] ?? environ.HTTP_X_REQUEST_ID;
  if (id !== undefined) bindings.request_id = id;
  const span = requestSpan(environ)?.spanContext();
  if (span !== undefined && span.traceId !== INVALID_TRACE_ID) {
    bindings.trace_id = span.traceId;
    bindings.span_id = span.spanId;
    bindings.trace_flags = `0${(span.traceFlags & 0xff).toString(16)}`.slice(-2);
  }
  return bindings;
}

const INVALID_TRACE_ID = '00000000000000000000000000000000';

/**
 * Records an exception the app answered with a 500 on the request's span (exception event,
 * status ERROR) and leaves it in `environ['carafe.error']` for the server's `error.type`.
 */
export function recordRequestError(environ: Environ, error: unknown): void {
  environ[ERROR_KEY] = error;
  const span = requestSpan(environ);
  if (span === undefined || !span.isRecording()) return;
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

const tracer = () => trace.getTracer('@carafe/core');

/**
 * Runs `fn` inside an INTERNAL span named `name`, child of the active span — when there is a
 * recording one; otherwise just runs it. A failure marks the span ERROR and is rethrown.
 */
export async function inSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
  const parent = trace.getSpan(context.active());
  if (parent === undefined || !parent.isRecording()) return fn();
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `/users/:id` → `/users/{id}`, `/files/*path` → `/files/{path}`: the OpenAPI-style templates of a path, one per optional-group combination. */
export type RouteTemplates = ReadonlyArray<{ template: string; params: readonly string[] }>;

/**
 * The template of the variant that matched: the one whose params all have values, preferring
 * the one with most params.
 */
export function pickTemplate(variants: RouteTemplates, params: Record<string, unknown>): string {
  if (variants.length === 1) return variants[0]!.template;
  let best: { template: string; params: readonly string[] } | undefined;
  for (const variant of variants) {
    if (variant.params.every((name) => params[name] !== undefined) && (best === undefined || variant.params.length > best.params.length)) {
      best = variant;
    }
  }
  return (best ?? variants[0]!).template;
}
