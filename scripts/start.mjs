#!/usr/bin/env node
// `npm start`: serves the REST API example with `carafe serve` (2 workers, 127.0.0.1:$PORT,
// default 8000). Without MONGODB_URI it first starts the embedded FerretDB, with its data in
// $FERRETDB_DATA_DIR (default .data/ferretdb), and stops it when the server exits.
// FerretDB is supervised (scripts/supervise.mjs): restarted with backoff when it dies, one per
// data directory (a stale one left by a killed run is stopped first); if it keeps failing, the
// server is stopped and `npm start` exits 1.
// SIGINT/SIGTERM go to the server, which shuts its workers down gracefully. The exit status is 0
// only for such a requested shutdown (or a server that stopped cleanly by itself); any failure
// is non-zero.
// `npm start` runs `tsc -b` first, so dist/ is current.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { superviseFerretDB } from './supervise.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');
const APP = join(ROOT, 'examples', 'rest-api', 'dist', 'app.js');
const port = process.env.PORT || '8000';
const host = process.env.HOST || '127.0.0.1';

let ferret;
const env = { ...process.env };
if (!env.MONGODB_URI) {
  const dataDir = process.env.FERRETDB_DATA_DIR || join(ROOT, '.data', 'ferretdb');
  ferret = await superviseFerretDB({ dataDir }).catch((error) => {
    console.error(`start: the embedded FerretDB did not start: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
  env.MONGODB_URI = ferret.uri;
  env.MONGODB_DB ||= 'carafe_example';
  console.log(`start: embedded FerretDB at ${ferret.uri} (pid ${ferret.pid}, data in ${ferret.dataDir})`);
}

const server = spawn(process.execPath, [CLI, 'serve', APP, '--workers', '2', '--bind', `${host}:${port}`], {
  cwd: ROOT,
  env,
  stdio: 'inherit',
});

// Say where to go once the server really answers (the server logs its own "Listening at").
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
void (async () => {
  for (let i = 0; i < 600 && server.exitCode === null; i++) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      console.log(`start: the REST API example is ready at ${url}/ (try ${url}/api/users, ${url}/openapi.json)`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();

let requested; // the shutdown signal we were sent, if any
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    requested ??= signal;
    if (server.exitCode === null) server.kill(signal);
  });
}

let serverExited = false;
let failure;
void ferret?.failed.then((error) => {
  if (serverExited) return;
  failure = error;
  console.error(`start: ${error.message}; stopping the server`);
  server.kill('SIGTERM');
});

server.on('exit', async (code, signal) => {
  serverExited = true;
  await ferret?.stop();
  if (failure) process.exit(1);
  // Killed by a signal we did not pass on (SIGKILL, the OOM killer): a failure, 128 + its number.
  if (code === null) process.exit(signal === requested ? 0 : 128 + (os.constants.signals[signal] ?? 0));
  process.exit(code);
});
