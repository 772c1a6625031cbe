#!/usr/bin/env node
// Jaeger v2 (all-in-one: OTLP in, query API out, traces in memory) for the tracing tests and for
// trying tracing locally. The binary is built once from the Go module proxy into .tools/bin/jaeger
// by scripts/install-jaeger.sh (scripts/provision.sh runs it); this file only starts it, with a
// config of its own: everything on 127.0.0.1, on the ports given (free ones by default), no
// metrics endpoint of Jaeger's own, nothing written to disk.
//
//   node scripts/jaeger.mjs install
//   node scripts/jaeger.mjs start [--otlp-port 4318] [--query-port 16686]
//
// Then: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 carafe serve …, and the traces are at
// http://127.0.0.1:16686/api/traces/<trace id> (this build has no web UI: its assets are not in the
// Go module; the official image or release binary serves the UI on the same port and paths).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './ferretdb.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const JAEGER_BIN = join(ROOT, '.tools/bin/jaeger');
export const INSTALL_SCRIPT = join(ROOT, 'scripts/install-jaeger.sh');

/** Builds Jaeger into .tools/bin/jaeger unless it is there already (the first build takes minutes). */
export function ensureJaeger() {
  const result = spawnSync('bash', [INSTALL_SCRIPT], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !existsSync(JAEGER_BIN)) {
    throw new Error(
      `Jaeger could not be provisioned (bash scripts/install-jaeger.sh exited ${result.status}; it needs Go and the Go module proxy)`,
    );
  }
  return JAEGER_BIN;
}

/** The collector config: OTLP over HTTP in, the query API out, memory storage, all on loopback. */
export function jaegerConfig({ otlpPort, queryPort, queryGrpcPort }) {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${queryPort}
    grpc:
      endpoint: 127.0.0.1:${queryGrpcPort}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlpPort}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

/**
 * Starts Jaeger and resolves once its query API answers: `{ otlpEndpoint, queryUrl, pid, stop() }`.
 * Fails with a clear message when the binary is missing (see {@link ensureJaeger}).
 */
export async function startJaeger(options = {}) {
  if (!existsSync(JAEGER_BIN)) {
    throw new Error(
      `${JAEGER_BIN} is missing: run \`bash scripts/provision.sh\` (or \`bash scripts/install-jaeger.sh\`) to build Jaeger from the Go module proxy`,
    );
  }
  const otlpPort = options.otlpPort ?? (await freePort());
  const queryPort = options.queryPort ?? (await freePort());
  const queryGrpcPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'carafe-jaeger-'));
  const config = join(dir, 'jaeger.yaml');
  writeFileSync(config, jaegerConfig({ otlpPort, queryPort, queryGrpcPort }));
  const child = spawn(JAEGER_BIN, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (output += c));
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const queryUrl = `http://127.0.0.1:${queryPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${queryUrl}/api/services`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `Jaeger did not start (${child.exitCode === null ? 'no answer in 30 s' : `exit ${child.exitCode}`}):\n${output.slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { otlpEndpoint: `http://127.0.0.1:${otlpPort}`, queryUrl, pid: child.pid, output: () => output, stop };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'install') {
    ensureJaeger();
  } else if (command === 'start') {
    const { values } = parseArgs({ args: rest, options: { 'otlp-port': { type: 'string' }, 'query-port': { type: 'string' } } });
    const jaeger = await startJaeger({
      otlpPort: Number(values['otlp-port'] ?? 4318),
      queryPort: Number(values['query-port'] ?? 16686),
    });
    console.error(
      `jaeger: OTLP/HTTP at ${jaeger.otlpEndpoint}, query API at ${jaeger.queryUrl}/api/traces/<trace id> (pid ${jaeger.pid}); Ctrl-C stops it`,
    );
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void jaeger.stop().then(() => process.exit(0)));
  } else {
    console.error('usage: node scripts/jaeger.mjs install | start [--otlp-port N] [--query-port N]');
    process.exit(2);
  }
}
