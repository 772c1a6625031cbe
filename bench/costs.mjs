// @ts-check
// The costs meter (`npm run bench -- --meter costs`): what a user of a server pays beyond
// throughput — how long a process takes from being started to its first answer, how much
// memory it holds once warmed up, and its latency at a steady rate well below saturation,
// measured open-loop. See bench/README.md, "The costs meter", for the method.
//
// Per server: --starts cold starts (spawn → first 200 on GET /hello, then stopped), then one
// more process that is checked, warmed up with --warmup-requests requests of GET /users/:id,
// has its resident memory read from /proc, and is sent --rate requests/s for --duration s.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeepAliveClient, ResponseParser, requestBytes } from './client.mjs';
import { writeCostsReport } from './costs-report.mjs';
import { childrenOf, processTreeCpuSeconds } from './cpu.mjs';
import { LINEUP, runsScenario, SCENARIOS, serverVersions } from './lineup.mjs';
import { runOpenLoop } from './open-loop.mjs';
import { checkResponse, freePorts, hasTaskset, log, machineInfo, startProcess, stopProcess, waitReady } from './processes.mjs';
import { updateReadme } from './readme.mjs';
import { nodeVersion } from './wallclock.mjs';

/**
 * @typedef {import('./lineup.mjs').Server} Server
 * @typedef {import('./processes.mjs').Scenario} Scenario
 * @typedef {import('./open-loop.mjs').OpenLoopResult} OpenLoopResult
 *
 * @typedef {object} CostsOptions options.mjs's options of the costs meter
 * @property {boolean} quick
 * @property {Server[]} servers
 * @property {number} starts cold starts per server
 * @property {number} warmupRequests before reading the resident memory
 * @property {number} rate open-loop requests per second
 * @property {number} duration open-loop seconds
 * @property {number} connections keep-alive connections of the warm-up and the open-loop run
 * @property {string} node the Node.js binary the servers run on
 * @property {boolean} pin
 * @property {number} port
 *
 * @typedef {object} CostMeasurement one server
 * @property {string} server
 * @property {number[]} starts_ms each cold start: spawn to the end of the first 200 on GET /hello
 * @property {number | null} rss_kib VmRSS of the process serving the requests, after the warm-up
 * @property {number | null} parent_rss_kib VmRSS of the process that started it (carafe serve's arbiter, Gunicorn's master), or null
 * @property {number | null} rss_after_kib VmRSS of the serving process after the open-loop run too
 * @property {{requests: number, non2xx: number, errors: number, seconds: number} | null} warmup
 * @property {OpenLoopResult | null} open_loop
 * @property {{other: number, steal: number} | null} disturbance during the open-loop run, shares of the machine's
 *   CPU time: used by processes other than the server and the bench, and stolen by the host
 * @property {string} [note] why it was not (fully) measured
 */

// Cold starts poll every few milliseconds: the figure is meant to be the server's, not the poll's.
const RETRY_MS = 5;
const HELLO = /** @type {Scenario} */ (SCENARIOS.find((s) => s.id === 'hello'));
const USERS = /** @type {Scenario} */ (SCENARIOS.find((s) => s.id === 'users'));

/**
 * The servers the costs meter runs (as options.mjs selects them): all but the node:http control,
 * which exists to show a ratio's noise, and those that do not serve both GET /hello and GET /users/:id.
 */
export const COSTS_LINEUP = LINEUP.filter((s) => s.id !== 'node-control' && runsScenario(s, 'hello') && runsScenario(s, 'users'));

/**
 * Runs the costs meter, writes its results (bench/results/costs.{json,md} for a complete run,
 * partial.costs.* otherwise; every start in bench/results/raw/) and prints the Markdown table.
 * @param {CostsOptions} options
 */
export async function runCostsMeter(options) {
  const started = Date.now();
  const cores = os.cpus().length;
  const pin = options.pin && cores >= 2 && (await hasTaskset());
  const serverCpu = pin ? cores - 1 : null;
  const clientCpu = pin ? 0 : null;
  // The clients (the cold-start poll, the warm-up, the open-loop schedule) run in this
  // process: keep it, and every thread it has or starts, off the server's core.
  if (pin) spawnSync('taskset', ['-a', '-p', '-c', String(clientCpu), String(process.pid)], { stdio: 'ignore' });
  // A different port for each process, reused only after every other: a process being stopped
  // can never answer for the next one.
  const ports = await freePorts(options.port, options.starts + 1);
  let portIndex = 0;
  const nextPort = () => ports[portIndex++ % ports.length];

  log(
    `Carafe costs meter: Node ${nodeVersion(options.node)} (${options.node}); ${options.starts} cold starts, ` +
      `${options.warmupRequests} warm-up requests, then ${options.rate} requests/s for ${options.duration} s on ` +
      `${options.connections} connections${pin ? `; servers on core ${serverCpu}, clients on core ${clientCpu}` : ', not pinned'}`,
  );
  /** @type {CostMeasurement[]} */
  const measurements = [];
  for (const server of options.servers) {
    const reason = await server.check();
    if (reason) {
      log(`  ${server.id}: unavailable — ${reason}`);
      measurements.push({ ...emptyMeasurement(server.id), note: `unavailable: ${reason}` });
      continue;
    }
    const m = await measureServer(server, options, { nextPort, cpu: serverCpu });
    log(`  ${server.id.padEnd(13)} ${progressLine(m)}`);
    measurements.push(m);
  }

  const versions = serverVersions(options.servers, { node: nodeVersion(options.node) });
  const raw = {
    meter: 'costs',
    date: new Date().toISOString(),
    machine: machineInfo(),
    versions,
    method: {
      quick: options.quick,
      node: options.node,
      starts: options.starts,
      poll_ms: RETRY_MS,
      warmup_requests: options.warmupRequests,
      rate: options.rate,
      duration_s: options.duration,
      connections: options.connections,
      pinning: pin ? `server processes on core ${serverCpu}, clients on core ${clientCpu} (taskset)` : 'none',
      text: methodText(options, pin),
      elapsed_s: 0,
    },
    servers: Object.fromEntries(COSTS_LINEUP.map((s) => [s.id, s.label])),
    measurements,
  };
  raw.method.elapsed_s = Math.round((Date.now() - started) / 1000);
  // Only a complete run replaces what the README quotes; a quick or partial one is kept aside.
  const complete = !options.quick && COSTS_LINEUP.every((s) => options.servers.includes(s));
  const name = complete ? 'costs' : 'partial.costs';
  const { summary, md } = writeCostsReport(raw, name);
  process.stdout.write(md);
  log(`\nWrote bench/results/${name}.{json,md} (summary) and bench/results/raw/${name}.json (every start) in ${raw.method.elapsed_s} s.`);
  if (complete) {
    updateReadme({ costs: summary });
    log("Updated the costs part of the README's Performance section.");
  }
}

/** @param {CostsOptions} options @param {boolean} pin */
function methodText(options, pin) {
  return [
    `Cold start: wall time from spawning the server process to the end of its first 200 answer to GET /hello, polled with`,
    `a new connection every ${RETRY_MS} ms; median (min–max) of ${options.starts} starts.`,
    `Memory: VmRSS (/proc/<pid>/status) of the process serving the requests — carafe serve's worker and Gunicorn's worker,`,
    `with the arbiter's or master's beside it — after ${options.warmupRequests} requests of GET /users/:id on ${options.connections} keep-alive connections.`,
    `Latency: the same process is then sent GET /users/:id open-loop, ${options.rate} requests/s for ${options.duration} s, round-robin over`,
    `${options.connections} keep-alive connections (a request due on a busy connection waits for it); each latency runs from the request's`,
    `scheduled send time to the end of its response, so a stall shows in every request it delayed. Failed: non-2xx or connection lost;`,
    `unanswered: no response within 5 s of the last scheduled send.`,
    pin ? 'The server runs on one core, the clients on the other (taskset).' : 'Not pinned to cores.',
  ].join(' ');
}

/** @param {string} server @returns {CostMeasurement} */
function emptyMeasurement(server) {
  return {
    server,
    starts_ms: [],
    rss_kib: null,
    parent_rss_kib: null,
    rss_after_kib: null,
    warmup: null,
    open_loop: null,
    disturbance: null,
  };
}

/** @param {CostMeasurement} m */
function progressLine(m) {
  const starts = m.starts_ms.map((v) => v.toFixed(0)).join(' ');
  const rss = m.rss_kib === null ? '—' : (m.rss_kib / 1024).toFixed(1);
  const o = m.open_loop;
  const latency = o ? `p50 ${o.p50_ms} p99 ${o.p99_ms} max ${o.max_ms} ms, ${o.failed} failed, ${o.unanswered} unanswered` : '';
  const d = m.disturbance
    ? `; other CPU ${(100 * m.disturbance.other).toFixed(0)} %, steal ${(100 * m.disturbance.steal).toFixed(0)} %`
    : '';
  return `starts ${starts || '—'} ms; RSS ${rss} MiB; ${latency}${d}${m.note ? `  (${m.note})` : ''}`;
}

/**
 * Every measurement of one server. A failure leaves what was measured before it and a note.
 * @param {Server} server @param {CostsOptions} options
 * @param {{nextPort: () => number, cpu: number | null}} lane
 * @returns {Promise<CostMeasurement>}
 */
async function measureServer(server, options, { nextPort, cpu }) {
  const m = emptyMeasurement(server.id);
  try {
    for (let i = 0; i < options.starts; i++) {
      m.starts_ms.push(Math.round((await coldStart(server, options, nextPort(), cpu, i === 0)) * 10) / 10);
    }
  } catch (error) {
    m.note = `cold start: ${/** @type {Error} */ (error).message}`;
    return m;
  }
  const port = nextPort();
  const proc = startProcess(server.start(port, USERS.routes, options.node), port, cpu);
  const client = new KeepAliveClient({ port, connections: options.connections });
  try {
    const problem = checkResponse(USERS, await waitReady(proc, USERS));
    if (problem) throw new Error(`wrong response: ${problem}`);
    const pid = /** @type {number} */ (proc.child.pid);
    const serving = await servingPid(server, pid);
    const warmup = await client.send(options.warmupRequests, [client.request(USERS)]);
    m.warmup = { requests: warmup.requests, non2xx: warmup.non2xx, errors: warmup.errors, seconds: Math.round(warmup.seconds * 100) / 100 };
    if (warmup.errors > 0 || warmup.non2xx > 0)
      throw new Error(`warm-up: ${warmup.non2xx} non-2xx responses, ${warmup.errors} failed connections`);
    m.rss_kib = residentKib(serving);
    if (serving !== pid) m.parent_rss_kib = residentKib(pid);
    client.close();
    const before = { stat: machineCpu(), own: process.cpuUsage(), served: processTreeCpuSeconds(pid) };
    m.open_loop = await runOpenLoop({
      port,
      request: USERS,
      rate: options.rate,
      duration: options.duration,
      connections: options.connections,
    });
    const own = process.cpuUsage(before.own);
    const served = processTreeCpuSeconds(pid);
    m.disturbance = disturbance(before.stat, machineCpu(), (own.user + own.system) / 1e6 + (served ?? 0) - (before.served ?? 0));
    m.rss_after_kib = residentKib(serving);
  } catch (error) {
    m.note = /** @type {Error} */ (error).message;
  } finally {
    client.close();
    await stopProcess(proc);
  }
  return m;
}

/**
 * One cold start: milliseconds from spawning the server to the end of its first 200 answer to
 * GET /hello. The first start of a server also checks the answer (status, type, body).
 * @param {Server} server @param {CostsOptions} options @param {number} port @param {number | null} cpu @param {boolean} check
 */
async function coldStart(server, options, port, cpu, check) {
  const spec = server.start(port, HELLO.routes, options.node);
  const t0 = performance.now();
  const proc = startProcess(spec, port, cpu);
  try {
    const exited = proc.exited.then(({ code, signal }) => {
      throw new Error(`exited (${signal ?? `code ${code}`}) before answering: ${proc.stderr().split('\n').slice(-3).join(' | ')}`);
    });
    exited.catch(() => {}); // raced below; not an unhandled rejection once the start is over
    await Promise.race([
      firstOk(port, requestBytes({ host: '127.0.0.1', port, method: HELLO.method, path: HELLO.path, body: HELLO.body }), 30_000),
      exited,
    ]);
    const ms = performance.now() - t0;
    if (check) {
      const problem = checkResponse(HELLO, await waitReady(proc, HELLO));
      if (problem) throw new Error(`wrong response: ${problem}`);
    }
    return ms;
  } finally {
    await stopProcess(proc);
  }
}

/**
 * Resolves once a request on a new connection to `port` gets a 200, retrying every RETRY_MS ms
 * while the connection is refused or closed unanswered (or the answer is not yet a 200).
 * @param {number} port @param {Buffer} bytes @param {number} timeoutMs
 */
export async function firstOk(port, bytes, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await attempt(port, bytes, deadline - performance.now())) === 200) return;
    await sleep(RETRY_MS);
  }
  throw new Error(`no 200 on port ${port} within ${timeoutMs / 1000} s`);
}

/**
 * One request on a new connection: its response's status, or null when the connection was
 * refused, closed first, or `timeoutMs` passed.
 * @param {number} port @param {Buffer} bytes @param {number} timeoutMs
 * @returns {Promise<number | null>}
 */
function attempt(port, bytes, timeoutMs) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const parser = new ResponseParser();
    const done = (/** @type {number | null} */ status) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(null), Math.max(1, timeoutMs));
    socket.once('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => {
      try {
        const statuses = parser.push(chunk);
        if (statuses.length > 0) done(statuses[0]);
      } catch {
        done(null);
      }
    });
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
  });
}

/**
 * The process that serves the requests: for a server that forks its worker (`server.worker`
 * names it: carafe serve's, Gunicorn's), that child; otherwise the process itself.
 * @param {Server} server @param {number} pid
 */
async function servingPid(server, pid) {
  if (server.worker === undefined) return pid;
  for (let waited = 0; waited < 10_000; waited += 100) {
    for (const child of childrenOf(pid)) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8');
      } catch {}
      if (cmdline.includes(server.worker)) return child;
    }
    await sleep(100);
  }
  throw new Error(`no child process of ${pid} runs ${server.worker}`);
}

/**
 * Resident memory of a process in KiB (VmRSS: its pages in RAM, shared ones included), or
 * null when /proc cannot tell.
 * @param {number} pid
 */
export function residentKib(pid) {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/** The VmRSS line of a /proc/<pid>/status text, in KiB, or null. @param {string} status */
export function parseVmRss(status) {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) : null;
}

let ticksPerSecond = 0;

/** The machine's CPU time so far, in seconds: all of it, idle (iowait included) and stolen, from /proc/stat. */
function machineCpu() {
  try {
    ticksPerSecond ||= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return parseCpuLine(readFileSync('/proc/stat', 'utf8'), ticksPerSecond);
  } catch {
    return null;
  }
}

/**
 * The `cpu` line of /proc/stat (all cores), in seconds.
 * @param {string} text @param {number} ticks clock ticks per second
 */
export function parseCpuLine(text, ticks) {
  const match = /^cpu\s+(.*)$/m.exec(text);
  if (!match) return null;
  // user nice system idle iowait irq softirq steal
  const f = match[1].trim().split(/\s+/).map(Number);
  const total = f.slice(0, 8).reduce((sum, n) => sum + n, 0);
  return { total: total / ticks, idle: (f[3] + f[4]) / ticks, steal: (f[7] ?? 0) / ticks };
}

/**
 * How much else the machine did during a run: the share of its CPU time used by processes
 * other than the server and the bench (`ours`: their CPU seconds), and the share the host stole.
 * Rounded to 0.001; null when /proc cannot tell.
 * @param {{total: number, idle: number, steal: number} | null} before @param {{total: number, idle: number, steal: number} | null} after
 * @param {number} ours
 */
export function disturbance(before, after, ours) {
  if (before === null || after === null || after.total <= before.total) return null;
  const total = after.total - before.total;
  const steal = after.steal - before.steal;
  const busy = total - (after.idle - before.idle) - steal;
  const share = (/** @type {number} */ x) => Math.round(Math.min(1, Math.max(0, x / total)) * 1000) / 1000;
  return { other: share(busy - ours), steal: share(steal) };
}
