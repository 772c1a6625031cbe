// @ts-check
// The instruction meter (`npm run bench -- --meter instructions`): how many instructions a
// server executes per request, counted by valgrind's callgrind, which does not depend on how
// busy the machine is. See bench/README.md, "The instruction meter", for the method.
//
// Each server and scenario gets a process of its own under valgrind, instrumentation off,
// warmed up with --warmup-requests requests of that scenario on --connections keep-alive
// connections. Then instrumentation goes on, a short counted probe sizes the windows, and
// --repeats windows are counted one after the other on the same connections: counters zeroed
// (callgrind_control -z), the window's requests, a dump (callgrind_control -d). A window's
// figure is its instructions, less what V8 spent compiling in it, over its requests.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callgrindMissing, control, dumpTotal, gcInWindow, jitInWindow, NODE_FLAGS, valgrindArgs, valgrindVersion } from './callgrind.mjs';
import { KeepAliveClient } from './client.mjs';
import { childrenOf } from './cpu.mjs';
import { writeInstructionsReport } from './instructions-report.mjs';
import { LINEUP, SCENARIOS, serverVersions } from './lineup.mjs';
import { checkResponse, freePorts, hasTaskset, log, machineInfo, startProcess, stopProcess, waitReady } from './processes.mjs';
import { updateReadme } from './readme.mjs';
import { RAW_DIR } from './summary.mjs';
import { nodeVersion } from './wallclock.mjs';

/**
 * @typedef {import('./lineup.mjs').Server} Server
 * @typedef {import('./processes.mjs').Scenario} Scenario
 *
 * @typedef {object} WindowSize how many requests a counted window holds
 * @property {number | null} requests that many, always; or null to size the windows from a probe:
 * @property {number} instructions about this many instructions in a window…
 * @property {number} min …but at least this many requests…
 * @property {number} max …and at most this many
 * @property {number} probe requests of the probe
 *
 * @typedef {object} MeterOptions
 * @property {number} repeats counted windows per server and scenario
 * @property {number} warmupRequests
 * @property {WindowSize} window
 * @property {number} connections
 * @property {number} jobs server processes measured at the same time
 * @property {string} node the Node.js binary the servers run on
 * @property {string | null} keepDumps directory to keep the callgrind dumps in, or null
 *
 * @typedef {object} InstructionOptions options.mjs's options of the instruction meter
 * @property {boolean} quick
 * @property {Server[]} servers
 * @property {Scenario[]} scenarios
 * @property {number} repeats
 * @property {number} warmupRequests
 * @property {WindowSize} window
 * @property {number} connections
 * @property {number} jobs
 * @property {string} node
 * @property {boolean} keepDumps
 * @property {boolean} pin
 * @property {number} port
 *
 * @typedef {object} Measurement one counted window
 * @property {string} server
 * @property {string} scenario
 * @property {number} repeat 1-based: the window's place in its process
 * @property {number | null} ir instructions executed in the window (all threads of the process)
 * @property {number | null} jit_ir of which in V8's compilers
 * @property {number} requests responses received in the window
 * @property {number | null} ir_per_request (ir − jit_ir) ÷ requests: the figure
 * @property {number | null} probe_ir_per_request the probe's figure, which sized the windows (null: no probe)
 * @property {number | null} gc_minor scavenges in the window
 * @property {number | null} gc_major mark-compacts in the window
 * @property {number | null} gc_ir instructions in the collections' atomic pauses
 * @property {number} connects connections opened during the window (0: all reused from the warm-up)
 * @property {{start: number, warmup: number, window: number, total: number}} seconds wall-clock time (start,
 *   warm-up and total: of the whole process)
 * @property {string} [note] why the window failed or is suspect
 */

/**
 * Runs the instruction meter, writes its results (bench/results/instructions.{json,md} for a
 * complete run, partial.instructions.* otherwise; every window in bench/results/raw/) and
 * prints the Markdown table.
 * @param {InstructionOptions} options
 */
export async function runInstructionMeter(options) {
  const started = Date.now();
  const missing = callgrindMissing();
  if (missing) throw new Error(`the instruction meter needs valgrind: ${missing}`);
  const cores = os.cpus().length;
  const jobs = options.jobs;
  // Jobs are spread over the cores, the first on the last core (the load client, in this
  // process, is light next to a server under valgrind). Counts do not depend on it.
  const pin = options.pin && cores >= 2 && (await hasTaskset());
  const cpus = Array.from({ length: jobs }, (_, i) => (pin ? cores - 1 - (i % cores) : null));
  const ports = await freePorts(options.port, jobs);

  const servers = [];
  const unavailable = [];
  for (const server of options.servers) {
    const reason = await server.check();
    if (reason) {
      log(`${server.id}: unavailable — ${reason}`);
      unavailable.push({ server, reason });
    } else servers.push(server);
  }
  const node = nodeVersion(options.node);
  log(
    `Carafe instruction meter: Node ${node} (${options.node}) under valgrind ${valgrindVersion()}'s callgrind; ` +
      `${options.warmupRequests} warm-up requests, then ${options.repeats} window(s) of ${windowText(options.window)}, ` +
      `${options.connections} connections, ${jobs} job(s)${pin ? ` pinned to core(s) ${cpus.join(', ')}` : ', not pinned'}`,
  );

  const measurements = await runUnits(
    planUnits(servers, options.scenarios),
    { ...options, keepDumps: options.keepDumps ? join(RAW_DIR, 'callgrind') : null },
    { ports, cpus },
  );
  for (const { server, reason } of unavailable) {
    for (const scenario of options.scenarios) {
      measurements.push({ ...emptyMeasurement(server.id, scenario.id, 1), note: `unavailable: ${reason}` });
    }
  }

  const versions = serverVersions(options.servers, { node, valgrind: valgrindVersion() });
  const meterServers = LINEUP.filter((s) => s.instructions);
  const raw = {
    meter: 'instructions',
    date: new Date().toISOString(),
    machine: machineInfo(),
    versions,
    method: {
      quick: options.quick,
      node: options.node,
      node_flags: NODE_FLAGS,
      valgrind_flags: valgrindArgs({ outFile: '<dump>.%p' }).filter((f) => !f.startsWith('--callgrind-out-file')),
      repeats: options.repeats,
      warmup_requests: options.warmupRequests,
      window: options.window,
      connections: options.connections,
      jobs,
      pinning: pin ? `server processes on core(s) ${cpus.join(', ')} (taskset)` : 'none',
      text: methodText(options, node),
      elapsed_s: Math.round((Date.now() - started) / 1000),
    },
    // Every server and scenario of the meter, measured or not (the targets name them).
    servers: Object.fromEntries(meterServers.map((s) => [s.id, s.label])),
    scenarios: Object.fromEntries(SCENARIOS.map((s) => [s.id, s.label])),
    measurements,
  };
  // Only a complete run replaces what the README quotes; a quick or partial one is kept aside.
  const complete =
    !options.quick &&
    options.repeats >= 3 &&
    meterServers.every((s) => options.servers.includes(s)) &&
    options.scenarios.length === SCENARIOS.length;
  const name = complete ? 'instructions' : 'partial.instructions';
  const { summary, md } = writeInstructionsReport(raw, name);
  process.stdout.write(md);
  log(`\nWrote bench/results/${name}.{json,md} (summary) and bench/results/raw/${name}.json (every window) in ${raw.method.elapsed_s} s.`);
  if (complete) {
    updateReadme({ instructions: summary });
    log("Updated the instruction part of the README's Performance section.");
  }
}

/** @param {WindowSize} w */
function windowText(w) {
  return w.requests === null
    ? `about ${w.instructions / 1e6} M instructions (${w.min}–${w.max} requests, sized by a ${w.probe}-request probe)`
    : `${w.requests} requests`;
}

/** @param {InstructionOptions} options @param {string} node its version */
function methodText(options, node) {
  const w = options.window;
  return [
    `Each server and scenario runs in a process of its own, on Node.js ${node} with ${NODE_FLAGS.join(' ')},`,
    `under valgrind --tool=callgrind with instrumentation off; it is warmed up with ${options.warmupRequests} requests of that scenario`,
    `on ${options.connections} keep-alive connections, one request in flight on each. Then instrumentation goes on and`,
    w.requests === null
      ? `a probe of ${w.probe} counted requests sizes the windows to about ${w.instructions / 1e6} million instructions (${w.min}–${w.max} requests);`
      : `each window holds ${w.requests} requests;`,
    `${options.repeats} windows are counted one after the other on the same connections: counters zeroed (callgrind_control -z), the requests, a dump (callgrind_control -d).`,
    "A window's figure is its instructions (Ir, all threads) less those in V8's compilers, over its requests; a row shows the median of its windows",
    "and their spread (largest − smallest over the median). ratio = node:http's instructions per request over the server's (higher is better).",
    'GCs: V8 scavenges and mark-compacts inside a window, from the calls in its dump.',
    'carafe serve: valgrind traces the arbiter and the worker it forks (--trace-children=yes); the worker, which serves every request, is the process counted.',
  ].join(' ');
}

/**
 * @typedef {object} Unit one server process: a server and a scenario
 * @property {Server} server
 * @property {Scenario} scenario
 */

/**
 * The server processes a run needs: one per server and scenario. The scenarios whose
 * requests cost the most come first, so that two jobs finish at about the same time.
 * @param {Server[]} servers @param {Scenario[]} scenarios
 * @returns {Unit[]}
 */
export function planUnits(servers, scenarios) {
  const heavyFirst = [...scenarios].sort((a, b) => Number(isHeavy(b)) - Number(isHeavy(a)));
  return heavyFirst.flatMap((scenario) => servers.map((server) => ({ server, scenario })));
}

/** A POST body to parse, or a thousand routes to search (for some routers, one by one). @param {Scenario} scenario */
function isHeavy(scenario) {
  return scenario.body !== undefined || scenario.routes > 10;
}

/**
 * Runs every unit, `jobs` at a time.
 * @param {Unit[]} units @param {MeterOptions} options
 * @param {{ports: number[], cpus: Array<number | null>}} lanes one port and core per job
 * @returns {Promise<Measurement[]>}
 */
export async function runUnits(units, options, lanes) {
  const dumpDir = options.keepDumps ?? mkdtempSync(join(tmpdir(), 'carafe-callgrind-'));
  mkdirSync(dumpDir, { recursive: true });
  /** @type {Measurement[]} */
  const results = [];
  let next = 0;
  let done = 0;
  const lane = async (/** @type {number} */ index) => {
    while (next < units.length) {
      const unit = units[next++];
      const windows = await measureUnit(unit, options, {
        port: lanes.ports[index],
        cpu: lanes.cpus[index],
        dumpDir,
        keep: options.keepDumps !== null,
      });
      results.push(...windows);
      done++;
      const counted = windows.filter((w) => w.ir_per_request !== null).map((w) => Math.round(/** @type {number} */ (w.ir_per_request)));
      log(
        `  [${done}/${units.length}] ${`${unit.scenario.id} ${unit.server.id}`.padEnd(26)} ` +
          (counted.length
            ? `${counted.map((v) => v.toLocaleString('en-US').padStart(9)).join(' ')} Ir/req over ${windows[0].requests} requests, ` +
              `GC ${windows.map((w) => `${w.gc_minor}+${w.gc_major}`).join(' ')}, JIT ${windows.map((w) => pct(w.jit_ir, w.ir)).join(' ')}, ` +
              `${windows[0].seconds.total.toFixed(0)} s`
            : '') +
          [...new Set(windows.map((w) => w.note).filter(Boolean))].map((n) => `  (${n})`).join(''),
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.jobs, units.length) }, (_, i) => lane(i)));
  } finally {
    if (options.keepDumps === null) rmSync(dumpDir, { recursive: true, force: true });
  }
  return results;
}

/** @param {number | null} part @param {number | null} whole */
function pct(part, whole) {
  return part === null || !whole ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

/** @param {string} server @param {string} scenario @param {number} repeat @returns {Measurement} */
function emptyMeasurement(server, scenario, repeat) {
  return {
    server,
    scenario,
    repeat,
    ir: null,
    jit_ir: null,
    requests: 0,
    ir_per_request: null,
    probe_ir_per_request: null,
    gc_minor: null,
    gc_major: null,
    gc_ir: null,
    connects: 0,
    seconds: { start: 0, warmup: 0, window: 0, total: 0 },
  };
}

/**
 * One server process under valgrind: started with instrumentation off, checked, warmed up,
 * then instrumentation on, the probe, and the counted windows.
 * @param {Unit} unit @param {MeterOptions} options
 * @param {{port: number, cpu: number | null, dumpDir: string, keep: boolean}} lane
 * @returns {Promise<Measurement[]>}
 */
async function measureUnit({ server, scenario }, options, { port, cpu, dumpDir, keep }) {
  const label = `${server.id}.${scenario.id}`;
  const t0 = performance.now();
  const proc = launchUnderCallgrind(server, scenario.routes, { node: options.node, port, cpu, outFile: join(dumpDir, `${label}.%p`) });
  const client = new KeepAliveClient({ port, connections: options.connections });
  const results = Array.from({ length: options.repeats }, (_, i) => emptyMeasurement(server.id, scenario.id, i + 1));
  let current = 0; // the window being counted
  try {
    // Valgrind starts a Node.js process several times slower than Node.js alone.
    const problem = checkResponse(scenario, await waitReady(proc, scenario, 180_000));
    if (problem) throw new Error(`wrong response: ${problem}`);
    const pid = await countedPid(server, proc);
    const start = (performance.now() - t0) / 1000;
    const request = [client.request(scenario)];
    const warmup = await client.send(options.warmupRequests, request);
    if (warmup.errors > 0 || warmup.non2xx > 0)
      throw new Error(`warm-up: ${warmup.non2xx} non-2xx responses, ${warmup.errors} failed connections`);
    await control(pid, ['-i', 'on']);
    /** Zeroes the counters, sends `count` requests, dumps, and reads the dump. @param {number} count @param {string} name */
    const count = async (count, name) => {
      await control(pid, ['-z']);
      const phase = await client.send(count, request);
      await control(pid, ['-d', name]);
      return { phase, text: readFileSync(latestDump(dumpDir, `${label}.${pid}.`), 'utf8') };
    };

    let size = options.window.requests;
    let probePerRequest = null;
    if (size === null) {
      const probe = await count(options.window.probe, 'probe');
      if (probe.phase.requests === 0) throw new Error('the probe got no response');
      // Compiling left out, as in the windows: a burst of it would make the windows too small.
      probePerRequest = (dumpTotal(probe.text) - jitInWindow(probe.text)) / probe.phase.requests;
      size = windowRequests(probePerRequest, options.window);
    }
    for (current = 0; current < options.repeats; current++) {
      const { phase, text } = await count(size, `window-${current + 1}`);
      const result = results[current];
      const gc = gcInWindow(text);
      Object.assign(result, {
        ir: dumpTotal(text),
        jit_ir: jitInWindow(text),
        requests: phase.requests,
        probe_ir_per_request: probePerRequest,
        gc_minor: gc.minor,
        gc_major: gc.major,
        gc_ir: gc.ir,
        connects: phase.connects,
      });
      result.ir_per_request = phase.requests > 0 ? (result.ir - result.jit_ir) / phase.requests : null;
      Object.assign(result.seconds, { start, warmup: warmup.seconds, window: phase.seconds });
      const problems = [];
      if (phase.errors > 0 || phase.non2xx > 0) problems.push(`${phase.non2xx} non-2xx responses, ${phase.errors} failed connections`);
      // A connection the server closed since the warm-up was reopened inside the window: its
      // accept and setup are then counted too.
      if (phase.connects > 0) problems.push(`${phase.connects} connections reopened in the window`);
      if (problems.length) result.note = problems.join('; ');
    }
  } catch (error) {
    const message = /** @type {Error} */ (error).message.split('\n')[0];
    for (const result of results.slice(current)) result.note = message;
  } finally {
    client.close();
    await stopProcess(proc);
    if (!keep) {
      for (const file of readdirSync(dumpDir).filter((f) => f.startsWith(`${label}.`))) rmSync(join(dumpDir, file), { force: true });
    }
    const total = (performance.now() - t0) / 1000;
    for (const result of results) result.seconds.total = total;
  }
  return results;
}

/**
 * The requests of a window meant to hold about `size.instructions` instructions, given a
 * probe's instructions per request: rounded to a hundred, within [size.min, size.max]. Every
 * window then holds about as many instructions, so that a collection more or less in it (the
 * collections fall where the allocation takes them, not where a window starts) moves every
 * figure by about the same share: light requests get more of them, heavy ones fewer.
 * @param {number} probePerRequest @param {WindowSize} size
 */
export function windowRequests(probePerRequest, size) {
  const wanted = Math.round(size.instructions / probePerRequest / 100) * 100;
  return Math.min(size.max, Math.max(size.min, wanted));
}

/**
 * Starts `server` (with `routes` routes) under valgrind's callgrind, instrumentation off.
 * @param {Server} server @param {number} routes
 * @param {{node: string, port: number, cpu: number | null, outFile: string, nodeFlags?: string[], profile?: boolean}} o
 *   `nodeFlags`: more Node.js flags, after NODE_FLAGS; `profile`: see valgrindArgs
 */
export function launchUnderCallgrind(server, routes, { node, port, cpu, outFile, nodeFlags = [], profile = false }) {
  const spec = server.start(port, routes, node, [...NODE_FLAGS, ...nodeFlags]);
  const children = server.worker !== undefined;
  return startProcess(
    { command: 'valgrind', args: [...valgrindArgs({ outFile, children, profile }), spec.command, ...spec.args], env: spec.env },
    port,
    cpu,
  );
}

/**
 * The process whose instructions count: the server's own, or for `carafe serve` the worker
 * the arbiter forked (valgrind traces both, each into its own dumps).
 * @param {Server} server @param {import('./processes.mjs').Proc} proc
 */
export async function countedPid(server, proc) {
  const pid = /** @type {number} */ (proc.child.pid);
  return server.worker === undefined ? pid : findChild(pid, server.worker);
}

/**
 * The pid of the child of `pid` whose command line contains `needle` (under
 * `--trace-children=yes`, valgrind's command line for the child ends with the child's).
 * @param {number} pid @param {string} needle
 */
async function findChild(pid, needle) {
  for (let waited = 0; waited < 30_000; waited += 200) {
    for (const child of childrenOf(pid)) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8');
      } catch {}
      if (cmdline.includes(needle)) return child;
    }
    await sleep(200);
  }
  throw new Error(`no child process of ${pid} runs ${needle}`);
}

/**
 * The path of the newest dump of a process (`<label>.<pid>.<n>`, n counting the dumps).
 * @param {string} dir @param {string} prefix
 */
export function latestDump(dir, prefix) {
  const dumps = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
  if (dumps.length === 0) throw new Error(`callgrind wrote no dump ${prefix}*`);
  return join(dir, /** @type {string} */ (dumps.at(-1)));
}
