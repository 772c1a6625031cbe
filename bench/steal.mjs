// Steal time: on a virtual machine the host may run other guests on "our" cores. A run
// during which it did is not a measurement of the server, so run.mjs repeats it.
import { readFileSync } from 'node:fs';

/** Per-CPU jiffies from /proc/stat (`cpu` is the machine), or null where there is none. */
export function cpuTimes() {
  let text;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
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
