#!/usr/bin/env node
// @ts-check
// What observability costs per request: `carafe serve` (one worker, pinned to CPU 0) serving a
// plain Carafe route (test/fixtures/server/observed-app.mjs, GET /pid) under wrk (pinned to CPU 1),
// with tracing, metrics and JSON logs off, then on one at a time and all together:
//
//   off            nothing configured (the hot path of a plain route, unchanged)
//   metrics        --metrics-bind: per-route histogram + in-flight gauge in the worker
//   tracing        --tracing, OTEL_TRACES_EXPORTER=none: a SERVER span per request, not exported
//   tracing+otlp   spans exported over OTLP/HTTP (protobuf, batched) to a local sink answering 200
//   all            tracing+otlp, metrics, --log-format json and a JSON access log (to /dev/null)
//
// The meter is the worker's own CPU time (utime + stime from /proc) divided by the requests wrk
// got answered: on a machine shared with other work that is far steadier than throughput. The
// overhead of a scenario is its CPU time per request minus the "off" one. Rounds alternate the
// scenarios so drift spreads over all of them; the median of the rounds counts.
//
//   npx tsc -b && node bench/observability.mjs [--seconds 5] [--rounds 3]
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'packages/server/dist/cli.js');
const FIXTURES = join(ROOT, 'test/fixtures/server');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' }, // `http` or `process`: one of the two measurements
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);

for (const tool of ['wrk', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench/observability: ${tool} is missing; run \`bash scripts/provision.sh\``);
    process.exit(1);
  }
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolvePort(address.port));
    });
  });
}

/** An OTLP/HTTP sink: accepts every export with 200 and counts the bytes. */
async function startSink() {
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', () => r(undefined)));
  return { endpoint: `http://127.0.0.1:${port}`, bytes: () => bytes, close: () => server.close() };
}

/** @param {string[]} args @param {Record<string,string>} env */
async function startServer(args, env) {
  const port = await freePort();
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, CLI, 'serve', 'observed-app.mjs', '-b', `127.0.0.1:${port}`, '-w', '1', ...args],
    {
      cwd: FIXTURES,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c) => (stderr += c));
  const deadline = Date.now() + 60_000;
  while (!/Listening at/.test(stderr)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`carafe serve did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const worker = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .find((entry) => {
      try {
        return Number(statFields(Number(entry))[1]) === child.pid;
      } catch {
        return false;
      }
    });
  if (worker === undefined) throw new Error('no worker process found');
  return {
    port,
    /** The worker's CPU time so far, in seconds. */
    cpu: () => {
      const fields = statFields(Number(worker));
      return (Number(fields[11]) + Number(fields[12])) / TICKS;
    },
    stop: () =>
      new Promise((r) => {
        child.once('exit', r);
        child.kill('SIGTERM');
      }),
  };
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime. */
function statFields(/** @type {number} */ pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** @param {number} port @param {number} seconds @returns {{ rps: number, requests: number }} */
function wrk(port, seconds) {
  const out = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', '-c32', `-d${seconds}s`, `http://127.0.0.1:${port}/pid`], {
    encoding: 'utf8',
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out.stdout)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out.stdout)?.[1] ?? 0);
  if (!rps || !requests || non2xx) throw new Error(`wrk failed:\n${out.stdout}${out.stderr}`);
  return { rps, requests };
}

if (values.only !== 'process') await overHttp();
if (values.only !== 'http') await inProcess();

/** The end-to-end measurement: carafe serve under wrk. */
async function overHttp() {
  const sink = await startSink();
  /** @type {Array<{ name: string, args: string[], env: Record<string,string> }>} */
  const scenarios = [
    { name: 'off', args: [], env: {} },
    { name: 'metrics', args: ['--metrics-bind', `127.0.0.1:${await freePort()}`], env: {} },
    { name: 'tracing', args: ['--tracing'], env: { OTEL_TRACES_EXPORTER: 'none' } },
    { name: 'tracing+otlp', args: [], env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint } },
    {
      name: 'all',
      args: [
        '--metrics-bind',
        `127.0.0.1:${await freePort()}`,
        '--log-format',
        'json',
        '--access-log',
        '/dev/null',
        '--access-log-format',
        'json',
      ],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint },
    },
  ];
  /** @type {Record<string, Array<{ rps: number, us: number }>>} */
  const results = Object.fromEntries(scenarios.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const scenario of scenarios) {
      const server = await startServer(scenario.args, { OTEL_SERVICE_NAME: 'bench', ...scenario.env });
      wrk(server.port, 2); // warm-up: JIT, connections, the first export batches
      const before = server.cpu();
      const { rps, requests } = wrk(server.port, SECONDS);
      results[scenario.name]?.push({ rps, us: ((server.cpu() - before) * 1e6) / requests });
      await server.stop();
    }
  }
  sink.close();

  const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const cpuOf = (/** @type {string} */ name) => median((results[name] ?? []).map((r) => r.us));
  const base = cpuOf('off');
  console.log(
    `carafe serve, 1 worker on CPU 0, wrk -t1 -c32 on CPU 1, GET /pid, median of ${ROUNDS} x ${SECONDS} s (node ${process.version})`,
  );
  console.log('| scenario | req/s | worker CPU µs per request | overhead per request |');
  console.log('|---|---:|---:|---:|');
  for (const scenario of scenarios) {
    const rps = median((results[scenario.name] ?? []).map((r) => r.rps));
    const us = cpuOf(scenario.name);
    const over = us - base;
    console.log(
      `| ${scenario.name} | ${Math.round(rps)} | ${us.toFixed(1)} | ${scenario.name === 'off' ? '—' : `${over >= 0 ? '+' : ''}${over.toFixed(1)} µs (${((over / base) * 100).toFixed(0)}%)`} |`,
    );
  }
  console.log(
    `(each round, µs per request: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map((r) => Number(r.us.toFixed(1)))])))}; OTLP bytes received: ${sink.bytes()})`,
  );
}

/**
 * The instrumentation alone, in this process: the same Carafe route called through the worker's
 * observe middleware and finished-record callback, 200 000 times per scenario, CPU time per call
 * (process.cpuUsage). No sockets, no other process: what tracing and metrics add to a request.
 * Tracing uses the SDK's BatchSpanProcessor with an exporter that drops the batches.
 */
async function inProcess() {
  const { Carafe } = await import('@carafe/core');
  const { WorkerMetrics } = await import('../packages/server/dist/telemetry/metrics.js');
  const { observeFinished, observeMiddleware } = await import('../packages/server/dist/telemetry/observe.js');
  const api = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  const { BatchSpanProcessor, TracerProvider } = await import('@opentelemetry/sdk-trace');
  const N = 200_000;
  /** @param {boolean} telemetry */
  const makeApp = (telemetry) => {
    const app = new Carafe({ telemetry });
    app.get('/users/:id', (req) => ({ id: req.params.id }));
    return app;
  };
  const environ = () => ({
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/users/42',
    QUERY_STRING: '',
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: '8000',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '50000',
    RAW_URI: '/users/42',
    HTTP_HOST: '127.0.0.1:8000',
    HTTP_USER_AGENT: 'bench',
    HTTP_TRACEPARENT: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': [],
    'tsgi.errors': process.stderr,
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
  });
  /** @param {(environ: any) => any} app @param {((record: any) => void) | undefined} finish */
  const measure = (app, finish) => {
    const run = (/** @type {number} */ n) => {
      for (let i = 0; i < n; i++) {
        const env = environ();
        const response = app(env);
        finish?.({
          environ: env,
          status: response.status,
          headers: response.headers,
          bytesSent: 10,
          startTime: process.hrtime.bigint(),
          aborted: false,
        });
      }
    };
    run(20_000); // warm-up
    const before = process.cpuUsage();
    run(N);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / N;
  };
  const off = makeApp(false);
  /** @type {Array<[string, number]>} */
  const rows = [['off', measure(off, undefined)]];
  const metricsOnly = { tracing: false, metrics: new WorkerMetrics() };
  rows.push(['metrics', measure(observeMiddleware(metricsOnly)(makeApp(true)), observeFinished(metricsOnly))]);
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const drop = {
    export: (/** @type {unknown} */ _spans, /** @type {(r: { code: number }) => void} */ done) => done({ code: 0 }),
    shutdown: async () => {},
  };
  api.trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new BatchSpanProcessor(/** @type {any} */ (drop))] }));
  const tracingOnly = { tracing: true, metrics: undefined };
  rows.push(['tracing', measure(observeMiddleware(tracingOnly)(makeApp(true)), observeFinished(tracingOnly))]);
  const both = { tracing: true, metrics: new WorkerMetrics() };
  rows.push(['tracing+metrics', measure(observeMiddleware(both)(makeApp(true)), observeFinished(both))]);
  const base = rows[0]?.[1] ?? NaN;
  console.log(`\nin process: GET /users/{id} through the worker's observe middleware, ${N} calls per scenario (node ${process.version})`);
  console.log('| scenario | CPU µs per request | overhead per request |');
  console.log('|---|---:|---:|');
  for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(2)} | ${name === 'off' ? '—' : `+${(us - base).toFixed(2)} µs`} |`);
}
