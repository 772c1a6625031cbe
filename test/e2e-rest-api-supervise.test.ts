/**
 * The embedded FerretDB under `npm start` is supervised (scripts/supervise.mjs, used by
 * scripts/start.mjs): a FerretDB killed with kill -9 is back within seconds and the API serves;
 * SIGKILL of the whole `npm start` process group leaves no second FerretDB behind on the next
 * start (the pid file on the data directory and /proc are checked); after repeated failures the
 * supervisor gives up and the exit status is non-zero.
 *
 * The first run goes through `npm start` itself (scripts/run.mjs: dependencies, `tsc -b`, then
 * start.mjs in-process); the later ones run `node scripts/start.mjs` directly, to stay fast.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../scripts/ferretdb.mjs';
import { ROOT } from './setup/carafe.js';

const dataDir = mkdtempSync(join(tmpdir(), 'carafe-supervise-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | null>;
}
const runs: Run[] = [];

/** Starts `npm start` or `node scripts/start.mjs` in a process group of its own and waits until it is ready. */
async function start(how: 'npm' | 'direct', port: number): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), FERRETDB_DATA_DIR: dataDir };
  delete env.MONGODB_URI; // the embedded database is the point
  delete env.MONGODB_DB;
  const [command, args] = how === 'npm' ? ['npm', ['start']] : [process.execPath, [join(ROOT, 'scripts/start.mjs')]];
  const child = spawn(command as string, args as string[], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const run = { child, port, output: () => output, exited };
  runs.push(run);
  for (let i = 0; !output.includes(`ready at http://127.0.0.1:${port}/`); i++) {
    if (i > 1200 || child.exitCode !== null) throw new Error(`${how} start did not get ready:\n${output}`);
    await sleep(100);
  }
  return run;
}

/** The pid file the supervisor keeps on the data directory. */
function pidFile(): { pid: number; supervisor: number; watchdog: number; port: number } {
  return JSON.parse(readFileSync(join(dataDir, 'ferretdb.pid'), 'utf8'));
}

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}
/** Running, not merely a zombie nobody has reaped yet. */
const alive = (pid: number) => {
  const state = procState(pid);
  return state !== null && state !== 'Z';
};

/** Every live FerretDB process on our data directory, from /proc (independently of the code under test). */
function ferretdbsOnDataDir(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        return basename(args[0] ?? '') === 'ferretdb' && args.includes(`--state-dir=${dataDir}`) && alive(Number(entry));
      } catch {
        return false;
      }
    })
    .map(Number);
}

function expectExactlyOneFerretDB(): number {
  const { pid } = pidFile();
  expect(ferretdbsOnDataDir()).toEqual([pid]);
  return pid;
}

async function api(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

afterAll(async () => {
  for (const run of runs) {
    try {
      process.kill(-run.child.pid!, 'SIGKILL');
    } catch {}
  }
  for (const pid of ferretdbsOnDataDir()) process.kill(pid, 'SIGKILL');
  if (existsSync(join(dataDir, 'ferretdb.pid'))) {
    try {
      process.kill(pidFile().watchdog, 'SIGKILL');
    } catch {}
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start with the embedded FerretDB, supervised', () => {
  let userId: string;
  let first: Run;

  it('runs exactly one FerretDB, recorded in the pid file on its data directory', async () => {
    if (!existsSync('/proc')) throw new Error('this test reads /proc: run it on Linux');
    first = await start('npm', (await freePort()) as number);
    const pid = expectExactlyOneFerretDB();
    expect(first.output()).toContain(`(pid ${pid}, data in ${dataDir})`);
    const created = await api(first.port, 'POST', '/api/users', { name: 'Kept', email: 'kept@example.com' });
    expect(created.status).toBe(201);
    userId = created.body.id;
  }, 180_000);

  it('brings a FerretDB killed with kill -9 back within a few seconds, and the API serves', async () => {
    const before = pidFile().pid;
    process.kill(before, 'SIGKILL');
    const killedAt = Date.now();
    // Back: a new FerretDB recorded in the pid file, and the API answering from it.
    await waitFor('a new FerretDB in the pid file', () => pidFile().pid !== before, 10_000);
    await waitFor(
      'the API serves again',
      async () => (await api(first.port, 'GET', `/api/users/${userId}`).catch(() => ({ status: 0 }))).status === 200,
      10_000,
    );
    const back = Date.now() - killedAt;
    expect((await api(first.port, 'POST', '/api/users', { name: 'After', email: 'after@example.com' })).status).toBe(201);
    const after = expectExactlyOneFerretDB();
    expect(after).not.toBe(before);
    console.log(`supervise: FerretDB pid ${before} killed with SIGKILL; pid ${after} serving, API answering, ${back} ms later`);
    expect(back).toBeLessThan(5_000);
    expect(first.output()).toMatch(new RegExp(`FerretDB \\(pid ${before}\\) exited unexpectedly \\(SIGKILL\\)`));
  });

  it('after SIGKILL of the whole run (watchdog included), the next start stops the stale FerretDB: one, never two', async () => {
    const stale = pidFile();
    // Everything of the run dies at once, like an OOM kill of the session: npm's process group and
    // the watchdog. FerretDB, in a process group of its own, is left running on the data directory.
    // The watchdog is killed first: with its SIGKILL pending it never runs again, whereas killed
    // second it could see its pipe close and stop FerretDB in between (it did, on Node 26 in CI).
    process.kill(stale.watchdog, 'SIGKILL');
    process.kill(-first.child.pid!, 'SIGKILL');
    await first.exited;
    await sleep(300);
    expect(alive(stale.pid)).toBe(true);
    expect(ferretdbsOnDataDir()).toEqual([stale.pid]);

    const second = await start('direct', (await freePort()) as number);
    expect(second.output()).toContain(`stopping a stale FerretDB (pid ${stale.pid})`);
    const pid = expectExactlyOneFerretDB();
    expect(pid).not.toBe(stale.pid);
    expect(alive(stale.pid)).toBe(false);
    expect((await api(second.port, 'GET', `/api/users/${userId}`)).status).toBe(200); // same data
    console.log(
      `supervise: stale FerretDB pid ${stale.pid} stopped by the next start; FerretDBs on the data directory now: [${ferretdbsOnDataDir()}]`,
    );

    // SIGKILL of the process group alone: the watchdog stops FerretDB by itself, and the next
    // start again finds exactly one.
    process.kill(-second.child.pid!, 'SIGKILL');
    const gone = await waitFor('the watchdog stops FerretDB', () => !alive(pid), 10_000);
    console.log(`supervise: npm start SIGKILLed; its watchdog stopped FerretDB pid ${pid} ${gone} ms later`);
    const third = await start('direct', (await freePort()) as number);
    expectExactlyOneFerretDB();
    expect((await api(third.port, 'GET', `/api/users/${userId}`)).status).toBe(200);
  }, 60_000);

  it('gives up after repeated failures, stops the server and exits non-zero', async () => {
    const run = runs.at(-1)!;
    if (run.child.exitCode !== null || run.child.signalCode !== null)
      throw new Error('this test needs the run the previous test leaves serving; that test failed first');
    const { pid, port } = pidFile();
    // FerretDB dies and its port is taken: every restart fails.
    process.kill(pid, 'SIGKILL');
    const blocker: Server = createServer();
    // Taken before the supervisor's first restart, 200 ms after the crash.
    await waitFor(
      'the port is ours',
      () =>
        new Promise<boolean>((resolve) => {
          blocker.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true));
        }),
      2_000,
    );
    try {
      const started = Date.now();
      const code = await Promise.race([run.exited, sleep(40_000).then(() => 'still running')]);
      console.log(`supervise: FerretDB could not restart; start exited with code ${code} after ${Date.now() - started} ms`);
      expect(code, run.output()).toBe(1);
      expect(run.output()).toMatch(/giving up; stopping the server/);
      expect(run.output()).toMatch(/Shutting down: arbiter/);
      expect(ferretdbsOnDataDir()).toEqual([]);
      expect(existsSync(join(dataDir, 'ferretdb.pid'))).toBe(false);
      await expect(api(run.port, 'GET', '/healthz')).rejects.toThrow();
    } finally {
      blocker.close();
    }
  }, 60_000);
});
