#!/usr/bin/env node
// @ts-check
// `node bench/profile.mjs <server> <scenario>`: where a server's instructions go, per function.
// Runs one server as the instruction meter does (valgrind's callgrind, Node.js 24 with the
// meter's flags, a warm-up, then a counted window of one scenario), with V8 writing a perf
// map (--perf-basic-prof; --interpreted-frames-native-stack gives interpreted functions
// entries too). Valgrind cannot read perf maps itself, so generated code shows in the dump
// as bare addresses (`0x…`); this renames each after the perf-map entry holding it
// (`JS:*handler /path/app.mjs:12:3`), keeps the dump in bench/results/raw/profiles/ for
// callgrind_annotate or KCachegrind, and prints the top functions by own instructions.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { callgrindMissing, control, dumpTotal, gcInWindow, jitInWindow, parseAnnotate, parsePerfMap, symbolizeDump } from './callgrind.mjs';
import { KeepAliveClient } from './client.mjs';
import { countedPid, latestDump, launchUnderCallgrind } from './instructions.mjs';
import { LINEUP, SCENARIOS } from './lineup.mjs';
import { toolsNode24 } from './options.mjs';
import { checkResponse, freePorts, log, stopProcess, waitReady } from './processes.mjs';
import { RAW_DIR } from './summary.mjs';

const USAGE = `Usage: node bench/profile.mjs SERVER SCENARIO [options]
  SERVER                ${LINEUP.filter((s) => s.instructions)
    .map((s) => s.id)
    .join(', ')}
  SCENARIO              ${SCENARIOS.map((s) => s.id).join(', ')}
  --warmup-requests N   requests before counting (default 25000)
  --requests N          requests counted (default 5000)
  --connections N       keep-alive connections (default 100)
  --top N               functions to print (default 30)
  --inclusive           sort by inclusive cost (a function and what it calls) instead of its own
  --node PATH           Node.js binary (default: the newest .tools/node-24.*/bin/node)
  -h, --help`;

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'warmup-requests': { type: 'string', default: '25000' },
      requests: { type: 'string', default: '5000' },
      connections: { type: 'string', default: '100' },
      top: { type: 'string', default: '30' },
      inclusive: { type: 'boolean', default: false },
      node: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const server = LINEUP.find((s) => s.id === positionals[0] && s.instructions);
  const scenario = SCENARIOS.find((s) => s.id === positionals[1]);
  if (values.help || !server || !scenario) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const missing = callgrindMissing();
  if (missing) throw new Error(missing);
  const unavailable = await server.check();
  if (unavailable) throw new Error(`${server.id} cannot run: ${unavailable}`);
  const node = values.node ?? toolsNode24() ?? process.execPath;
  const warmupRequests = Number(values['warmup-requests']);
  const requests = Number(values.requests);

  const dir = join(RAW_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  const label = `${server.id}.${scenario.id}`;
  const [port] = await freePorts(3900, 1);
  log(
    `Profiling ${server.id} on ${scenario.id} under callgrind (Node ${node}): ${warmupRequests} warm-up requests, then ${requests} counted`,
  );
  const proc = launchUnderCallgrind(server, scenario.routes, {
    node,
    port,
    cpu: null,
    outFile: join(dir, `${label}.%p.raw`),
    profile: true,
    nodeFlags: ['--perf-basic-prof', '--interpreted-frames-native-stack'],
  });
  const client = new KeepAliveClient({ port, connections: Number(values.connections) });
  let pid = 0;
  try {
    const problem = checkResponse(scenario, await waitReady(proc, scenario, 180_000));
    if (problem) throw new Error(`wrong response: ${problem}`);
    pid = await countedPid(server, proc);
    const request = [client.request(scenario)];
    await client.send(warmupRequests, request);
    await control(pid, ['-i', 'on']);
    await control(pid, ['-z']);
    const window = await client.send(requests, request);
    await control(pid, ['-d', scenario.id]);
    if (window.errors || window.non2xx)
      log(`warning: ${window.non2xx} non-2xx responses, ${window.errors} failed connections in the window`);
  } finally {
    client.close();
    await stopProcess(proc);
  }

  // The perf map is complete once the process has exited (V8 buffers it).
  const mapPath = `/tmp/perf-${pid}.map`;
  const rawDump = latestDump(dir, `${label}.${pid}.raw.`);
  let text = readFileSync(rawDump, 'utf8');
  let names = 'no perf map was written: generated code keeps its addresses';
  if (existsSync(mapPath)) {
    const symbolized = symbolizeDump(text, parsePerfMap(readFileSync(mapPath, 'utf8')));
    text = symbolized.text;
    names = `${symbolized.resolved} addresses of generated code named from V8's perf map, ${symbolized.unresolved} not`;
    renameSync(mapPath, join(dir, `${label}.perf.map`));
  }
  const out = join(dir, `callgrind.out.${label}`);
  writeFileSync(out, text);
  // The unnamed dumps, this process's final one and those of any other process valgrind
  // traced (carafe serve's arbiter), are of no use any more.
  for (const file of readdirSync(dir).filter((f) => f.startsWith(`${label}.`) && f.includes('.raw')))
    rmSync(join(dir, file), { force: true });

  const total = dumpTotal(text);
  const gc = gcInWindow(text);
  const jit = jitInWindow(text);
  const annotate = execFileSync('callgrind_annotate', [`--inclusive=${values.inclusive ? 'yes' : 'no'}`, `--threshold=100`, out], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const rows = parseAnnotate(annotate).slice(0, Number(values.top));
  const perRequest = (/** @type {number} */ ir) => Math.round(ir / requests).toLocaleString('en-US');
  const lines = [
    `${server.label}, ${scenario.label}: ${perRequest(total - jit)} instructions per request over ${requests} requests, ` +
      `V8's compiling left out as the meter does (${perRequest(total)} with it); ` +
      `GC: ${gc.minor} scavenge(s), ${gc.major} mark-compact(s), ${((100 * gc.ir) / total).toFixed(1)} % in their pauses.`,
    `${names}.`,
    '',
    `${values.inclusive ? 'inclusive' : 'own'} Ir/request       %  function [object]`,
    ...rows.map((r) => `${perRequest(r.ir).padStart(16)} ${r.percent.toFixed(2).padStart(6)}  ${r.name}`),
    '',
    `Dump: ${out}`,
    `  callgrind_annotate --inclusive=yes ${out} | less      # or open it in KCachegrind / QCachegrind`,
  ];
  console.log(lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`profile: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
