#!/usr/bin/env node
// `npm run dev`: keeps `tsc --watch` compiling src/ into dist/ and, once the first compile is
// done, runs the given command — `carafe serve dist/app.js --reload`, which replaces its workers
// whenever dist/ changes. Ctrl-C stops both.
//
//   node scripts/watch.mjs COMMAND [ARGS...]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/watch.mjs COMMAND [ARGS...]');
  process.exit(2);
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiler = spawn(process.execPath, [tsc, '-p', '.', '--watch', '--preserveWatchOutput'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});

let server;
compiler.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  // tsc prints this after every compile, the first one included.
  if (!server && String(chunk).includes('Watching for file changes')) start();
});
compiler.on('exit', (code) => {
  if (!server) process.exit(code ?? 1);
});

function start() {
  // npm puts node_modules/.bin on PATH; on Windows its entries are .cmd files, which need a shell.
  server = spawn(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  server.on('error', (error) => {
    console.error(`watch: cannot run ${command}: ${error.message} (did npm install finish?)`);
    compiler.kill();
    process.exit(1);
  });
  server.on('exit', (code, signal) => {
    compiler.kill();
    process.exit(code ?? (signal ? 0 : 1));
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (server && server.exitCode === null) server.kill(signal);
    else {
      compiler.kill();
      process.exit(0);
    }
  });
}
