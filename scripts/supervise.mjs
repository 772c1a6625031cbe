// The embedded FerretDB under `npm start`, supervised:
//   - a FerretDB that dies is restarted on the same port and data directory, with backoff
//     (0.2 s, 0.4 s, 0.8 s, 1.6 s, 3.2 s); after more than 5 failures within a minute the
//     supervisor gives up and says so through `failed` (start.mjs then stops the server and exits 1);
//   - one FerretDB per data directory: `<dataDir>/ferretdb.pid` is both the lock (created with O_EXCL
//     by the supervisor that owns the directory) and the record of who runs there (the supervisor,
//     FerretDB and its watchdog, each with its /proc start time so a reused pid is not mistaken for
//     it). A lock left by a killed run is stale: its FerretDB, found through the pid file and through
//     /proc (any `ferretdb --state-dir=<dataDir>`), is stopped before a new one starts. A lock whose
//     supervisor still runs is refused: two `npm start` never share a directory;
//   - a watchdog, a tiny process of its own, stops FerretDB when the supervisor dies without
//     stopping it (SIGKILL of `npm start`'s process group): FerretDB runs in its own process group,
//     so that a terminal's Ctrl-C reaches only the server, which drains before FerretDB stops.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { startFerretDB } from './ferretdb.mjs';

export const PID_FILE = 'ferretdb.pid';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, …]; null when there is no such process. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** A process's start time (clock ticks since boot): with the pid, it names one process for good. */
export function startTime(pid) {
  return procStat(pid)?.[19] ?? null;
}

/** True when the process that had this pid and start time still runs (and is not a zombie). */
function running(pid, start) {
  if (!pid) return false;
  const stat = procStat(pid);
  if (stat) return stat[0] !== 'Z' && (start == null || stat[19] === start);
  try {
    process.kill(pid, 0); // no /proc (not Linux): the pid alone
    return true;
  } catch {
    return false;
  }
}

/** Pids of every FerretDB process serving `dataDir` (Linux: from /proc; elsewhere none are found). */
export function ferretdbProcessesFor(dataDir) {
  const dir = resolve(dataDir);
  if (!existsSync('/proc')) return [];
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args;
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (basename(args[0] ?? '') === 'ferretdb' && args.includes(`--state-dir=${dir}`) && procStat(entry)?.[0] !== 'Z') {
      found.push(Number(entry));
    }
  }
  return found;
}

export function readPidFile(dataDir) {
  try {
    return JSON.parse(readFileSync(join(resolve(dataDir), PID_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function terminate(pid, graceMs = 5_000) {
  try {
    process.kill(pid, 'SIGTERM');
    process.kill(pid, 'SIGCONT'); // a stopped process must run to handle SIGTERM
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (running(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      for (let i = 0; i < 50 && running(pid); i++) await sleep(100);
      return;
    }
    await sleep(50);
  }
}

/**
 * Takes the data directory's lock for this process. A lock whose supervisor is gone is stale: the
 * FerretDB it left (and any other FerretDB on the directory without a live parent) is stopped
 * first. Throws when another live supervisor holds the directory.
 */
async function lockDataDir(dir, log) {
  const file = join(dir, PID_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${JSON.stringify(record({}))}\n`);
      closeSync(fd);
      // No lock file, but a FerretDB on the directory: left by a run killed before it wrote one,
      // or started by hand. Stop it only when nothing owns it any more (its parent is gone).
      try {
        for (const pid of ferretdbProcessesFor(dir)) await stopStale(pid, dir, log, null);
      } catch (error) {
        rmSync(file, { force: true });
        throw error;
      }
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const held = readPidFile(dir);
    if (held && running(held.supervisor, held.supervisorStart)) {
      throw new Error(
        `ferretdb: ${dir} is in use by another \`npm start\` (pid ${held.supervisor}, FerretDB pid ${held.pid}); ` +
          'stop it first, or give this one its own FERRETDB_DATA_DIR',
      );
    }
    for (const pid of new Set([held?.pid, ...ferretdbProcessesFor(dir)].filter(Boolean))) await stopStale(pid, dir, log, held);
    if (held?.watchdog && running(held.watchdog, held.watchdogStart)) await terminate(held.watchdog, 1_000);
    rmSync(file, { force: true });
  }
  throw new Error(`ferretdb: could not lock ${file}`);
}

async function stopStale(pid, dir, log, held) {
  const known = held && held.pid === pid;
  if (known && !running(pid, held.ferretStart)) return; // the pid is someone else's now
  if (!known) {
    const ppid = Number(procStat(pid)?.[1]);
    if (ppid > 1 && running(ppid) && ppid !== process.pid) {
      throw new Error(`ferretdb: a FerretDB (pid ${pid}, started by pid ${ppid}) already serves ${dir}; stop it first`);
    }
  }
  log(`stopping a stale FerretDB (pid ${pid}) left on ${dir} by a run that was killed`);
  await terminate(pid);
}

function record(fields) {
  return { supervisor: process.pid, supervisorStart: startTime(process.pid), ...fields };
}

/**
 * The watchdog: a detached process that reads FerretDB's pid on its stdin, a pipe only this
 * process writes to. When the pipe closes without a "0" (this process died), it stops FerretDB.
 */
const WATCHDOG = `
process.title = 'carafe-ferretdb-watchdog';
let pid = 0, start = null, text = '';
const fs = require('node:fs');
const stat = (p) => { try { const s = fs.readFileSync('/proc/' + p + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' '); } catch { return null; } };
const startOf = (p) => stat(p)?.[19] ?? null;
const alive = (p) => { const s = stat(p); if (s) return s[0] !== 'Z'; try { process.kill(p, 0); return true; } catch { return false; } };
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  text += d;
  const lines = text.split('\\n');
  text = lines.pop();
  for (const line of lines) { pid = Number(line) || 0; start = pid ? startOf(pid) : null; }
});
process.stdin.on('end', async () => {
  if (!pid || (start !== null && startOf(pid) !== start)) process.exit(0);
  try { process.kill(pid, 'SIGTERM'); process.kill(pid, 'SIGCONT'); } catch { process.exit(0); }
  for (let i = 0; i < 50; i++) {
    if (!alive(pid)) process.exit(0);
    await new Promise((r) => setTimeout(r, 100));
  }
  try { process.kill(pid, 'SIGKILL'); } catch {}
  process.exit(0);
});
`;

function startWatchdog() {
  const child = spawn(process.execPath, ['-e', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  child.stdin.on('error', () => {});
  return {
    pid: child.pid,
    watch: (pid) => child.stdin.writable && child.stdin.write(`${pid}\n`),
    release: () => {
      if (child.stdin.writable) child.stdin.end('0\n');
    },
  };
}

/**
 * Starts FerretDB on `dataDir` (see the top of this file) and keeps it running.
 *
 * @param {{ dataDir: string, maxFailures?: number, windowMs?: number, backoffMs?: number[],
 *   log?: (message: string) => void, onRestart?: (info: { pid: number, uri: string }) => void }} options
 * @returns {Promise<{ uri: string, port: number, dataDir: string, readonly pid: number,
 *   failed: Promise<Error>, stop: () => Promise<void> }>}
 *   `failed` resolves (it never rejects) when the supervisor gives up; `stop()` stops FerretDB for good.
 */
export async function superviseFerretDB({
  dataDir,
  maxFailures = 5,
  windowMs = 60_000,
  backoffMs = [200, 400, 800, 1_600, 3_200],
  log = (message) => console.error(`start: ${message}`),
  onRestart = () => {},
}) {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  await lockDataDir(dir, log);
  const pidFile = join(dir, PID_FILE);
  const watchdog = startWatchdog();

  let current;
  try {
    current = await startFerretDB({ dataDir: dir, detached: true });
  } catch (error) {
    watchdog.release();
    rmSync(pidFile, { force: true });
    throw error;
  }
  const { port, uri } = current;
  const publish = (server) => {
    watchdog.watch(server.pid);
    const fields = { pid: server.pid, ferretStart: startTime(server.pid), port, uri, dataDir: dir, watchdog: watchdog.pid };
    // Written aside and renamed over the pid file: a reader (a second start, a test) never sees it half-written.
    const next = `${pidFile}.${process.pid}.tmp`;
    writeFileSync(next, `${JSON.stringify(record({ ...fields, watchdogStart: startTime(watchdog.pid) }))}\n`);
    renameSync(next, pidFile);
  };
  publish(current);

  let stopping = false;
  let giveUp;
  const failed = new Promise((r) => (giveUp = r));
  const failures = [];

  const watch = async (server) => {
    const { code, signal } = await server.exited;
    if (stopping) return;
    log(`FerretDB (pid ${server.pid}) exited unexpectedly (${signal ?? `code ${code}`})`);
    const tail = server.logTail?.();
    if (tail) log(`its last log lines (${server.logFile}):\n${tail}`);
    for (;;) {
      const now = Date.now();
      failures.push(now);
      while (failures[0] < now - windowMs) failures.shift();
      if (failures.length > maxFailures) {
        stopping = true;
        watchdog.release();
        rmSync(pidFile, { force: true });
        giveUp(new Error(`FerretDB failed ${failures.length} times within ${windowMs / 1000} s; giving up`));
        return;
      }
      const delay = backoffMs[Math.min(failures.length, backoffMs.length) - 1];
      log(`restarting FerretDB in ${delay} ms (failure ${failures.length} of at most ${maxFailures} per ${windowMs / 1000} s)`);
      await sleep(delay);
      if (stopping) return;
      try {
        const next = await startFerretDB({ dataDir: dir, port, detached: true, timeoutMs: 15_000 });
        if (stopping) {
          await next.stop();
          return;
        }
        current = next;
        publish(next);
        log(`FerretDB is back (pid ${next.pid}) at ${uri}`);
        onRestart({ pid: next.pid, uri });
        void watch(next);
        return;
      } catch (error) {
        log(`FerretDB did not restart: ${String(error instanceof Error ? error.message : error).split('\n')[0]}`);
      }
    }
  };
  void watch(current);

  return {
    uri,
    port,
    dataDir: dir,
    get pid() {
      return current.pid;
    },
    failed,
    async stop() {
      stopping = true;
      watchdog.release();
      await current.stop();
      const held = readPidFile(dir);
      if (!held || held.supervisor === process.pid) rmSync(pidFile, { force: true });
    },
  };
}
