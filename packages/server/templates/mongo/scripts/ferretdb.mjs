#!/usr/bin/env node
// The embedded database: FerretDB 1.24 (MongoDB wire protocol, SQLite backend) on a free loopback
// port, built once with Go into the project's .tools/bin (the project being the directory above
// this scripts/ folder; `root` names another). One entry point for `npm start`, `npm run dev` and
// the tests:
//
//   node scripts/ferretdb.mjs install            build .tools/bin/ferretdb if missing
//   node scripts/ferretdb.mjs start [--data DIR] [--port N]
//                                                run in the foreground, print the URI
//
// or, from code: `const { uri, stop } = await startFerretDB({ dataDir, port })`.
//
// This file, install-ferretdb.sh and go-build-module.sh are what `carafe new --mongo` puts in a
// project's scripts/; the Carafe repository runs the same files (its scripts/ferretdb.mjs points
// `root` at the repository).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPTS = dirname(fileURLToPath(import.meta.url));
const INSTALL_SCRIPT = join(SCRIPTS, 'install-ferretdb.sh');
/** The project these scripts belong to. */
const PROJECT_ROOT = resolve(SCRIPTS, '..');

/** Where FerretDB is built for the project at `root`. */
export function ferretdbBinary(root = PROJECT_ROOT) {
  return join(resolve(root), '.tools', 'bin', 'ferretdb');
}

/** The binary of this project (the directory above scripts/). */
export const FERRETDB_BIN = ferretdbBinary();
const LOG_TAIL_LINES = 40;

/** Runs install-ferretdb.sh for `binary` (it reuses a build of the right version, and replaces any other). */
function install(binary) {
  const result = spawnSync('bash', [INSTALL_SCRIPT, binary], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !existsSync(binary)) {
    throw new Error(`ferretdb: ${INSTALL_SCRIPT} failed (exit ${result.status}); FerretDB is not available`);
  }
  return binary;
}

/**
 * Builds FerretDB into `<root>/.tools/bin` when it is not there yet, and returns its path.
 *
 * @param {{ root?: string }} [options] `root`: the project whose .tools/bin holds the build (default: this one)
 */
export function ensureFerretDB({ root } = {}) {
  const binary = ferretdbBinary(root);
  return existsSync(binary) ? binary : install(binary);
}

/** Asks the kernel for a free loopback port. Another process may take it before FerretDB does; start retries. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Tries one MongoDB `ping`; true when the server answered. */
async function ping(uri) {
  // Imported here so `install` works before `npm ci` (provisioning runs first on a fresh machine).
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * Starts FerretDB and resolves once it answers a `ping`.
 *
 * @param {{ root?: string, dataDir?: string, port?: number, timeoutMs?: number, detached?: boolean }} [options]
 *   `root`: the project whose .tools/bin holds FerretDB, built there first if missing (default: this one);
 *   `dataDir`: where SQLite files live (default: a new temporary directory, removed by `stop()`);
 *   `port`: the loopback port (default: a free one);
 *   `detached`: run FerretDB in its own process group, so a terminal's Ctrl-C reaches only the
 *   caller, which then stops FerretDB after its own clients have drained.
 *   FerretDB logs to `ferretdb.log` on the data directory (`logFile`; `logTail()` reads what this
 *   run wrote), never to a pipe of the caller's, so it outlives a caller that dies.
 * @returns {Promise<{ uri: string, port: number, dataDir: string, pid: number, logFile: string,
 *   logTail: () => string, stop: () => Promise<void>, exited: Promise<{ code: number | null, signal: string | null }> }>}
 */
export async function startFerretDB(options = {}) {
  const binary = ensureFerretDB(options);
  const attempts = options.port ? 1 : 3;
  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (error) {
      lastError = error;
      // Only a lost race for the port is worth another try.
      if (!/address already in use/i.test(String(error))) break;
    }
  }
  throw lastError;
}

async function startOnce(binary, { dataDir, port, timeoutMs = 30_000, detached = false }) {
  const temporary = !dataDir;
  const dir = dataDir ? resolve(dataDir) : mkdtempSync(join(tmpdir(), 'carafe-ferretdb-'));
  mkdirSync(dir, { recursive: true });
  const listenPort = port ?? (await freePort());
  // FerretDB writes its log to a file on the data directory, not to a pipe of ours: Go exits on
  // SIGPIPE when fd 1 or 2 is a closed pipe, so a FerretDB left behind by a killed parent would die
  // at its next log line instead of staying for the next start to find and stop (or to keep serving).
  const logFile = join(dir, 'ferretdb.log');
  const logFd = openSync(logFile, 'a');
  const logFrom = fstatSync(logFd).size;
  let child;
  try {
    child = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/`,
        `--state-dir=${dir}`,
        `--listen-addr=127.0.0.1:${listenPort}`,
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=warn',
      ],
      { stdio: ['ignore', logFd, logFd], detached },
    );
  } finally {
    closeSync(logFd);
  }
  /** What this FerretDB wrote to its log, the last lines of it. */
  const logTail = () => {
    try {
      const lines = readFileSync(logFile).subarray(logFrom).toString('utf8').split('\n').filter(Boolean);
      return lines.slice(-LOG_TAIL_LINES).join('\n');
    } catch {
      return '';
    }
  };
  let exited = null;
  const exitedPromise = new Promise((r) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      r(exited);
    }),
  );
  const removeDir = () => {
    if (temporary) rmSync(dir, { recursive: true, force: true });
  };

  const uri = `mongodb://127.0.0.1:${listenPort}/`;
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(uri))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill('SIGKILL');
      await exitedPromise;
      const why =
        exited.code !== null && !exited.signal ? `exited with code ${exited.code}` : `did not answer a ping within ${timeoutMs} ms`;
      const where = temporary ? '' : ` (${logFile})`;
      const message = `ferretdb: FerretDB on 127.0.0.1:${listenPort} ${why}. Last log lines${where}:\n${logTail() || '(none)'}`;
      removeDir();
      throw new Error(message);
    }
    await sleep(100);
  }

  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exitedPromise;
        clearTimeout(killer);
      }
      removeDir();
    })());
  return { uri, port: listenPort, dataDir: dir, pid: child.pid, logFile, logTail, stop, exited: exitedPromise };
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--data') options.dataDir = argv[++i];
    else if (arg === '--port') options.port = Number(argv[++i]);
    else throw new Error(`ferretdb: unknown option ${arg}`);
  }
  return options;
}

/**
 * The command line: `install` or `start [--data DIR] [--port N]`, for the project at `root`.
 *
 * @param {string[]} argv
 * @param {{ root?: string }} [options]
 */
export async function main([command, ...rest], { root } = {}) {
  if (command === 'install') {
    console.log(install(ferretdbBinary(root)));
    return;
  }
  if (command === 'start') {
    const server = await startFerretDB({ ...parseArgs(rest), root });
    console.log(`FerretDB listening: MONGODB_URI=${server.uri} (data in ${server.dataDir})`);
    let stopping = false;
    const shutdown = () => {
      stopping = true;
      void server.stop().then(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    const { code } = await server.exited;
    if (stopping) return;
    console.error(`ferretdb: FerretDB exited unexpectedly (code ${code})`);
    process.exit(1);
  }
  console.error('usage: node scripts/ferretdb.mjs install | start [--data DIR] [--port N]');
  process.exit(2);
}

/** Runs {@link main} as a command: errors are printed without a stack, and exit 1. */
export function runAsCommand(argv, options) {
  main(argv, options).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runAsCommand(process.argv.slice(2));
