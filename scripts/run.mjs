#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone, with nothing run before them:
//   1. on a Node line we do not support (the machine's default may be an end-of-life one), fetch the
//      current LTS into .tools/ with scripts/install-node.sh and run again under it;
//   2. `npm ci` when node_modules is missing or was installed from another package-lock.json;
//   3. `tsc -b` (incremental: a no-op when dist/ is current);
//   4. start: serve the example (scripts/start.mjs);
//      test: provision the tools the tests use (scripts/provision.sh, idempotent), lint, type-check
//      the tests, run vitest.
// Written for every Node since 18 with no dependency: it may be the first thing that runs.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NODE, MIN_NODE, isSupported } from './node-versions.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
const rest = process.argv.slice(3);

if (mode !== 'start' && mode !== 'test' && mode !== 'setup') {
  console.error('usage: node scripts/run.mjs start|test|setup [vitest arguments]');
  process.exit(2);
}

function say(message) {
  console.error(`carafe ${mode}: ${message}`);
}

/**
 * Runs a command with inherited stdio and resolves with its exit status. Termination signals sent
 * to this process (a supervisor's SIGTERM, not only a terminal's ^C) are passed on to it, so that
 * nothing is left running when this process is told to stop.
 */
function exec(command, args, options = {}) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
    const forward = (signal) => child.kill(signal);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const signal of signals) process.on(signal, forward);
    child.on('error', (error) => {
      say(`${command} could not run: ${error.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      done(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1));
    });
  });
}

/** Runs a step; a failing step ends the whole command with its status. */
async function run(command, args, options) {
  const status = await exec(command, args, options);
  if (status !== 0) process.exit(status);
}

// 1. A supported Node.
const major = Number(process.versions.node.split('.')[0]);
if (!isSupported(process.versions.node)) {
  say(`Node ${process.versions.node} is not supported (need >= ${MIN_NODE.join('.')}); using Node ${DEFAULT_NODE} from .tools/`);
  const found = spawnSync('bash', [join(ROOT, 'scripts', 'install-node.sh'), DEFAULT_NODE], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (found.status !== 0) {
    say(`could not install Node ${DEFAULT_NODE}; install Node >= ${MIN_NODE.join('.')} (22, 24 or 26) and run again`);
    process.exit(1);
  }
  const bin = found.stdout.trim();
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` };
  process.exit(await exec(join(bin, 'node'), process.argv.slice(1), { env }));
}

// 2. Dependencies that match the lockfile (and this Node's major line: native optional packages
// such as Biome's binary are chosen at install time).
const lock = join(ROOT, 'package-lock.json');
const stamp = join(ROOT, 'node_modules', '.carafe-installed');
const wanted = createHash('sha256').update(readFileSync(lock)).update(`node${major}`).digest('hex');
const installed = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
// A test that runs `npm start` inside `npm test` must never reinstall under the running suite.
const nested = process.env.CARAFE_RUN_INSTALLED === wanted;
if (installed !== wanted && !nested) {
  say(existsSync(join(ROOT, 'node_modules')) ? 'node_modules is stale: npm ci' : 'installing dependencies: npm ci');
  await run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, `${wanted}\n`);
}

process.env.CARAFE_RUN_INSTALLED = wanted;

// 3. Build.
const bin = join(ROOT, 'node_modules', '.bin');
await run(join(bin, 'tsc'), ['-b']);

// 4. The command itself.
if (mode === 'start') {
  // In this process, so that the signals a supervisor sends reach start.mjs's own handlers.
  await import('./start.mjs');
} else if (mode === 'test') {
  await run('bash', [join(ROOT, 'scripts', 'provision.sh')]);
  await run(join(bin, 'biome'), ['ci', '.', '--diagnostic-level=error']);
  await run(join(bin, 'tsc'), ['-p', 'tsconfig.test.json']);
  await run(join(bin, 'vitest'), ['run', ...rest]);
}
