/**
 * Running a generated Carafe project the way its user would — `npm install`, `npm test`,
 * `npm start`, `npm run dev` — from end-to-end tests, in an environment that does not leak this
 * repository's own npm or vitest run into the project's.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * The environment for a generated project's commands: ours without what would make npm or vitest
 * think they are nested in this repository's run (npm_config_* would redirect npm), and without
 * MONGODB_URI unless a test gives one.
 */
export function projectEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|TINYPOOL)/i.test(key) || ['NODE_ENV', 'MONGODB_URI', 'MONGODB_DB', 'FORCE_COLOR'].includes(key)) continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

/** Runs a command to completion (killed after `timeoutMs`). */
export function run(command: string, args: string[], cwd: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return spawnSync(command, args, {
    cwd,
    env: options.env ?? projectEnv(),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
}

/** A command's result, for an error message. */
export const output = (result: SpawnSyncReturns<string>) =>
  `exit ${result.status}${result.signal ? ` (${result.signal})` : ''}${result.error ? ` ${result.error.message}` : ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;

/** Throws with the command's output unless it exited 0; returns the result. */
export function expectSuccess(result: SpawnSyncReturns<string>): SpawnSyncReturns<string> {
  if (result.status !== 0) throw new Error(`command failed: ${output(result)}`);
  return result;
}

/** What every npm command here runs with: no audit or funding requests, the cache first. */
export const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline'];

export function npmInstall(dir: string, ...args: string[]): SpawnSyncReturns<string> {
  return expectSuccess(run('npm', ['install', ...NPM_FLAGS, ...args], dir, { timeoutMs: 120_000 }));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A long-running npm script in its own process group, with everything it printed. */
export interface Running {
  child: ChildProcess;
  base: string;
  log(): string;
  /** Resolves when the whole command has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<Running>();

/**
 * `npm <args>` (`start`, `run dev`) with PORT set, in its own process group so the whole tree
 * (npm, sh, scripts, arbiter, workers) can be signalled at once as a terminal's Ctrl-C would;
 * resolves once GET /healthz answers 200.
 */
export async function npmServe(dir: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Running> {
  const port = await freePort();
  const child = spawn('npm', args, { cwd: dir, env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (chunk) => (log += chunk));
  child.stderr!.on('data', (chunk) => (log += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const serving: Running = { child, base: `http://127.0.0.1:${port}`, log: () => log, exited };
  running.add(serving);
  void exited.then(() => running.delete(serving));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm ${args.join(' ')} exited with ${child.exitCode}:\n${log}`);
    try {
      const res = await fetch(`${serving.base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return serving;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`/healthz did not answer 200 within ${timeoutMs / 1000} s:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Signals the process group; SIGKILL if it has not exited after `graceMs`. Resolves with how npm ended. */
export async function stopGroup(serving: Running, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
  const signalGroup = (which: NodeJS.Signals) => {
    try {
      process.kill(-serving.child.pid!, which);
    } catch {
      // Already gone.
    }
  };
  signalGroup(signal);
  const killer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
  const result = await serving.exited;
  clearTimeout(killer);
  return result;
}

/** Stops whatever a test left running (for afterAll). */
export async function stopAllServing(): Promise<void> {
  await Promise.all([...running].map((serving) => stopGroup(serving)));
}
