#!/usr/bin/env node
// `npm start`: serves the REST API example with `carafe serve` (2 workers, 127.0.0.1:$PORT,
// default 8000). Without MONGODB_URI it first starts the embedded FerretDB, with its data in
// $FERRETDB_DATA_DIR (default .data/ferretdb), and stops it when the server exits.
// SIGINT/SIGTERM go to the server, which shuts its workers down gracefully.
// `npm start` runs `tsc -b` first, so dist/ is current.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFerretDB } from './ferretdb.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');
const APP = join(ROOT, 'examples', 'rest-api', 'dist', 'app.js');
const port = process.env.PORT || '8000';
const host = process.env.HOST || '127.0.0.1';

let ferret;
const env = { ...process.env };
if (!env.MONGODB_URI) {
  const dataDir = process.env.FERRETDB_DATA_DIR || join(ROOT, '.data', 'ferretdb');
  ferret = await startFerretDB({ dataDir, detached: true });
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
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) {
      console.log(`start: the REST API example is ready at ${url}/ (try ${url}/api/users, ${url}/openapi.json)`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (server.exitCode === null) server.kill(signal);
  });
}

let serverExited = false;
void ferret?.exited.then(({ code }) => {
  if (serverExited) return;
  console.error(`start: FerretDB exited unexpectedly (code ${code}); stopping the server`);
  server.kill('SIGTERM');
});

server.on('exit', async (code, signal) => {
  serverExited = true;
  await ferret?.stop();
  process.exit(code ?? (signal ? 0 : 1));
});
