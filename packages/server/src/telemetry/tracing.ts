/**
 * The SERVER span of each request, on the OpenTelemetry API (the SDK is set up by setup.ts; with
 * none registered every call here is a no-op). Stable HTTP semantic conventions: the span is
 * named `METHOD` when it starts and `METHOD /route/{template}` once the app reported its route
 * (`environ['carafe.route']`, which @carafe/core sets); the incoming W3C `traceparent` and
 * `tracestate` make it a child of the caller's span; the app runs in its context, so what the app
 * calls out to (the MongoDB driver, fetch) records child spans. The span ends when the response
 * has been sent (or the client went away), from the gateway's finished record.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { Environ, FinishedRecord, TsgiApplication } from '@carafe/gateway';

/** The methods semconv knows; any other is reported as `_OTHER` (and named `HTTP`). */
export const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

/** `traceparent` → `HTTP_TRACEPARENT`, for the few headers propagators read. */
const ENVIRON_KEYS = new Map<string, string>();

/** W3C trace context (and any other propagator's) headers, read from the environ's `HTTP_*` keys. */
export const environGetter: TextMapGetter<Environ> = {
  get(carrier, key) {
    let name = ENVIRON_KEYS.get(key);
    if (name === undefined) {
      name = `HTTP_${key.toUpperCase().replace(/-/g, '_')}`;
      if (ENVIRON_KEYS.size < 64) ENVIRON_KEYS.set(key, name);
    }
    const value = carrier[name];
    return typeof value === 'string' ? value : undefined;
  },
  keys(carrier) {
    return Object.keys(carrier)
      .filter((key) => key.startsWith('HTTP_'))
      .map((key) => key.slice(5).toLowerCase().replace(/_/g, '-'));
  },
};

/** The path part of the request target as received (`url.path`). */
function urlPath(environ: Environ): string {
  const raw = environ.RAW_URI;
  if (typeof raw === 'string' && raw.startsWith('/')) {
    const query = raw.indexOf('?');
    return query === -1 ? raw : raw.slice(0, query);
  }
  return `${environ.SCRIPT_NAME}${environ.PATH_INFO}` || '/';
}

/** The attributes known when the request starts (after the proxy fix, so `client.address` is the real client). */
export function requestAttributes(environ: Environ): Attributes {
  const method = environ.REQUEST_METHOD;
  const known = KNOWN_METHODS.has(method);
  const attributes: Attributes = {
    'http.request.method': known ? method : '_OTHER',
    'url.path': urlPath(environ),
    'url.scheme': environ['tsgi.url_scheme'],
    'server.address': environ.SERVER_NAME,
    'network.protocol.name': 'http',
    'network.protocol.version': environ.SERVER_PROTOCOL.startsWith('HTTP/') ? environ.SERVER_PROTOCOL.slice(5) : environ.SERVER_PROTOCOL,
  };
  const port = Number(environ.SERVER_PORT);
  if (Number.isInteger(port) && port > 0) attributes['server.port'] = port;
  if (!known) attributes['http.request.method_original'] = method;
  if (environ.REMOTE_ADDR) attributes['client.address'] = environ.REMOTE_ADDR;
  const agent = environ.HTTP_USER_AGENT;
  if (agent) attributes['user_agent.original'] = agent;
  return attributes;
}

/** `METHOD`, or `HTTP` for a method semconv does not know. */
function methodName(environ: Environ): string {
  return KNOWN_METHODS.has(environ.REQUEST_METHOD) ? environ.REQUEST_METHOD : 'HTTP';
}

/** Starts the request's SERVER span and runs `app` in its context; the span is in `environ['carafe.span']`. */
export function traceRequest(tracer: Tracer, app: TsgiApplication, environ: Environ): ReturnType<TsgiApplication> {
  const parent = propagation.extract(ROOT_CONTEXT, environ, environGetter);
  const span = tracer.startSpan(methodName(environ), { kind: SpanKind.SERVER, attributes: requestAttributes(environ) }, parent);
  environ['carafe.span'] = span;
  return context.with(trace.setSpan(parent, span), app, undefined, environ);
}

/** What `error.type` says of an exception: its class name. */
export function errorType(error: unknown): string | undefined {
  if (error instanceof Error) return error.constructor?.name || error.name || 'Error';
  return error === undefined ? undefined : typeof error;
}

/** Names the span by route, sets the response attributes and status, and ends it. */
export function finishSpan(record: FinishedRecord): void {
  const environ = record.environ;
  const span = environ['carafe.span'] as Span | undefined;
  if (span === undefined) return;
  const route = environ['carafe.route'];
  if (typeof route === 'string') {
    span.updateName(`${methodName(environ)} ${route}`);
    span.setAttribute('http.route', route);
  }
  span.setAttribute('http.response.status_code', record.status);
  // An app that threw (the gateway answered 500 itself): the app could not record it, so we do.
  if (record.error !== undefined) span.recordException(record.error instanceof Error ? record.error : String(record.error));
  if (record.status >= 500) {
    const error = environ['carafe.error'] ?? record.error;
    span.setAttribute('error.type', errorType(error) ?? String(record.status));
    span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error ? { message: error.message } : {}) });
  } else if (record.aborted) {
    span.setAttribute('carafe.aborted', true);
  }
  span.end();
}
