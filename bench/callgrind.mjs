// @ts-check
// Valgrind's callgrind for the instruction meter and the profile helper: the command line
// that runs a Node.js server under it, the callgrind_control commands that open and close a
// measured window, and readers of what it writes (a dump's total, the garbage collections
// in it, and JIT code named from V8's perf map). The readers are pure functions
// (test/bench-instructions.test.ts).
import { execFile, spawnSync } from 'node:child_process';

/**
 * Flags for valgrind. Instrumentation starts off (`--instr-atstart=no`): the server starts
 * and warms up at the speed of valgrind without a tool (several times faster than under
 * callgrind's instrumentation), and counting starts with `callgrind_control -i on`.
 * `--smc-check=all-non-file` (valgrind's default on amd64, spelled out) makes it notice code
 * that V8 writes and rewrites in anonymous memory, where all of V8's generated code lives;
 * `all` would also check the node binary's own code, which never changes, and is ~1.5×
 * slower for the same counts.
 * @param {{outFile: string, children?: boolean, profile?: boolean}} o
 *   `children`: trace the processes it starts too (`carafe serve`'s worker);
 *   `profile`: also record per-instruction costs, for the profile helper
 */
export function valgrindArgs({ outFile, children = false, profile = false }) {
  return [
    '--tool=callgrind',
    '--instr-atstart=no',
    '--smc-check=all-non-file',
    `--callgrind-out-file=${outFile}`,
    ...(children ? ['--trace-children=yes'] : []),
    ...(profile ? ['--dump-instr=yes'] : []),
  ];
}

/**
 * Node.js flags under the meter.
 * - `--single-threaded`: V8 without its background threads (compilers, garbage collector):
 *   what they would do is done on the main thread, counted, in an order that does not depend
 *   on how threads were scheduled.
 * - `--min-semi-space-size=16 --max-semi-space-size=16`: the young generation fixed at the
 *   size V8 grows it to under a busy server's allocation (16 MB semi-spaces, its default
 *   maximum). V8 sizes it from the allocation rate per millisecond, which valgrind's 50-fold
 *   slowdown lowers: left alone, it shrank node:http's to the minimum (27 scavenges per window
 *   instead of 2, +7 % instructions per request) but not Carafe's.
 * - `--no-incremental-marking`: major collections done at once, when the old generation's
 *   allocation calls for one, not marked in steps paced by timers and tasks. Under valgrind
 *   that pacing left marking running indefinitely, and the scavenges interleaved with it in the
 *   apps with 1000 compiled response serializers (Carafe, Fastify) cost 25–65 million
 *   instructions each (natively, 0.2 ms): windows of one process 50 % apart.
 * - `--no-memory-reducer`: no major collections because the process looks idle (a low
 *   allocation rate per second, again), as a server under load never is.
 * - `--random-seed=42`: V8's random numbers (identity hashes, hence the layout of hash
 *   tables keyed by objects; Math.random) the same in every process.
 */
export const NODE_FLAGS = [
  '--single-threaded',
  '--min-semi-space-size=16',
  '--max-semi-space-size=16',
  '--no-incremental-marking',
  '--no-memory-reducer',
  '--random-seed=42',
];

/**
 * Sends one command to the valgrind process `pid` (through vgdb, which wakes a process
 * blocked in a system call): `['-i', 'on']`, `['-z']`, `['-d', label]`.
 * @param {number} pid @param {string[]} args
 * @returns {Promise<void>}
 */
export function control(pid, args) {
  return new Promise((resolve, reject) => {
    execFile('callgrind_control', [...args, String(pid)], { timeout: 60_000 }, (error, stdout, stderr) => {
      const text = `${stdout}${stderr}`;
      // callgrind_control exits 0 even when no such process answered; it prints "OK." when one did.
      if (error || !/OK\./.test(text)) reject(new Error(`callgrind_control ${args.join(' ')} ${pid}: ${error?.message ?? text.trim()}`));
      else resolve();
    });
  });
}

/** Whether valgrind and callgrind_control are installed; null if so, else why not. */
export function callgrindMissing() {
  for (const [command, args] of [
    ['valgrind', ['--version']],
    ['callgrind_control', ['-h']],
  ]) {
    const result = spawnSync(command, args, { stdio: 'ignore' });
    if (result.error) return `${command} is not installed (apt-get install valgrind)`;
  }
  return null;
}

export function valgrindVersion() {
  const out = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  return out.stdout?.trim().replace(/^valgrind-/, '') || 'unknown';
}

/**
 * The total of the first event (Ir, instructions executed) of a callgrind dump, from its
 * `summary:` line (or `totals:` where there is none).
 * @param {string} text
 */
export function dumpTotal(text) {
  const events = /^events:\s*(.+)$/m.exec(text);
  if (events?.[1].trim().split(/\s+/)[0] !== 'Ir') throw new Error('not a callgrind dump counting Ir');
  const line = /^summary:\s*(\d+)/m.exec(text) ?? /^totals:\s*(\d+)/m.exec(text);
  if (!line) throw new Error('callgrind dump has neither a summary: nor a totals: line');
  return Number(line[1]);
}

/**
 * Each call recorded in a callgrind dump: caller, callee, how many times, and the inclusive
 * cost (first event) of those calls. Names are given once per id (`fn=(12) name`, later
 * `fn=(12)`); the cost line after `calls=` holds the positions (one per `positions:` kind)
 * and then the events.
 * @param {string} text
 * @returns {Generator<{caller: string, callee: string, count: number, inclusive: number}>}
 */
export function* dumpCalls(text) {
  /** @type {Map<string, string>} */
  const names = new Map();
  /** @param {string} spec e.g. `(12) v8::internal::Heap::Scavenge()` or `(12)` */
  const nameOf = (spec) => {
    const match = /^\((\d+)\)(?:\s(.*))?$/.exec(spec.trim());
    if (!match) return spec.trim();
    if (match[2] !== undefined) names.set(match[1], match[2]);
    return names.get(match[1]) ?? `(${match[1]})`;
  };
  const positions = (/^positions:\s*(.+)$/m.exec(text)?.[1] ?? 'line').trim().split(/\s+/).length;
  let caller = '';
  let callee = '';
  /** @type {number | null} */
  let pending = null;
  for (const line of text.split('\n')) {
    if (pending !== null) {
      const fields = line.trim().split(/\s+/);
      yield { caller, callee, count: pending, inclusive: Number(fields[positions] ?? 0) };
      pending = null;
    } else if (line.startsWith('fn=')) caller = nameOf(line.slice(3));
    else if (line.startsWith('cfn=')) callee = nameOf(line.slice(4));
    else if (line.startsWith('calls=')) pending = Number(line.slice(6).trim().split(/\s+/)[0]);
  }
}

/** V8's collectors, by the function each one runs (x64 Node.js builds keep these symbols). */
const COLLECTORS = {
  minor: ['v8::internal::Heap::Scavenge()', 'v8::internal::Heap::MinorMarkSweep()'],
  major: ['v8::internal::Heap::MarkCompact()'],
};
const COLLECT_GARBAGE = 'v8::internal::Heap::CollectGarbage(';

/**
 * Garbage collections in a dump's window: minor (scavenges) and major (mark-compact) ones,
 * counted from the calls to V8's collectors, and the instructions of the collections'
 * atomic pauses (inclusive cost of `Heap::CollectGarbage`; incremental marking steps done
 * between pauses are not in it).
 * @param {string} text
 */
export function gcInWindow(text) {
  let minor = 0;
  let major = 0;
  let ir = 0;
  for (const call of dumpCalls(text)) {
    if (COLLECTORS.minor.includes(call.callee)) minor += call.count;
    else if (COLLECTORS.major.includes(call.callee)) major += call.count;
    // Calls from outside the collector only: a nested call's cost is already in its caller's.
    if (call.callee.startsWith(COLLECT_GARBAGE) && !call.callee.includes('{lambda') && !call.caller.includes('CollectGarbage')) {
      ir += call.inclusive;
    }
  }
  return { minor, major, ir };
}

const COMPILER = 'v8::internal::Compiler::';

/**
 * Instructions V8 spent compiling in a dump's window: the inclusive cost of the calls into
 * its compiler's entry points (`v8::internal::Compiler::Compile`, `CompileOptimized`,
 * `CompileBaseline`, …: bytecode, Sparkplug, Maglev and TurboFan, all on the main thread
 * under --single-threaded) from outside them. Compilation is the cost of warming up, not of
 * a request: a function that reaches an optimizing tier, or is re-optimized after a
 * deoptimization, adds tens of millions of instructions to whichever window it falls in.
 * @param {string} text
 */
export function jitInWindow(text) {
  let ir = 0;
  for (const call of dumpCalls(text)) {
    if (call.callee.startsWith(COMPILER) && !call.caller.startsWith(COMPILER)) ir += call.inclusive;
  }
  return ir;
}

/**
 * Reads a V8 perf map (`/tmp/perf-<pid>.map`, written by `node --perf-basic-prof`): one
 * `start size name` line per piece of generated code, start and size in hex.
 * @param {string} text
 * @returns {Array<{start: bigint, end: bigint, name: string}>} sorted by start; where code
 *   was replaced at the same address, the later entry wins
 */
export function parsePerfMap(text) {
  /** @type {Map<bigint, {start: bigint, end: bigint, name: string}>} */
  const byStart = new Map();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.*)$/.exec(line);
    if (!match) continue;
    const start = BigInt(`0x${match[1]}`);
    byStart.set(start, { start, end: start + BigInt(`0x${match[2]}`), name: match[3] });
  }
  return [...byStart.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/**
 * The perf-map entry holding `address`, or null.
 * @param {Array<{start: bigint, end: bigint, name: string}>} map from {@link parsePerfMap}
 * @param {bigint} address
 */
export function symbolAt(map, address) {
  let low = 0;
  let high = map.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (map[mid].start <= address) low = mid + 1;
    else high = mid - 1;
  }
  const entry = map[high];
  return entry && address < entry.end ? entry : null;
}

/**
 * Renames, in a callgrind dump, the functions callgrind could only name by address (V8's
 * generated code: `fn=(7) 0x000000002807e400`) after the perf-map entry holding that
 * address, so that callgrind_annotate shows `JS:*handler /path:12:3` instead (and adds up
 * the pieces of one function, which callgrind may have seen as several). Returns the new
 * text and how many names were resolved.
 * @param {string} text @param {Array<{start: bigint, end: bigint, name: string}>} map
 */
export function symbolizeDump(text, map) {
  let resolved = 0;
  let unresolved = 0;
  const out = text.replace(/^(c?fn=\(\d+\)) (0x[0-9a-fA-F]+)$/gm, (whole, head, address) => {
    const entry = symbolAt(map, BigInt(address));
    if (!entry) {
      unresolved++;
      return whole;
    }
    resolved++;
    return `${head} ${entry.name}`;
  });
  return { text: out, resolved, unresolved };
}

/**
 * The function lines of `callgrind_annotate`'s output: cost, share and name.
 * @param {string} text
 * @returns {Array<{ir: number, percent: number, name: string}>}
 */
export function parseAnnotate(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    const match = /^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)$/.exec(line);
    if (!match || match[3].includes('PROGRAM TOTALS')) continue;
    rows.push({ ir: Number(match[1].replaceAll(',', '')), percent: Number(match[2]), name: match[3].replace(/^\?\?\?:/, '') });
  }
  return rows;
}
