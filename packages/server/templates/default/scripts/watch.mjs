#!/usr/bin/env node
// `npm run dev`: compiles src/ into dist/ and runs the given command — `carafe serve dist/app.js` —
// once a compile has succeeded. After that, every change to src/ or carafe.config.js is compiled
// again and, only when that compile succeeds, the server is reloaded with SIGHUP: once per change,
// fresh workers on the new code, the sockets open throughout. A compile with errors prints them and
// changes nothing (tsconfig.build.json has noEmitOnError, so dist/ keeps the last code that
// compiled). Ctrl-C or SIGTERM stops the server, then this script.
//
//   node scripts/watch.mjs COMMAND [ARGS...]
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/watch.mjs COMMAND [ARGS...]');
  process.exit(2);
}

// typescript's own bin, found through its package.json (its "exports" may not list bin/).
const require = createRequire(import.meta.url);
const typescriptManifest = require.resolve('typescript/package.json');
const tsc = join(dirname(typescriptManifest), require(typescriptManifest).bin.tsc);

let compiler;
/** One `tsc -p tsconfig.build.json`; resolves with whether it succeeded. Its errors go to the terminal. */
function compile() {
  return new Promise((done) => {
    compiler = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    compiler.on('error', (error) => {
      console.error(`watch: cannot run tsc: ${error.message}`);
      done(false);
    });
    compiler.on('exit', (code) => done(code === 0));
  });
}

let server;
let stopping = false;

function startServer() {
  // npm puts node_modules/.bin on PATH; on Windows its entries are .cmd files, which need a shell.
  server = spawn(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  server.on('error', (error) => {
    console.error(`watch: cannot run ${command}: ${error.message} (did npm install finish?)`);
    process.exit(1);
  });
  server.on('exit', (code, signal) => {
    closeWatchers();
    process.exit(code ?? (signal ? 0 : 1));
  });
}

// Compiles, and again while changes arrived during a compile; then starts or reloads the server,
// once, if the last compile succeeded.
let compiling = false;
let changedWhileCompiling = false;
async function rebuild() {
  if (compiling) {
    changedWhileCompiling = true;
    return;
  }
  compiling = true;
  let ok = false;
  do {
    changedWhileCompiling = false;
    ok = await compile();
  } while (changedWhileCompiling && !stopping);
  compiling = false;
  if (stopping) return;
  if (!ok) {
    console.error(
      server
        ? 'watch: compile failed; the server keeps the code that last compiled'
        : 'watch: compile failed; the server starts once src/ compiles',
    );
  } else if (!server) {
    startServer();
  } else {
    console.error('watch: compiled; reloading the server');
    server.kill('SIGHUP');
  }
}

// A save is often several file-system events; one compile per burst.
let timer;
const changed = () => {
  clearTimeout(timer);
  timer = setTimeout(rebuild, 100);
};
const watchers = [
  watch('src', { recursive: true }, changed),
  watch('.', (_event, file) => {
    if (file === 'carafe.config.js') changed();
  }),
];
function closeWatchers() {
  clearTimeout(timer);
  for (const watcher of watchers) watcher.close();
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    closeWatchers();
    compiler?.kill(signal);
    // The server's own exit ends this process; before it started there is nothing to wait for.
    if (server && server.exitCode === null && server.signalCode === null) server.kill(signal);
    else if (!server) process.exit(0);
  });
}

await rebuild();
