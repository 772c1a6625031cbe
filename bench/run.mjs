#!/usr/bin/env node
// @ts-check
// `npm run bench [-- flags]`: measures every server on the same scenarios with one of three
// meters and writes the results to bench/results/ (see bench/README.md):
//   --meter wallclock (default)  requests/s, latency and CPU time against raw node:http,
//                                then the router micro-benchmark    (wallclock.mjs)
//   --meter instructions         instructions per request, counted by callgrind (instructions.mjs)
//   --meter costs                cold start, resident memory and open-loop latency at a fixed
//                                rate (costs.mjs)
// Progress goes to stderr; the Markdown report goes to stdout.
import os from 'node:os';
import { parseOptions, USAGE, UsageError } from './options.mjs';
import { log } from './processes.mjs';

async function main() {
  const options = /** @type {any} */ (parseOptions(process.argv.slice(2), { cores: os.cpus().length }));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (options.meter === 'instructions') {
    const { runInstructionMeter } = await import('./instructions.mjs');
    await runInstructionMeter(options);
  } else if (options.meter === 'costs') {
    const { runCostsMeter } = await import('./costs.mjs');
    await runCostsMeter(options);
  } else {
    const { runWallclock } = await import('./wallclock.mjs');
    await runWallclock(options);
  }
}

main().then(
  // Exit now rather than when fetch's idle keep-alive sockets time out.
  () => process.exit(0),
  (error) => {
    log(error instanceof UsageError ? `bench: ${error.message}\n\n${USAGE}` : `bench: ${error.stack ?? error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
