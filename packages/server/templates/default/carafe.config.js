// Settings for `carafe serve` (it reads ./carafe.config.js by itself). Command-line flags and
// CARAFE_* environment variables override them; `npx carafe serve --help` (in this project, once
// installed: npx runs its own node_modules/.bin/carafe) lists every setting.

/** @type {import('@carafe/server').ServerConfig} */
export default {
  // PORT (and HOST) from the environment, as most hosting platforms set them.
  bind: [`${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? '8000'}`],
{{^mongo}}
  // One worker: the notes live in the worker's memory, so several workers would each hold
  // different notes. With a database (`carafe new --mongo`) use about one worker per core.
  workers: 1,
{{/mongo}}
{{#mongo}}
  // About one worker per core; every worker shares the notes through MongoDB.
  workers: Number(process.env.WEB_CONCURRENCY ?? 2),
{{/mongo}}
  // The access log on stdout, in Apache's combined format.
  accessLog: '-',
  // Logs, traces, metrics (see README.md): req.log / app.log are pino, JSON lines on stderr.
  // Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (npm install @opentelemetry/sdk-node
  // first); metrics are off unless CARAFE_METRICS_BIND (e.g. 127.0.0.1:9464) is set.
  // logFormat: 'json',   // the server's own error-log lines as JSON too
};
