// @ts-check
// The servers and scenarios under test: how to start each server, whether it can run here,
// its version, and what each scenario requests and expects.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  esbuildForWorkerd,
  missingRuntime,
  runtimeBinary,
  runtimesBin,
  runtimeVersion,
  WORKERD_BUNDLE_FLAGS,
  workerdConfig,
} from '../scripts/runtimes.mjs';
import { ECHO_BODY, ECHO_JSON, HELLO, lastDynamicPath, restResponse, userResponse } from './routes.mjs';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = join(BENCH_DIR, '..');
const VENV = join(BENCH_DIR, '.venv');
const GUNICORN = join(VENV, 'bin', 'gunicorn');
const CARAFE_CLI = join(ROOT_DIR, 'packages', 'server', 'dist', 'cli.js');

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function localVersion(pkg) {
  try {
    return JSON.parse(readFileSync(join(ROOT_DIR, 'packages', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** @param {string} file a server of bench/servers */
function nodeServer(file) {
  /** @type {StartFn} */
  return (port, routes, node = process.execPath, nodeFlags = []) => ({
    command: node,
    args: [...nodeFlags, join(BENCH_DIR, 'servers', file)],
    env: { PORT: String(port), ROUTES: String(routes) },
  });
}

/** Whether Carafe is built: core exports `Carafe` and the gateway exports a server factory. */
async function carafeBuilt() {
  const core = join(ROOT_DIR, 'packages', 'core', 'dist', 'index.js');
  const gateway = join(ROOT_DIR, 'packages', 'gateway', 'dist', 'index.js');
  if (!existsSync(core) || !existsSync(gateway)) return 'packages/core or packages/gateway is not built (run `npx tsc -b`)';
  try {
    const [c, g] = await Promise.all([import(core), import(gateway)]);
    if (typeof c.Carafe !== 'function') return '@carafe/core does not export Carafe yet';
    if (typeof g.createServer !== 'function') return '@carafe/gateway does not export createServer yet';
  } catch (error) {
    return `@carafe/core failed to load: ${error.message}`;
  }
  return null;
}

/**
 * @callback StartFn
 * @param {number} port
 * @param {number} routes 10 or 1000
 * @param {string} [node] the Node.js binary (default: the one running the bench)
 * @param {string[]} [nodeFlags] flags for it, before the script
 * @returns {import('./processes.mjs').LaunchSpec}
 *
 * @typedef {object} Server
 * @property {string} id
 * @property {string} package names it among the versions
 * @property {string} label
 * @property {() => string | undefined} version
 * @property {StartFn} start the command line
 * @property {() => Promise<string | null>} check null when the server can run here, or the reason it cannot
 * @property {boolean} instructions whether the instruction meter runs it (Node.js servers)
 * @property {string[]} [scenarios] the scenarios it takes part in, by id (default: every one)
 * @property {string} [worker] when requests are served by a child process: a string its command line contains
 */

/**
 * Whether `server` takes part in the scenario `scenarioId`: every server does in every scenario
 * unless it names its own (the Carafe-on-other-runtimes rows take part in GET /hello only).
 * @param {{scenarios?: string[]}} server @param {string} scenarioId
 */
export function runsScenario(server, scenarioId) {
  return server.scenarios === undefined || server.scenarios.includes(scenarioId);
}

/**
 * Carafe on another runtime: why it cannot run here (the runtime binary missing, or Carafe
 * not built), or null.
 * @param {'bun' | 'deno' | 'workerd'} runtime
 */
async function runtimeCheck(runtime) {
  return missingRuntime(runtime) ?? (await carafeBuilt());
}

/** The binary of a runtime, or where scripts/install-runtimes.sh would put it. @param {'bun' | 'deno' | 'workerd'} runtime */
function runtimeCommand(runtime) {
  return runtimeBinary(runtime) ?? join(runtimesBin(), runtime);
}

/**
 * Carafe on workerd: bundles bench/servers/carafe-workerd.mjs with the README's esbuild flags
 * (ROUTES a constant: a Worker has no process.env) and writes a workerd config serving it on
 * `port`, both into a scratch directory removed when the bench exits.
 * @type {StartFn}
 */
export function startWorkerd(port, routes) {
  const dir = join(os.tmpdir(), `carafe-bench-workerd-${process.pid}-${port}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const entry = join(BENCH_DIR, 'servers', 'carafe-workerd.mjs');
  const args = [
    entry,
    ...WORKERD_BUNDLE_FLAGS,
    `--define:process.env=${JSON.stringify({ ROUTES: String(routes) })}`,
    '--outfile=worker.bundle.js',
  ];
  esbuildForWorkerd(args, dir);
  writeFileSync(join(dir, 'config.capnp'), workerdConfig({ bundle: 'worker.bundle.js', address: `127.0.0.1:${port}` }));
  return { command: runtimeCommand('workerd'), args: ['serve', join(dir, 'config.capnp')], env: { ROUTES: String(routes) } };
}

/** The short name of each server in the README's tables. @type {Record<string, string>} */
export const README_LABELS = {
  node: 'node:http',
  'node-control': 'node:http again (control)',
  carafe: 'Carafe',
  'carafe-serve': 'carafe serve -w 1',
  fastify: 'Fastify',
  hono: 'Hono',
  koa: 'Koa',
  express: 'Express',
  flask: 'Flask/Gunicorn',
  'carafe-bun': 'Carafe on Bun',
  'carafe-deno': 'Carafe on Deno',
  'carafe-workerd': 'Carafe on workerd',
};

/**
 * Every server, in the order of the report.
 * @type {Server[]}
 */
export const LINEUP = [
  {
    id: 'node',
    package: 'node',
    label: 'node:http (raw)',
    version: () => process.versions.node,
    start: nodeServer('node.mjs'),
    check: async () => null,
    instructions: true,
  },
  {
    // The same server as node:http, in a second process, measured like every other server:
    // its ratio would be 1.00 on a machine without noise, so how far it lands from 1.00 shows
    // how large a difference the run can tell apart from the machine's noise.
    id: 'node-control',
    package: 'node',
    label: 'node:http again (control)',
    version: () => process.versions.node,
    start: nodeServer('node.mjs'),
    check: async () => null,
    // Instruction counts need no control: the repeats of node:http itself show their spread.
    instructions: false,
  },
  {
    id: 'carafe',
    package: '@carafe/core',
    label: 'Carafe (in-process)',
    version: () => localVersion('core'),
    start: nodeServer('carafe.mjs'),
    check: carafeBuilt,
    instructions: true,
  },
  {
    id: 'carafe-serve',
    package: '@carafe/server',
    label: 'Carafe (carafe serve --workers 1)',
    version: () => localVersion('server'),
    start: (port, routes, node = process.execPath, nodeFlags = []) => ({
      command: node,
      args: [
        ...nodeFlags,
        CARAFE_CLI,
        'serve',
        join(BENCH_DIR, 'servers', 'carafe-app.mjs'),
        '--workers',
        '1',
        '--bind',
        `127.0.0.1:${port}`,
      ],
      env: { ROUTES: String(routes) },
    }),
    check: async () => (existsSync(CARAFE_CLI) ? carafeBuilt() : 'packages/server/dist/cli.js is not built'),
    instructions: true,
    // The arbiter forks the worker (packages/server/dist/worker-process.js), which serves
    // every request on the listening socket the arbiter hands it.
    worker: 'worker-process',
  },
  {
    id: 'fastify',
    package: 'fastify',
    label: 'Fastify',
    version: () => packageVersion('fastify'),
    start: nodeServer('fastify.mjs'),
    check: async () => null,
    instructions: true,
  },
  {
    id: 'hono',
    package: 'hono',
    label: 'Hono (@hono/node-server)',
    version: () => `${packageVersion('hono')} (node-server ${packageVersion('@hono/node-server')})`,
    start: nodeServer('hono.mjs'),
    check: async () => null,
    instructions: true,
  },
  {
    id: 'koa',
    package: 'koa',
    label: 'Koa (@koa/router)',
    version: () => `${packageVersion('koa')} (router ${packageVersion('@koa/router')})`,
    start: nodeServer('koa.mjs'),
    check: async () => null,
    instructions: true,
  },
  {
    id: 'express',
    package: 'express',
    label: 'Express',
    version: () => packageVersion('express'),
    start: nodeServer('express.mjs'),
    check: async () => null,
    instructions: true,
  },
  {
    id: 'flask',
    package: 'flask',
    label: 'Flask on Gunicorn (1 gthread worker)',
    version: flaskVersions,
    // One worker process, as every server gets one core. The gthread worker (4 threads) over
    // the default sync one: it keeps connections alive, as every Node server here does, while
    // sync closes after each response; in A/B runs here gthread was the faster of the two.
    start: (port, routes) => ({
      command: GUNICORN,
      args: [
        '--workers',
        '1',
        '--worker-class',
        'gthread',
        '--threads',
        '4',
        '--bind',
        `127.0.0.1:${port}`,
        '--chdir',
        join(BENCH_DIR, 'flask'),
        '--log-level',
        'warning',
        'app:app',
      ],
      env: { ROUTES: String(routes) },
    }),
    // Not under the instruction meter: it counts the instructions of Node.js servers.
    instructions: false,
    // The master forks the worker that serves every request; the worker keeps the master's
    // command line, and is the master's only child.
    worker: 'gunicorn',
    check: async () => {
      const setup = spawnSync('bash', [join(BENCH_DIR, 'flask', 'setup.sh')], { encoding: 'utf8', timeout: 300_000 });
      if (setup.status === 0) return null;
      const why = `${setup.stderr ?? ''}${setup.error?.message ?? ''}`.trim().split('\n').slice(-2).join(' ');
      return `Flask/Gunicorn could not be installed into bench/.venv (${why || `exit ${setup.status}`})`;
    },
  },
  // Carafe on the other runtimes it runs on (the README's "Runs on"): the same app through the
  // gateway's fetch binding (toFetchHandler), on GET /hello only. Wall clock only: the
  // instruction meter counts Node.js processes under valgrind, which Bun, Deno and workerd do
  // not run under; the costs meter measures GET /users/:id.
  {
    id: 'carafe-bun',
    package: 'bun',
    label: 'Carafe on Bun 1.x',
    version: () => runtimeVersion('bun'),
    start: (port, routes) => ({
      command: runtimeCommand('bun'),
      args: [join(BENCH_DIR, 'servers', 'carafe-bun.mjs')],
      env: { PORT: String(port), ROUTES: String(routes) },
    }),
    check: () => runtimeCheck('bun'),
    instructions: false,
    scenarios: ['hello'],
  },
  {
    id: 'carafe-deno',
    package: 'deno',
    label: 'Carafe on Deno 2.x',
    version: () => runtimeVersion('deno'),
    start: (port, routes) => ({
      command: runtimeCommand('deno'),
      args: ['run', '--allow-net', '--allow-env', '--allow-read', join(BENCH_DIR, 'servers', 'carafe-deno.mjs')],
      env: { PORT: String(port), ROUTES: String(routes), NO_COLOR: '1' },
    }),
    check: () => runtimeCheck('deno'),
    instructions: false,
    scenarios: ['hello'],
  },
  {
    id: 'carafe-workerd',
    package: 'workerd',
    label: 'Carafe on workerd',
    version: () => runtimeVersion('workerd'),
    start: startWorkerd,
    check: async () =>
      missingRuntime('workerd') ??
      (existsSync(join(ROOT_DIR, 'node_modules', '.bin', 'esbuild')) ? carafeBuilt() : 'esbuild is not installed (run `npm ci`)'),
    instructions: false,
    scenarios: ['hello'],
  },
];

let flaskCache;
function flaskVersions() {
  if (flaskCache !== undefined) return flaskCache;
  const python = join(VENV, 'bin', 'python');
  const out = spawnSync(
    python,
    ['-c', "import sys, importlib.metadata as m; print(sys.version.split()[0], m.version('flask'), m.version('gunicorn'))"],
    { encoding: 'utf8' },
  );
  const [py, flask, gunicorn] = out.status === 0 ? out.stdout.trim().split(' ') : [];
  flaskCache = flask ? `${flask} (gunicorn ${gunicorn}, python ${py})` : undefined;
  return flaskCache;
}

/**
 * Every scenario, in the order of the report. Scenarios with the same `batch` are measured
 * together by the wall-clock meter (the same rounds).
 * @type {import('./processes.mjs').Scenario[]}
 */
export const SCENARIOS = [
  { id: 'hello', label: 'GET /hello', routes: 10, method: 'GET', path: '/hello', expect: { text: HELLO } },
  { id: 'users', label: 'GET /users/:id', routes: 10, method: 'GET', path: '/users/42', expect: { json: userResponse('42') } },
  { id: 'echo', label: 'POST /echo (1 KB JSON)', routes: 10, method: 'POST', path: '/echo', body: ECHO_JSON, expect: { json: ECHO_BODY } },
  {
    id: 'routes-10',
    label: '10 REST routes, last dynamic',
    routes: 10,
    method: 'GET',
    batch: 'routes',
    path: lastDynamicPath(10),
    expect: { json: restResponse({ id: '42', itemId: '7' }) },
  },
  {
    id: 'routes-1000',
    label: '1000 REST routes, last dynamic',
    routes: 1000,
    method: 'GET',
    batch: 'routes',
    path: lastDynamicPath(1000),
    expect: { json: restResponse({ id: '42', itemId: '7' }) },
  },
];

/**
 * The versions a report names: `base` (Node's, the meter's tools), then each server's package.
 * @param {readonly {package: string, version: () => string | undefined}[]} servers @param {Record<string, string>} base
 */
export function serverVersions(servers, base) {
  /** @type {Record<string, string>} */
  const versions = { ...base };
  for (const server of servers) {
    if (server.package !== 'node') versions[server.package] = server.version() ?? 'not installed';
  }
  return versions;
}
