// @ts-check
// Server processes of the bench: starting one in its own process group (pinned to a core
// when asked), waiting until it answers, checking that it answers right, and stopping it
// with every process it forked. Shared by both meters (run.mjs).
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_DIR } from './lineup.mjs';
import { pinned } from './load.mjs';

/**
 * @typedef {object} LaunchSpec
 * @property {string} command
 * @property {string[]} args
 * @property {Record<string, string>} env
 *
 * @typedef {object} Proc a started server process
 * @property {number} port
 * @property {import('node:child_process').ChildProcess} child
 * @property {Promise<{code: number | null, signal: string | null}>} exited
 * @property {() => string} stderr the last few KB it wrote to stderr
 * @property {string | null} failure why it was left out, once it was
 */

/** @param {string} message */
export function log(message) {
  process.stderr.write(`${message}\n`);
}

/** Server processes still running, so that an interrupted run stops them too. */
const running = new Set();
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.once(signal, () => {
    for (const child of running) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
    process.exit(130);
  });
}

/**
 * Starts `spec` in its own process group (so that stopping it also stops the workers it
 * forks), pinned to core `cpu` unless that is null.
 * @param {LaunchSpec} spec
 * @param {number} port the port it will listen on
 * @param {number | null} cpu
 * @returns {Proc}
 */
export function startProcess(spec, port, cpu) {
  const [cmd, fullArgs] = pinned(cpu, spec.command, spec.args);
  const child = spawn(cmd, fullArgs, {
    cwd: BENCH_DIR,
    env: { ...process.env, NODE_ENV: 'production', ...spec.env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { port, child, exited, stderr: () => stderr.trim(), failure: null };
}

/** Stops a process started by {@link startProcess}, and everything in its process group. @param {Proc} proc */
export async function stopProcess(proc) {
  /** @param {NodeJS.Signals} signal */
  const signalGroup = (signal) => {
    try {
      process.kill(-(/** @type {number} */ (proc.child.pid)), signal);
    } catch {}
  };
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    signalGroup('SIGTERM');
    const done = await Promise.race([proc.exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) {
      signalGroup('SIGKILL');
      await proc.exited;
    }
    await sleep(100); // let forked workers of the group go too
  }
  signalGroup('SIGKILL');
  running.delete(proc.child);
}

/**
 * @typedef {object} Scenario
 * @property {string} id
 * @property {string} label
 * @property {number} routes
 * @property {'GET'|'POST'} method
 * @property {string} path
 * @property {string} [body]
 * @property {string} [batch]
 * @property {{text?: string, json?: unknown}} expect
 */

/**
 * @param {number} port @param {Scenario} scenario
 * @returns {Promise<{status: number, type: string, text: string}>}
 */
async function request(port, scenario) {
  const response = await fetch(`http://127.0.0.1:${port}${scenario.path}`, {
    method: scenario.method,
    headers: scenario.body ? { 'content-type': 'application/json' } : {},
    body: scenario.body,
    signal: AbortSignal.timeout(2000),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

/**
 * Polls until `proc` answers `scenario`'s request, and returns that answer.
 * @param {Proc} proc @param {Scenario} scenario @param {number} [timeoutMs]
 */
export async function waitReady(proc, scenario, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const exited = proc.exited.then(({ code, signal }) => ({ exited: true, code, signal, ready: false, r: undefined }));
  while (Date.now() < deadline) {
    const attempt = await Promise.race([
      request(proc.port, scenario).then(
        (r) => ({ ready: true, r, exited: false }),
        () => ({ ready: false, exited: false }),
      ),
      exited,
    ]);
    if (attempt.exited) {
      const { code, signal } = /** @type {{code: number | null, signal: string | null}} */ (attempt);
      throw new Error(`exited (${signal ?? `code ${code}`}) before listening: ${proc.stderr().split('\n').slice(-3).join(' | ')}`);
    }
    if (attempt.ready && 'r' in attempt && attempt.r) return attempt.r;
    await sleep(100);
  }
  throw new Error(`not answering on port ${proc.port} after ${timeoutMs / 1000} s: ${proc.stderr().split('\n').slice(-3).join(' | ')}`);
}

/**
 * A wrong answer would make a fast server meaningless: checks status, type and body, and
 * returns what is wrong, or null.
 * @param {Scenario} scenario @param {{status: number, type: string, text: string}} r
 */
export function checkResponse(scenario, r) {
  if (r.status !== 200) return `answered ${r.status} to ${scenario.method} ${scenario.path}: ${r.text.slice(0, 200)}`;
  if (scenario.expect.text !== undefined) {
    if (!r.type.toLowerCase().startsWith('text/plain')) return `content-type "${r.type}", expected text/plain`;
    if (r.text !== scenario.expect.text)
      return `body ${JSON.stringify(r.text.slice(0, 100))}, expected ${JSON.stringify(scenario.expect.text)}`;
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

/** @param {number} port */
function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * `count` free ports from `first` on, so that no other program on the machine answers for a server.
 * @param {number} first @param {number} count
 */
export async function freePorts(first, count) {
  const ports = [];
  for (let port = first; ports.length < count && port < first + 1000; port++) {
    if (await portIsFree(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`fewer than ${count} free ports from ${first} on`);
  return ports;
}

export function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
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

/** @returns {Promise<boolean>} */
export function hasTaskset() {
  return new Promise((resolve) => execFile('taskset', ['-c', '0', 'true'], (error) => resolve(!error)));
}

/** Rounds to `digits` decimals, keeping null (not measured) as null. @param {number | null | undefined} value @param {number} digits */
export function round(value, digits) {
  return value === null || value === undefined ? null : Math.round(value * 10 ** digits) / 10 ** digits;
}
