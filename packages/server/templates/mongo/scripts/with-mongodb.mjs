#!/usr/bin/env node
// Runs a command with MONGODB_URI set. When it is not set already, starts the embedded FerretDB
// (scripts/ferretdb.mjs) first and stops it once the command has exited. `npm start`, `npm run
// dev` and `npm test` go through here.
//
//   node scripts/with-mongodb.mjs [--data DIR] COMMAND [ARGS...]
//
// --data keeps FerretDB's files in DIR; without it they go to a temporary directory that is
// removed afterwards.
import { spawn } from 'node:child_process';
import { startFerretDB } from './ferretdb.mjs';

let argv = process.argv.slice(2);
let dataDir;
if (argv[0] === '--data') {
  dataDir = argv[1];
  argv = argv.slice(2);
}
const [command, ...args] = argv;
if (!command || (dataDir !== undefined && !dataDir)) {
  console.error('usage: node scripts/with-mongodb.mjs [--data DIR] COMMAND [ARGS...]');
  process.exit(2);
}

const env = { ...process.env };
let ferret;
if (!env.MONGODB_URI) {
  // Its own process group, so Ctrl-C reaches only the command; FerretDB stops after it.
  ferret = await startFerretDB({ dataDir, detached: true });
  env.MONGODB_URI = ferret.uri;
  console.error(`with-mongodb: embedded FerretDB at ${ferret.uri} (data in ${ferret.dataDir})`);
}

// npm puts node_modules/.bin on PATH; on Windows its entries are .cmd files, which need a shell.
const child = spawn(command, args, { env, stdio: 'inherit', shell: process.platform === 'win32' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on('error', async (error) => {
  console.error(`with-mongodb: cannot run ${command}: ${error.message} (did npm install finish?)`);
  await ferret?.stop();
  process.exit(1);
});
let childExited = false;
void ferret?.exited.then(({ code }) => {
  if (childExited) return;
  console.error(`with-mongodb: FerretDB exited unexpectedly (code ${code}); stopping ${command}`);
  child.kill('SIGTERM');
});
child.on('exit', async (code, signal) => {
  childExited = true;
  await ferret?.stop();
  process.exit(code ?? (signal ? 0 : 1));
});
