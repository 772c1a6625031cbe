#!/usr/bin/env node
// `npm run bench [-- flags]`: load-tests every server on the same scenarios, then runs the
// router micro-benchmark, and writes bench/results/latest.{md,json,svg}. Progress goes to
// stderr; the Markdown report goes to stdout. See bench/README.md for the method.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_DIR, LINEUP } from './lineup.mjs';
import { loadGeneratorVersion, pickLoadGenerator, pinned, runLoad } from './load.mjs';
import { writeReport } from './report.mjs';
import { updateReadme } from './readme.mjs';
import { cpuTimes, processTreeCpuSeconds, stolenShare } from './cpu.mjs';
import { median } from './stats.mjs';
import { ECHO_BODY, ECHO_JSON, HELLO, lastDynamicPath, restResponse, userResponse } from './routes.mjs';

const USAGE = `Usage: npm run bench -- [options]
  --quick               short run for development (1 round, 1 s runs, a subset of servers)
  --duration SECONDS    length of each measured run (default 1)
  --warmup SECONDS      warm-up of all servers of a scenario at once, 0 for none (default 2; quick 1)
  --rounds N            rounds alternating the servers (default 12; quick 1)
  --connections N       keep-alive connections held open by the load generator (default 100)
  --max-steal PERCENT   repeat a run during which the host stole more of a core than this (default 10)
  --retries N           repeats of a disturbed run before keeping the least disturbed (default 3)
  --only IDS            servers to run, comma-separated (${LINEUP.map((s) => s.id).join(',')}); node is always included
  --scenarios IDS       scenarios to run, comma-separated (hello,users,echo,routes-10,routes-1000)
  --load TOOL           wrk or autocannon (default: wrk when installed)
  --no-router           skip the router micro-benchmark
  --no-pin              do not pin with taskset
  --port N              first port to use (default 3100)
  -h, --help`;

// Quick runs keep to the servers the targets compare, to stay under a minute.
const QUICK_SERVERS = ['node', 'carafe', 'carafe-serve', 'fastify'];

const SCENARIOS = [
  { id: 'hello', label: 'GET /hello', routes: 10, method: 'GET', path: '/hello', expect: { text: HELLO } },
  { id: 'users', label: 'GET /users/:id', routes: 10, method: 'GET', path: '/users/42', expect: { json: userResponse('42') } },
  { id: 'echo', label: 'POST /echo (1 KB JSON)', routes: 10, method: 'POST', path: '/echo', body: ECHO_JSON, expect: { json: ECHO_BODY } },
  {
    id: 'routes-10', label: '10 REST routes, last dynamic', routes: 10, method: 'GET', batch: 'routes',
    path: lastDynamicPath(10), expect: { json: restResponse({ id: '42', itemId: '7' }) },
  },
  {
    id: 'routes-1000', label: '1000 REST routes, last dynamic', routes: 1000, method: 'GET', batch: 'routes',
    path: lastDynamicPath(1000), expect: { json: restResponse({ id: '42', itemId: '7' }) },
  },
];

function log(message) {
  process.stderr.write(`${message}\n`);
}

class UsageError extends Error {}

const FLAGS = {
  quick: { type: 'boolean', default: false },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  rounds: { type: 'string' },
  connections: { type: 'string' },
  'max-steal': { type: 'string' },
  retries: { type: 'string' },
  only: { type: 'string' },
  scenarios: { type: 'string' },
  load: { type: 'string' },
  'no-router': { type: 'boolean', default: false },
  'no-pin': { type: 'boolean', default: false },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({ options: FLAGS }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name, fallback, { integer = false, min = 0 } = {}) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${name} must be a ${integer ? 'whole ' : ''}number ≥ ${min}, got "${values[name]}"`);
    }
    return n;
  };
  const list = (name, known) => {
    if (values[name] === undefined) return undefined;
    const ids = values[name].split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = ids.filter((id) => !known.includes(id));
    if (unknown.length) throw new UsageError(`--${name}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
    return ids;
  };
  const quick = values.quick;
  const only = list('only', LINEUP.map((s) => s.id)) ?? (quick ? QUICK_SERVERS : LINEUP.map((s) => s.id));
  if (!only.includes('node')) only.unshift('node'); // ratios are taken against it
  if (values.load !== undefined && !['wrk', 'autocannon'].includes(values.load)) throw new UsageError('--load must be wrk or autocannon');
  return {
    quick,
    duration: number('duration', 1, { integer: true, min: 1 }),
    warmup: number('warmup', quick ? 1 : 2, { integer: true }), // wrk takes whole seconds
    rounds: number('rounds', quick ? 1 : 12, { integer: true, min: 1 }),
    connections: number('connections', 100, { integer: true, min: 1 }),
    maxSteal: number('max-steal', 10) / 100,
    retries: number('retries', quick ? 0 : 3, { integer: true }),
    servers: LINEUP.filter((s) => only.includes(s.id)),
    scenarios: SCENARIOS.filter((s) => (list('scenarios', SCENARIOS.map((x) => x.id)) ?? SCENARIOS.map((x) => x.id)).includes(s.id)),
    load: values.load,
    router: !values['no-router'],
    pin: !values['no-pin'],
    port: number('port', 3100, { integer: true, min: 1 }),
  };
}

function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpu = line.split(':')[1].trim();
  } catch {}
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) osName = `${pretty[1]} (${os.type()} ${os.release()})`;
  } catch {}
  return {
    cpu,
    cores: os.cpus().length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName,
    arch: os.arch(),
  };
}

function hasTaskset() {
  return new Promise((resolve) => execFile('taskset', ['-c', '0', 'true'], (error) => resolve(!error)));
}

// ——— server processes ———

/** Server processes still running, so that an interrupted run stops them too. */
const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    for (const child of running) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
    process.exit(130);
  });
}

function startServer(server, port, routes, cpu) {
  const { command, args, env } = server.start(port, routes);
  const [cmd, fullArgs] = pinned(cpu, command, args);
  // Its own process group, so that stopping it also stops the workers it forks.
  const child = spawn(cmd, fullArgs, {
    cwd: BENCH_DIR,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { server, port, child, exited, stderr: () => stderr.trim(), failure: null };
}

async function stopServer(proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const signalGroup = (signal) => {
    try {
      process.kill(-proc.child.pid, signal);
    } catch {}
  };
  signalGroup('SIGTERM');
  const done = await Promise.race([proc.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    signalGroup('SIGKILL');
    await proc.exited;
  }
  await sleep(100); // let forked workers of the group go too
  signalGroup('SIGKILL');
  running.delete(proc.child);
}

async function request(port, scenario) {
  const response = await fetch(`http://127.0.0.1:${port}${scenario.path}`, {
    method: scenario.method,
    headers: scenario.body ? { 'content-type': 'application/json' } : {},
    body: scenario.body,
    signal: AbortSignal.timeout(2000),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

async function waitReady(proc, scenario, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const exited = proc.exited.then(({ code, signal }) => ({ exited: true, code, signal }));
  while (Date.now() < deadline) {
    const attempt = await Promise.race([
      request(proc.port, scenario).then((r) => ({ ready: true, r }), () => ({ ready: false })),
      exited,
    ]);
    if (attempt.exited) {
      throw new Error(`exited (${attempt.signal ?? `code ${attempt.code}`}) before listening: ${proc.stderr().split('\n').slice(-3).join(' | ')}`);
    }
    if (attempt.ready) return attempt.r;
    await sleep(100);
  }
  throw new Error(`not answering on port ${proc.port} after ${timeoutMs / 1000} s: ${proc.stderr().split('\n').slice(-3).join(' | ')}`);
}

/** A wrong answer would make a fast server meaningless: check status, type and body first. */
function checkResponse(scenario, r) {
  if (r.status !== 200) return `answered ${r.status} to ${scenario.method} ${scenario.path}: ${r.text.slice(0, 200)}`;
  if (scenario.expect.text !== undefined) {
    if (!r.type.toLowerCase().startsWith('text/plain')) return `content-type "${r.type}", expected text/plain`;
    if (r.text !== scenario.expect.text) return `body ${JSON.stringify(r.text.slice(0, 100))}, expected ${JSON.stringify(scenario.expect.text)}`;
    return null;
  }
  if (!r.type.toLowerCase().startsWith('application/json')) return `content-type "${r.type}", expected application/json`;
  let body;
  try {
    body = JSON.parse(r.text);
  } catch {
    return `body is not JSON: ${r.text.slice(0, 200)}`;
  }
  return isDeepStrictEqual(body, scenario.expect.json) ? null : `wrong JSON body: ${r.text.slice(0, 200)}`;
}

// ——— scenarios ———

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** `count` free ports from `first` on, so that no other program on the machine answers for a server. */
async function freePorts(first, count) {
  const ports = [];
  for (let port = first; ports.length < count && port < first + 1000; port++) {
    if (await portIsFree(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`fewer than ${count} free ports from ${first} on`);
  return ports;
}

/**
 * Runs scenarios measured together: every server of every scenario in the batch is started,
 * checked and warmed up, then measured in rounds that alternate all of them. The two
 * route-table scenarios share a batch, so Carafe's 10- and 1000-route rates come from the
 * same rounds.
 */
async function runBatch(scenarios, servers, options, ctx) {
  log(`\n## ${scenarios.map((s) => s.label).join(' + ')}`);
  const ports = await freePorts(options.port, servers.length * scenarios.length);
  const procs = [];
  for (const server of servers) {
    for (const scenario of scenarios) {
      const proc = startServer(server, ports[procs.length], scenario.routes, ctx.serverCpu);
      proc.scenario = scenario;
      proc.name = scenarios.length > 1 ? `${server.id} (${scenario.id})` : server.id;
      proc.runs = [];
      procs.push(proc);
    }
  }
  try {
    await Promise.all(
      procs.map(async (proc) => {
        try {
          const problem = checkResponse(proc.scenario, await waitReady(proc, proc.scenario));
          if (problem) proc.failure = `wrong response: ${problem}`;
        } catch (error) {
          proc.failure = error.message;
        }
        if (proc.failure) log(`  ${proc.name}: ${proc.failure}`);
      }),
    );
    const live = procs.filter((p) => !p.failure);
    const load = (proc, duration) =>
      runLoad({
        tool: ctx.tool,
        url: `http://127.0.0.1:${proc.port}${proc.scenario.path}`,
        method: proc.scenario.method,
        body: proc.scenario.body,
        connections: options.connections,
        duration,
        cpu: ctx.loadCpu,
      });
    if (options.warmup > 0) {
      // All servers of the batch at once: each gets a share of core 1 for the warm-up's length,
      // plenty for V8 to optimize the request path, and the batch waits seconds, not minutes.
      await Promise.all(
        live.map((proc) =>
          load(proc, options.warmup).catch((error) => {
            proc.failure = `warm-up failed: ${error.message.split('\n')[0]}`;
            log(`  ${proc.name}: ${proc.failure}`);
          }),
        ),
      );
    }
    const baselineOf = (proc) => live.find((p) => p.server.id === 'node' && p.scenario === proc.scenario);
    /** One logged run of `proc`; null when it failed (the server is then left out). */
    const runOnce = async (proc, round) => {
      if (proc.failure) return null;
      try {
        const result = await measure(() => load(proc, options.duration), proc.child.pid, options, ctx, proc.name);
        if (result.non2xx > 0 || result.errors > 0) {
          result.invalid = `${result.non2xx} non-2xx responses, ${result.errors} socket errors`;
        }
        log(
          `  round ${round} ${proc.name.padEnd(26)} ${result.rps.toFixed(0).padStart(7)} req/s  ` +
            `p50 ${result.p50_ms.toFixed(2)} ms  p99 ${result.p99_ms.toFixed(2)} ms` +
            `${result.cpu_us === null ? '' : `  ${result.cpu_us.toFixed(1)} µs CPU/req`}` +
            `${result.steal === null ? '' : `  steal ${(100 * result.steal).toFixed(0)}%`}${result.invalid ? `  (${result.invalid})` : ''}`,
        );
        return result;
      } catch (error) {
        proc.failure = `load run failed: ${error.message.split('\n')[0]}`;
        log(`  ${proc.name}: ${proc.failure}`);
        return null;
      }
    };
    for (let round = 1; round <= options.rounds; round++) {
      // Each server is bracketed by runs of node:http on the same scenario (node A node B node …),
      // and its ratio is taken against the mean of the two: the baseline is measured seconds
      // before and after, not a whole round away. Serpentine order (A B C, then C B A) keeps
      // any position from being favoured across rounds.
      const others = live.filter((p) => p.server.id !== 'node');
      const order = (round % 2 === 1 ? others : [...others].reverse())
        .sort((a, b) => scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario));
      const runBaseline = async (baseline) => {
        const result = await runOnce(baseline, round);
        if (result) baseline.runs.push({ round, ...result });
        return result;
      };
      let last = null; // the latest node:http run, which also serves as the next server's "before"
      for (const proc of order) {
        const baseline = baselineOf(proc);
        if (proc.failure || !baseline || baseline.failure) continue;
        const before = last?.proc === baseline ? last.result : await runBaseline(baseline);
        const result = await runOnce(proc, round);
        const after = await runBaseline(baseline);
        last = after && { proc: baseline, result: after };
        // A run without both of its node:http neighbours has nothing to be compared with.
        if (result && before && after) {
          proc.runs.push({ round, ...result, baseline_rps: (before.rps + after.rps) / 2, baseline_cpu_us: meanOrNull(before.cpu_us, after.cpu_us) });
        }
      }
    }
  } finally {
    await Promise.all(procs.map(stopServer));
  }
  return procs.map(summarize);
}

/**
 * One measured run, repeated (up to --retries times) while the host stole more than
 * --max-steal of a core the run used; the attempt with the least steal is kept. Also
 * records the server's CPU time per request (its processes' user + system time over the
 * requests served), or null where /proc cannot tell.
 */
async function measure(run, pid, options, ctx, name) {
  const cpus = ctx.serverCpu === null ? null : [ctx.serverCpu, ctx.loadCpu];
  let best;
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    const before = cpuTimes();
    const cpuBefore = processTreeCpuSeconds(pid);
    const result = await run();
    const cpuAfter = processTreeCpuSeconds(pid);
    result.steal = stolenShare(before, cpuTimes(), cpus);
    result.cpu_us = cpuBefore === null || cpuAfter === null || result.requests === 0 ? null : ((cpuAfter - cpuBefore) * 1e6) / result.requests;
    if (best === undefined || (result.steal ?? 0) < (best.steal ?? 0)) best = result;
    if (result.steal === null || result.steal <= options.maxSteal) break;
    log(`  ${name}: host stole ${(100 * result.steal).toFixed(0)}% of a core during the run; ${attempt < options.retries ? 'again' : 'keeping the least disturbed run'}`);
  }
  return best;
}

function meanOrNull(a, b) {
  return a === null || b === null ? null : (a + b) / 2;
}

function summarize(proc) {
  const runs = proc.runs;
  const isBaseline = proc.server.id === 'node';
  const ratios = runs.map((run) => (isBaseline ? 1 : run.rps / run.baseline_rps));
  // CPU ratio: the node:http runs' CPU time per request over this server's, so that like the
  // rps ratio, higher is better and 1 is node:http.
  const cpuRatios = runs.map((run) => (isBaseline ? 1 : run.cpu_us && run.baseline_cpu_us ? run.baseline_cpu_us / run.cpu_us : null));
  const row = {
    scenario: proc.scenario.id,
    server: proc.server.id,
    rps: round(median(runs.map((r) => r.rps)), 1),
    p50_ms: round(median(runs.map((r) => r.p50_ms)), 3),
    p99_ms: round(median(runs.map((r) => r.p99_ms)), 3),
    ratio: round(median(ratios), 4),
    cpu_us: round(median(runs.map((r) => r.cpu_us)), 2),
    cpu_ratio: round(median(cpuRatios), 4),
    rounds: runs.map((r, i) => ({
      round: r.round, rps: r.rps, p50_ms: r.p50_ms, p99_ms: r.p99_ms, ratio: round(ratios[i], 4),
      cpu_us: round(r.cpu_us, 3), cpu_ratio: round(cpuRatios[i], 4),
      steal: r.steal === null ? null : round(r.steal, 3),
      ...(r.baseline_rps !== undefined && { baseline_rps: round(r.baseline_rps, 1), baseline_cpu_us: round(r.baseline_cpu_us, 3) }),
    })),
  };
  const invalid = runs.find((r) => r.invalid)?.invalid;
  const note = proc.failure ?? (runs.length === 0 ? 'no run completed' : invalid);
  if (note) row.note = note;
  return row;
}

function round(value, digits) {
  return value === null || value === undefined ? null : Math.round(value * 10 ** digits) / 10 ** digits;
}

// ——— router micro-benchmark ———

function runRouterBench(options, ctx) {
  const args = [join(BENCH_DIR, 'router.bench.mjs'), '--json'];
  if (options.quick) args.push('--quick');
  const [cmd, fullArgs] = pinned(ctx.serverCpu, process.execPath, args);
  return new Promise((resolve) => {
    execFile(cmd, fullArgs, { timeout: 300_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return resolve({ error: `${error.message.split('\n')[0]} ${stderr.trim().split('\n').slice(-2).join(' ')}`.trim() });
      try {
        resolve(JSON.parse(stdout));
      } catch {
        resolve({ error: `router benchmark printed no JSON: ${stdout.slice(0, 200)}` });
      }
    });
  });
}

// ——— main ———

async function main() {
  const options = parseOptions();
  const started = Date.now();
  const tool = pickLoadGenerator(options.load);
  const pin = options.pin && os.cpus().length >= 2 && (await hasTaskset());
  const ctx = { tool, serverCpu: pin ? 1 : null, loadCpu: pin ? 0 : null };

  log(`Carafe benchmark: ${options.quick ? 'quick' : 'full'} run with ${tool}, ${options.rounds} round(s) of ${options.duration} s, ` +
    `${options.connections} connections${pin ? ', server on core 1, load on core 0' : ', not pinned'}`);

  const servers = [];
  const unavailable = [];
  for (const server of options.servers) {
    const reason = await server.check();
    if (reason) {
      log(`${server.id}: unavailable — ${reason}`);
      unavailable.push({ server, reason });
    } else servers.push(server);
  }

  const rows = [];
  const order = (row) => LINEUP.findIndex((s) => s.id === row.server);
  const batches = [];
  for (const scenario of options.scenarios) {
    const together = batches.find((b) => b[0].batch !== undefined && b[0].batch === scenario.batch);
    if (together) together.push(scenario);
    else batches.push([scenario]);
  }
  for (const batch of batches) {
    const batchRows = await runBatch(batch, servers, options, ctx);
    for (const scenario of batch) {
      const scenarioRows = batchRows.filter((r) => r.scenario === scenario.id);
      for (const { server, reason } of unavailable) {
        scenarioRows.push({ scenario: scenario.id, server: server.id, rps: null, p50_ms: null, p99_ms: null, ratio: null, cpu_us: null, cpu_ratio: null, rounds: [], note: `unavailable: ${reason}` });
      }
      rows.push(...scenarioRows.sort((a, b) => order(a) - order(b)));
    }
  }

  let router = null;
  if (options.router) {
    log('\n## Router lookup micro-benchmark');
    router = await runRouterBench(options, ctx);
    if (router.error) log(`  ${router.error}`);
  }

  const versions = { node: process.versions.node, [tool]: loadGeneratorVersion(tool) };
  for (const server of options.servers) {
    if (server.package !== 'node') versions[server.package] = server.version() ?? 'not installed';
  }
  if (router?.versions) Object.assign(versions, router.versions);

  const report = {
    machine: machineInfo(),
    versions,
    method: {
      quick: options.quick,
      load_generator: tool,
      connections: options.connections,
      duration_s: options.duration,
      warmup_s: options.warmup,
      rounds: options.rounds,
      pinning: pin ? 'server processes on core 1, load generator on core 0 (taskset)' : 'none',
      text: methodText(options, tool, pin),
      elapsed_s: 0,
    },
    servers: Object.fromEntries(LINEUP.map((s) => [s.id, s.label])),
    scenarios: Object.fromEntries(SCENARIOS.map((s) => [s.id, s.label])),
    rows,
    router,
    date: new Date().toISOString(),
  };
  report.method.elapsed_s = Math.round((Date.now() - started) / 1000);
  // Only a complete run replaces what the README quotes; a quick or partial one is kept aside.
  const complete = !options.quick && options.servers.length === LINEUP.length &&
    options.scenarios.length === SCENARIOS.length && options.router;
  const name = complete ? 'latest' : 'partial';
  const markdown = writeReport(report, name);
  process.stdout.write(markdown);
  log(`\nWrote bench/results/${name}.md, ${name}.json and ${name}.svg in ${report.method.elapsed_s} s.`);
  if (complete) {
    updateReadme(report);
    log('Updated the Performance section of README.md.');
  }
}

function methodText(options, tool, pin) {
  return [
    `Each server runs as its own process${pin ? ' pinned to core 1 with taskset, the load generator pinned to core 0' : ' (not pinned: taskset or a second core is missing)'}.`,
    `Load: ${tool === 'wrk' ? 'wrk, 1 thread' : 'autocannon'}, ${options.connections} keep-alive connections, ` +
      `${options.duration} s per run after a ${options.warmup} s warm-up of all servers of a scenario together; ${options.rounds} round(s) per scenario on one set of processes, ` +
      'each round running every server once in serpentine order (A B C, C B A, …) with a run of node:http on the same scenario just before and after each; ' +
      'the 10- and 1000-route scenarios are measured in the same rounds.',
    `A run during which the host stole more than ${Math.round(options.maxSteal * 100)}% of either core (/proc/stat steal time) is repeated up to ${options.retries} time(s), keeping the least disturbed.`,
    'Each run is checked first: a server answering with a wrong status, type or body is left out of the scenario.',
    'ratio = a server\'s requests/s over the mean of the node:http runs just before and after it; ' +
      'CPU ratio = the same node:http runs\' CPU time per request (user + system, /proc/<pid>/stat of the server\'s process tree) over the server\'s; ' +
      'the table shows medians across rounds.',
  ].join(' ');
}

main().then(
  // Exit now rather than when fetch's idle keep-alive sockets time out.
  () => process.exit(0),
  (error) => {
    log(error instanceof UsageError ? `bench: ${error.message}\n\n${USAGE}` : `bench: ${error.stack ?? error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
