// Production settings for `carafe serve examples/rest-api/dist/app.js --config <this file>`.
// Every setting can still be overridden per environment by a CARAFE_* variable (e.g. CARAFE_BIND,
// CARAFE_WORKERS — the Dockerfile and the Helm chart use those) or by a command-line flag.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { requestId } from '@carafe/server';

/** @type {import('@carafe/server').ServerConfig} */
export default {
  // nginx (deploy/nginx/carafe.conf) talks to the workers over this socket.
  bind: ['unix:/run/carafe/carafe.sock'],
  socketMode: '660',

  // One Node worker keeps one core busy.
  workers: availableParallelism(),
  // A worker whose event loop is stuck this long is replaced.
  timeout: 30,
  // On SIGTERM, in-flight requests get this long to finish (the Helm chart's
  // terminationGracePeriodSeconds covers it plus the preStop delay).
  gracefulTimeout: 30,
  // Longer than nginx's upstream keepalive_timeout (60 s), so nginx, not the server, closes idle
  // connections: otherwise nginx may send a request on a connection the server is closing.
  keepAlive: 75,
  // Recycle workers now and then, staggered, as a guard against slow leaks.
  maxRequests: 10_000,
  maxRequestsJitter: 1_000,

  // nginx already refuses bodies over 1 MiB; this is the server's own limit behind it.
  limitRequestBody: 1024 * 1024,
  // Only nginx may tell us the client's address (X-Forwarded-For) and scheme. On the unix
  // socket nginx is the only possible peer; over TCP (Docker, Kubernetes) name the proxies'
  // addresses with CARAFE_FORWARDED_ALLOW_IPS.
  forwardedAllowIps: ['127.0.0.1', '::1'],

  // Logs to stdout/stderr, where Docker, systemd and Kubernetes collect them; one JSON object
  // per request (client address, status, duration, request id) for log pipelines to parse.
  accessLog: '-',
  accessLogFormat: 'json',
  errorLog: '-',
  logLevel: 'info',
  // The app's own records (req.log) are JSON lines on stderr too; `logFormat: 'json'` makes the
  // server's error log JSON as well, so access, error and app records join on request_id/trace_id.

  // Observability, off unless configured. Tracing: set OTEL_EXPORTER_OTLP_ENDPOINT (and
  // OTEL_SERVICE_NAME); each worker then loads the MongoDB instrumentation from this module before
  // the app. Metrics: set CARAFE_METRICS_BIND=127.0.0.1:9464 for GET /metrics (all workers).
  telemetry: fileURLToPath(new URL('../dist/telemetry.js', import.meta.url)),

  // TSGI middleware around the app, outermost first. (The server itself applies the trusted-proxy
  // rewrite from forwardedAllowIps, and the body limit, outside these.)
  // requestId: every request gets an id — nginx's $request_id when it sends one — in the
  // X-Request-Id response header and the access log, to follow a request across nginx and app logs.
  middleware: [requestId()],
};
