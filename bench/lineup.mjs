// The servers under test: how to start each one, whether it can run here, and its version.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function nodeServer(file) {
  return (port, routes) => ({
    command: process.execPath,
    args: [join(BENCH_DIR, 'servers', file)],
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
 * Every server, in the order of the report; `package` names it among the versions.
 * `start(port, routes)` gives the command line;
 * `check()` resolves to null when the server can run here, or to the reason it cannot.
 */
export const LINEUP = [
  {
    id: 'node',
    package: 'node',
    label: 'node:http (raw)',
    version: () => process.versions.node,
    start: nodeServer('node.mjs'),
    check: async () => null,
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
  },
  {
    id: 'carafe',
    package: '@carafe/core',
    label: 'Carafe (in-process)',
    version: () => localVersion('core'),
    start: nodeServer('carafe.mjs'),
    check: carafeBuilt,
  },
  {
    id: 'carafe-serve',
    package: '@carafe/server',
    label: 'Carafe (carafe serve --workers 1)',
    version: () => localVersion('server'),
    start: (port, routes) => ({
      command: process.execPath,
      args: [CARAFE_CLI, 'serve', join(BENCH_DIR, 'servers', 'carafe-app.mjs'), '--workers', '1', '--bind', `127.0.0.1:${port}`],
      env: { ROUTES: String(routes) },
    }),
    check: async () => (existsSync(CARAFE_CLI) ? carafeBuilt() : 'packages/server/dist/cli.js is not built'),
  },
  {
    id: 'fastify',
    package: 'fastify',
    label: 'Fastify',
    version: () => packageVersion('fastify'),
    start: nodeServer('fastify.mjs'),
    check: async () => null,
  },
  {
    id: 'hono',
    package: 'hono',
    label: 'Hono (@hono/node-server)',
    version: () => `${packageVersion('hono')} (node-server ${packageVersion('@hono/node-server')})`,
    start: nodeServer('hono.mjs'),
    check: async () => null,
  },
  {
    id: 'koa',
    package: 'koa',
    label: 'Koa (@koa/router)',
    version: () => `${packageVersion('koa')} (router ${packageVersion('@koa/router')})`,
    start: nodeServer('koa.mjs'),
    check: async () => null,
  },
  {
    id: 'express',
    package: 'express',
    label: 'Express',
    version: () => packageVersion('express'),
    start: nodeServer('express.mjs'),
    check: async () => null,
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
        '--workers', '1', '--worker-class', 'gthread', '--threads', '4', '--bind', `127.0.0.1:${port}`,
        '--chdir', join(BENCH_DIR, 'flask'), '--log-level', 'warning', 'app:app',
      ],
      env: { ROUTES: String(routes) },
    }),
    check: async () => {
      const setup = spawnSync('bash', [join(BENCH_DIR, 'flask', 'setup.sh')], { encoding: 'utf8', timeout: 300_000 });
      if (setup.status === 0) return null;
      const why = `${setup.stderr ?? ''}${setup.error?.message ?? ''}`.trim().split('\n').slice(-2).join(' ');
      return `Flask/Gunicorn could not be installed into bench/.venv (${why || `exit ${setup.status}`})`;
    },
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
