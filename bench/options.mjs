// @ts-check
// Command-line options of `npm run bench`, for all three meters. Pure: parseOptions(argv) returns
// the options or throws a UsageError (test/bench-instructions.test.ts).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LINEUP, ROOT_DIR, runsScenario, SCENARIOS } from './lineup.mjs';

export class UsageError extends Error {}

// Bounds of a window sized by instructions, and the probe that sizes it.
const WINDOW_MIN = 500;
const WINDOW_MAX = 10_000;
const PROBE_REQUESTS = 200;

export const USAGE = `Usage: npm run bench -- [options]
  --meter NAME          wallclock (default): requests/s and CPU time against node:http,
                        instructions: instructions per request counted by valgrind's callgrind, or
                        costs: cold start, resident memory and open-loop latency at a fixed rate
Every meter:
  --only IDS            servers to run, comma-separated (${LINEUP.map((s) => s.id).join(',')}); node is always included
  --connections N       keep-alive connections held open by the load generator (default 100; costs 8)
  --node PATH           the Node.js binary the servers run on (wallclock: the one running the bench;
                        instructions, costs: the newest .tools/node-24.*/bin/node, else the one running the bench)
  --no-pin              do not pin with taskset
  --port N              first port to use (default 3100)
  --quick               short run for development (a subset of servers; see each meter)
Wall-clock and instruction meters:
  --scenarios IDS       scenarios to run, comma-separated (${SCENARIOS.map((s) => s.id).join(',')})
Wall-clock meter:
  --duration SECONDS    length of each measured run (default 1)
  --warmup SECONDS      warm-up of all servers of a scenario at once, 0 for none (default 2; quick 1)
  --rounds N            rounds alternating the servers (default 12; quick 1)
  --max-steal PERCENT   repeat a run during which the host stole more of a core than this (default 10)
  --retries N           repeats of a disturbed run before keeping the least disturbed (default 3)
  --load TOOL           wrk or autocannon (default: wrk when installed)
  --no-router           skip the router micro-benchmark
Instruction meter:
  --repeats N           windows counted per server and scenario, one after the other in its
                        process (default 3; quick 1)
  --warmup-requests N   requests before counting, per server process (default 25000; quick 10000)
  --window-instructions MILLIONS
                        size each counted window to about this many instructions, from a probe
                        of ${PROBE_REQUESTS} counted requests: ${WINDOW_MIN}–${WINDOW_MAX} requests (default 150; quick 100)
  --requests N          count exactly N requests per window instead
  --jobs N              server processes measured at the same time (default: cores + 1; a server
                        under valgrind waits on its client and on callgrind_control part of the time)
  --keep-dumps          keep the callgrind dumps, in bench/results/raw/callgrind/
Costs meter (GET /hello for the cold starts, GET /users/:id for the rest):
  --starts N            cold starts per server, each timed from spawn to the first 200 (default 5; quick 2)
  --warmup-requests N   requests before the resident memory is read (default 20000; quick 5000)
  --rate N              open-loop requests per second, well below saturation (default 500)
  --duration SECONDS    length of the open-loop run (default 10; quick 3)
  -h, --help`;

// Quick runs keep to the servers the targets compare.
export const QUICK_SERVERS = ['node', 'carafe', 'carafe-serve', 'fastify'];

const FLAGS = /** @type {const} */ ({
  meter: { type: 'string' },
  quick: { type: 'boolean', default: false },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  rounds: { type: 'string' },
  connections: { type: 'string' },
  'max-steal': { type: 'string' },
  retries: { type: 'string' },
  only: { type: 'string' },
  scenarios: { type: 'string' },
  load: { type: 'string' },
  node: { type: 'string' },
  repeats: { type: 'string' },
  'warmup-requests': { type: 'string' },
  requests: { type: 'string' },
  'window-instructions': { type: 'string' },
  jobs: { type: 'string' },
  'keep-dumps': { type: 'boolean', default: false },
  starts: { type: 'string' },
  rate: { type: 'string' },
  'no-router': { type: 'boolean', default: false },
  'no-pin': { type: 'boolean', default: false },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
});

const METERS = ['wallclock', 'instructions', 'costs'];

/** The flags only some meters take, and which. */
const METERS_OF = {
  duration: ['wallclock', 'costs'],
  warmup: ['wallclock'],
  rounds: ['wallclock'],
  'max-steal': ['wallclock'],
  retries: ['wallclock'],
  load: ['wallclock'],
  'no-router': ['wallclock'],
  scenarios: ['wallclock', 'instructions'],
  repeats: ['instructions'],
  'warmup-requests': ['instructions', 'costs'],
  requests: ['instructions'],
  'window-instructions': ['instructions'],
  jobs: ['instructions'],
  'keep-dumps': ['instructions'],
  starts: ['costs'],
  rate: ['costs'],
};

// The costs meter measures absolute figures, not ratios: the node:http control, which shows
// how noisy a ratio is, has nothing to add there.
const NOT_COSTS = ['node-control'];

/**
 * The newest Node.js 24 under .tools/ (where scripts/install-node.sh puts official builds),
 * or null.
 * @param {string} [root]
 */
export function toolsNode24(root = ROOT_DIR) {
  const dir = join(root, '.tools');
  if (!existsSync(dir)) return null;
  const versions = readdirSync(dir)
    .map((name) => /^node-(24\.\d+\.\d+)$/.exec(name))
    .filter((m) => m !== null)
    .map((m) => /** @type {RegExpExecArray} */ (m)[1])
    .sort((a, b) => compareVersions(b, a));
  for (const version of versions) {
    const node = join(dir, `node-${version}`, 'bin', 'node');
    if (existsSync(node)) return node;
  }
  return null;
}

/** @param {string} a @param {string} b */
function compareVersions(a, b) {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/**
 * @param {string[]} argv the arguments after the script
 * @param {{cores?: number, defaultMeterNode?: string | null}} [env] for tests: the machine's cores, the Node.js 24 found
 */
export function parseOptions(argv, { cores = 2, defaultMeterNode = toolsNode24() } = {}) {
  /** @type {Record<string, string | boolean | undefined>} */
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS }));
  } catch (error) {
    throw new UsageError(/** @type {Error} */ (error).message);
  }
  if (values.help) return { help: true };
  const meter = values.meter ?? 'wallclock';
  if (!METERS.includes(meter)) throw new UsageError(`--meter must be wallclock, instructions or costs, got "${meter}"`);
  const foreign = Object.entries(METERS_OF)
    .filter(([name, meters]) => !meters.includes(meter) && values[name] !== undefined && values[name] !== false)
    .map(([name]) => name);
  if (foreign.length) throw new UsageError(`${foreign.map((n) => `--${n}`).join(', ')}: not an option of the ${meter} meter`);

  /** @param {string} name @param {number} fallback @param {{integer?: boolean, min?: number}} [o] */
  const number = (name, fallback, { integer = false, min = 0 } = {}) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${name} must be a ${integer ? 'whole ' : ''}number ≥ ${min}, got "${values[name]}"`);
    }
    return n;
  };
  /** @param {string} name @param {string[]} known */
  const list = (name, known) => {
    if (values[name] === undefined) return undefined;
    const ids = String(values[name])
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = ids.filter((id) => !known.includes(id));
    if (unknown.length) throw new UsageError(`--${name}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
    return ids;
  };
  const quick = Boolean(values.quick);
  const lineup =
    meter === 'instructions'
      ? LINEUP.filter((s) => s.instructions)
      : meter === 'costs'
        ? // It measures GET /hello (cold starts) and GET /users/:id: not the GET /hello-only rows.
          LINEUP.filter((s) => !NOT_COSTS.includes(s.id) && runsScenario(s, 'hello') && runsScenario(s, 'users'))
        : LINEUP;
  const only =
    list(
      'only',
      LINEUP.map((s) => s.id),
    ) ?? (quick ? QUICK_SERVERS : lineup.map((s) => s.id));
  const outside = only.filter((id) => !lineup.some((s) => s.id === id));
  if (outside.length) throw new UsageError(`--only: ${outside.join(', ')} not measured by the ${meter} meter`);
  if (!only.includes('node')) only.unshift('node'); // ratios are taken against it
  const scenarioIds =
    list(
      'scenarios',
      SCENARIOS.map((x) => x.id),
    ) ?? SCENARIOS.map((x) => x.id);
  const common = {
    meter,
    quick,
    servers: lineup.filter((s) => only.includes(s.id)),
    scenarios: SCENARIOS.filter((s) => scenarioIds.includes(s.id)),
    connections: number('connections', meter === 'costs' ? 8 : 100, { integer: true, min: 1 }),
    pin: !values['no-pin'],
    port: number('port', 3100, { integer: true, min: 1 }),
  };
  if (meter === 'instructions') {
    const node = /** @type {string | undefined} */ (values.node) ?? defaultMeterNode ?? process.execPath;
    return {
      ...common,
      node,
      repeats: number('repeats', quick ? 1 : 3, { integer: true, min: 1 }),
      warmupRequests: number('warmup-requests', quick ? 10_000 : 25_000, { integer: true }),
      window: {
        requests: values.requests === undefined ? null : number('requests', 0, { integer: true, min: 1 }),
        instructions: number('window-instructions', quick ? 100 : 150, { min: 1 }) * 1e6,
        min: WINDOW_MIN,
        max: WINDOW_MAX,
        probe: PROBE_REQUESTS,
      },
      jobs: number('jobs', cores + 1, { integer: true, min: 1 }),
      keepDumps: Boolean(values['keep-dumps']),
    };
  }
  if (meter === 'costs') {
    const { scenarios: _none, ...rest } = common;
    return {
      ...rest,
      node: /** @type {string | undefined} */ (values.node) ?? defaultMeterNode ?? process.execPath,
      starts: number('starts', quick ? 2 : 5, { integer: true, min: 1 }),
      warmupRequests: number('warmup-requests', quick ? 5000 : 20_000, { integer: true }),
      rate: number('rate', 500, { min: 1 }),
      duration: number('duration', quick ? 3 : 10, { min: 1 }),
    };
  }
  if (values.load !== undefined && !['wrk', 'autocannon'].includes(String(values.load)))
    throw new UsageError('--load must be wrk or autocannon');
  return {
    ...common,
    node: /** @type {string | undefined} */ (values.node) ?? process.execPath,
    duration: number('duration', 1, { integer: true, min: 1 }),
    warmup: number('warmup', quick ? 1 : 2, { integer: true }), // wrk takes whole seconds
    rounds: number('rounds', quick ? 1 : 12, { integer: true, min: 1 }),
    maxSteal: number('max-steal', 10) / 100,
    retries: number('retries', quick ? 0 : 3, { integer: true }),
    load: /** @type {string | undefined} */ (values.load),
    router: !values['no-router'],
  };
}
