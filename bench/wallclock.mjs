// The wall-clock meter (`npm run bench`, the default): requests/s, latency and CPU time per
// request of every server, each run bracketed by runs of raw node:http, then the router
// micro-benchmark. See bench/README.md for the method.
import { execFile, spawnSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, LINEUP, runsScenario, SCENARIOS, serverVersions } from './lineup.mjs';
import { loadGeneratorVersion, pickLoadGenerator, pinned, runLoad } from './load.mjs';
import { writeReport } from './report.mjs';
import { updateReadme } from './readme.mjs';
import { cpuTimes, processTreeCpuSeconds, stolenShare } from './cpu.mjs';
import { median } from './stats.mjs';
import { checkResponse, freePorts, hasTaskset, log, machineInfo, round, startProcess, stopProcess, waitReady } from './processes.mjs';

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
      if (!runsScenario(server, scenario.id)) continue; // its row says so (notRunRow)
      const proc = /** @type {any} */ (
        startProcess(server.start(ports[procs.length], scenario.routes, options.node), ports[procs.length], ctx.serverCpu)
      );
      proc.server = server;
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
      const order = (round % 2 === 1 ? others : [...others].reverse()).sort(
        (a, b) => scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario),
      );
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
          proc.runs.push({
            round,
            ...result,
            baseline_rps: (before.rps + after.rps) / 2,
            baseline_cpu_us: meanOrNull(before.cpu_us, after.cpu_us),
          });
        }
      }
    }
  } finally {
    await Promise.all(procs.map(stopProcess));
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
    result.cpu_us =
      cpuBefore === null || cpuAfter === null || result.requests === 0 ? null : ((cpuAfter - cpuBefore) * 1e6) / result.requests;
    if (best === undefined || (result.steal ?? 0) < (best.steal ?? 0)) best = result;
    if (result.steal === null || result.steal <= options.maxSteal) break;
    log(
      `  ${name}: host stole ${(100 * result.steal).toFixed(0)}% of a core during the run; ${attempt < options.retries ? 'again' : 'keeping the least disturbed run'}`,
    );
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
      round: r.round,
      rps: r.rps,
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
      ratio: round(ratios[i], 4),
      cpu_us: round(r.cpu_us, 3),
      cpu_ratio: round(cpuRatios[i], 4),
      steal: r.steal === null ? null : round(r.steal, 3),
      ...(r.baseline_rps !== undefined && { baseline_rps: round(r.baseline_rps, 1), baseline_cpu_us: round(r.baseline_cpu_us, 3) }),
    })),
  };
  const invalid = runs.find((r) => r.invalid)?.invalid;
  const note = proc.failure ?? (runs.length === 0 ? 'no run completed' : invalid);
  if (note) row.note = note;
  return row;
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

function methodText(options, tool, pin) {
  return [
    `Each server runs as its own process${pin ? ' pinned to core 1 with taskset, the load generator pinned to core 0' : ' (not pinned: taskset or a second core is missing)'}.`,
    `Load: ${tool === 'wrk' ? 'wrk, 1 thread' : 'autocannon'}, ${options.connections} keep-alive connections, ` +
      `${options.duration} s per run after a ${options.warmup} s warm-up of all servers of a scenario together; ${options.rounds} round(s) per scenario on one set of processes, ` +
      'each round running every server once in serpentine order (A B C, C B A, …) with a run of node:http on the same scenario just before and after each; ' +
      'the 10- and 1000-route scenarios are measured in the same rounds.',
    `A run during which the host stole more than ${Math.round(options.maxSteal * 100)}% of either core (/proc/stat steal time) is repeated up to ${options.retries} time(s), keeping the least disturbed.`,
    'Each run is checked first: a server answering with a wrong status, type or body is left out of the scenario.',
    "ratio = a server's requests/s over the mean of the node:http runs just before and after it; " +
      "CPU ratio = the same node:http runs' CPU time per request (user + system, /proc/<pid>/stat of the server's process tree) over the server's; " +
      'the table shows medians across rounds.',
  ].join(' ');
}

// ——— the run ———

/** Runs the wall-clock meter with options from options.mjs, writes its results, and prints the Markdown report. */
export async function runWallclock(options) {
  const started = Date.now();
  const tool = pickLoadGenerator(options.load);
  const pin = options.pin && os.cpus().length >= 2 && (await hasTaskset());
  const ctx = { tool, serverCpu: pin ? 1 : null, loadCpu: pin ? 0 : null };

  log(
    `Carafe benchmark: ${options.quick ? 'quick' : 'full'} run with ${tool}, ${options.rounds} round(s) of ${options.duration} s, ` +
      `${options.connections} connections${pin ? ', server on core 1, load on core 0' : ', not pinned'}`,
  );

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
      for (const server of options.servers) {
        if (!runsScenario(server, scenario.id)) scenarioRows.push(notRunRow(scenario.id, server));
      }
      for (const { server, reason } of unavailable) {
        if (!runsScenario(server, scenario.id)) continue;
        scenarioRows.push(emptyRow(scenario.id, server.id, `unavailable: ${reason}`));
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

  const versions = serverVersions(options.servers, { node: nodeVersion(options.node), [tool]: loadGeneratorVersion(tool) });
  if (router?.versions) Object.assign(versions, router.versions);

  const raw = {
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
  raw.method.elapsed_s = Math.round((Date.now() - started) / 1000);
  // Only a complete run replaces what the README quotes; a quick or partial one is kept aside.
  const complete =
    !options.quick && options.servers.length === LINEUP.length && options.scenarios.length === SCENARIOS.length && options.router;
  const name = complete ? 'latest' : 'partial';
  const markdown = writeReport(raw, name);
  process.stdout.write(markdown);
  log(
    `\nWrote bench/results/${name}.{json,md,svg} (summary) and bench/results/raw/${name}.json (every round) in ${raw.method.elapsed_s} s.`,
  );
  if (complete) {
    updateReadme();
    log("Updated the wall-clock part of the README's Performance section.");
  }
}

/**
 * The row of a server in a scenario it does not take part in (see the lineup's `scenarios`):
 * nothing measured, and a note naming the scenarios it does take part in.
 * @param {string} scenario @param {{id: string, scenarios?: string[]}} server
 */
export function notRunRow(scenario, server) {
  const only = (server.scenarios ?? []).map((id) => SCENARIOS.find((s) => s.id === id)?.label ?? id).join(', ');
  return emptyRow(scenario, server.id, `not run: ${only} only`);
}

/** A row with no measurement, and why. @param {string} scenario @param {string} server @param {string} note */
function emptyRow(scenario, server, note) {
  return { scenario, server, rps: null, p50_ms: null, p99_ms: null, ratio: null, cpu_us: null, cpu_ratio: null, rounds: [], note };
}

/** The version of the Node.js binary at `path` (without the v). @param {string} path */
export function nodeVersion(path) {
  if (path === process.execPath) return process.versions.node;
  const out = spawnSync(path, ['--version'], { encoding: 'utf8' });
  return out.stdout?.trim().replace(/^v/, '') || 'unknown';
}
