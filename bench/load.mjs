// Load generation: one run of wrk (or autocannon where wrk is missing) against one URL,
// pinned to the load generator's core, returning requests/s and latency percentiles.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** True when `command` runs (exit status ignored: wrk --version exits 1). */
function runs(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error;
}

/** Which load generator to use: `wrk` if installed, otherwise `autocannon`. */
export function pickLoadGenerator(preferred) {
  if (preferred === 'autocannon') return 'autocannon';
  if (runs('wrk', ['--version'])) return 'wrk';
  if (preferred === 'wrk') throw new Error('--load wrk was asked for, but wrk is not installed');
  return 'autocannon';
}

/** Version string of the load generator, for the report. */
export function loadGeneratorVersion(tool) {
  if (tool === 'wrk') {
    const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
    const match = /wrk\s+(\S+)/.exec(`${out.stdout}${out.stderr}`);
    return match ? match[1] : 'unknown';
  }
  return require('autocannon/package.json').version;
}

/** Prefix that pins a command to `cpu` with taskset, or nothing when pinning is off. */
export function pinned(cpu, command, args) {
  return cpu == null ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
}

const UNIT_MS = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Milliseconds from one of wrk's durations, e.g. `812.00us`, `1.20ms`, `2.01s`. */
function wrkDurationMs(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`unrecognised wrk duration "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]];
}

/**
 * Parses the text wrk prints with `--latency`.
 * @returns {{rps: number, p50_ms: number, p99_ms: number, requests: number, errors: number, non2xx: number}}
 */
export function parseWrkOutput(text) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text);
  const p99 = /^\s+99%\s+(\S+)/m.exec(text);
  const requests = /(\d+) requests in/.exec(text);
  if (!rps || !p50 || !p99 || !requests) throw new Error(`could not parse wrk output:\n${text}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  // Read errors are how wrk counts a server closing the connection after a response
  // (Gunicorn's sync worker does that on every request); they are not failures.
  const errors = socket ? Number(socket[1]) + Number(socket[3]) + Number(socket[4]) : 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    rps: Number(rps[1]),
    p50_ms: wrkDurationMs(p50[1]),
    p99_ms: wrkDurationMs(p99[1]),
    requests: Number(requests[1]),
    errors,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

function luaLongString(text) {
  let level = '';
  while (text.includes(`]${level}]`)) level += '=';
  return `[${level}[${text}]${level}]`;
}

function execFileText(command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Runs one load test.
 * @param {object} o
 * @param {'wrk'|'autocannon'} o.tool
 * @param {string} o.url
 * @param {'GET'|'POST'} o.method
 * @param {string} [o.body] JSON body for POST
 * @param {number} o.connections
 * @param {number} o.duration seconds
 * @param {number|null} o.cpu core to pin the load generator to
 */
export async function runLoad({ tool, url, method, body, connections, duration, cpu }) {
  const timeoutMs = (duration + 30) * 1000;
  if (tool === 'wrk') {
    const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '--timeout', '10s'];
    let dir;
    if (method !== 'GET') {
      dir = mkdtempSync(join(tmpdir(), 'carafe-bench-'));
      const script = join(dir, 'request.lua');
      writeFileSync(
        script,
        `wrk.method = "${method}"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${luaLongString(body ?? '')}\n`,
      );
      args.push('-s', script);
    }
    args.push(url);
    try {
      const [command, fullArgs] = pinned(cpu, 'wrk', args);
      return parseWrkOutput(await execFileText(command, fullArgs, timeoutMs));
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  const cli = require.resolve('autocannon/autocannon.js');
  const args = [cli, '-j', '-c', String(connections), '-d', String(duration), '-m', method];
  if (method !== 'GET') args.push('-H', 'content-type=application/json', '-b', body ?? '');
  args.push(url);
  const [command, fullArgs] = pinned(cpu, process.execPath, args);
  const result = JSON.parse(await execFileText(command, fullArgs, timeoutMs));
  return {
    rps: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
