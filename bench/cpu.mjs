// What the CPU did during a run, from /proc: how much of each core the host stole, and
// how much CPU time the server's processes used. On a virtual machine the host may run
// other guests on "our" cores; a run during which it did measures the host, not the
// server, so run.mjs repeats it. CPU time per request is the figure that steal does not
// move: time the host takes is not charged to the guest's processes.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Per-CPU jiffies from /proc/stat (`cpu` is the machine), or null where there is none. */
export function cpuTimes() {
  const text = readProc('/proc/stat');
  if (text === null) return null;
  const times = {};
  for (const line of text.split('\n')) {
    const match = /^(cpu\d*)\s+(.*)$/.exec(line);
    if (!match) continue;
    // user nice system idle iowait irq softirq steal guest guest_nice
    const fields = match[2].trim().split(/\s+/).map(Number);
    const steal = fields[7] ?? 0;
    const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0);
    times[match[1]] = { total, steal };
  }
  return times;
}

/**
 * The largest share of time stolen from any of `cpus` (core numbers; null = the machine as a
 * whole) between two {@link cpuTimes} snapshots, or null when it cannot be known.
 */
export function stolenShare(before, after, cpus) {
  if (!before || !after) return null;
  const names = cpus === null ? ['cpu'] : cpus.map((n) => `cpu${n}`);
  let worst = 0;
  for (const name of names) {
    const a = before[name];
    const b = after[name];
    if (!a || !b) return null;
    const total = b.total - a.total;
    if (total > 0) worst = Math.max(worst, (b.steal - a.steal) / total);
  }
  return worst;
}

let ticksPerSecond;

/**
 * CPU seconds (user + system, all threads) used so far by process `pid` and every process
 * below it — the arbiter and its worker, Gunicorn's master and its worker — or null where
 * /proc cannot tell.
 */
export function processTreeCpuSeconds(pid) {
  ticksPerSecond ??= clockTicks();
  let ticks = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop();
    const stat = readProc(`/proc/${next}/stat`);
    if (stat === null) {
      if (next === pid) return null;
      continue; // a child that exited between the two reads
    }
    // The command name may contain spaces and parentheses: fields are counted after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    pending.push(...childrenOf(next));
  }
  return ticks / ticksPerSecond;
}

/** The pids of the processes `pid` started (that are still running). */
export function childrenOf(pid) {
  const children = [];
  for (const task of readDir(`/proc/${pid}/task`)) {
    const list = readProc(`/proc/${pid}/task/${task}/children`);
    if (list) children.push(...list.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return children;
}

function clockTicks() {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(out.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
}

function readProc(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readDir(path) {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
