/**
 * Runs the real `carafe serve` CLI (packages/server/dist/cli.js — build with `npx tsc -b` first)
 * as a child process for end-to-end tests, and waits until it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CARAFE_CLI = resolve(ROOT, 'packages/server/dist/cli.js');
export const REST_API_MODULE = resolve(ROOT, 'examples/rest-api/dist/app.js');

export interface CarafeProcess {
  child: ChildProcess;
  /** Everything written so far to stdout and to stderr. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM (graceful shutdown), then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Where to probe a server: a TCP port on loopback or a unix socket path. */
export type Target = { port: number } | { socketPath: string };

/** One GET on the target; resolves with status and body, rejects on connection errors. */
export function get(target: Target, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ ...target, host: '127.0.0.1', path, headers, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts `node packages/server/dist/cli.js serve MODULE ...args` and resolves once `target`
 * answers `GET readyPath` with 200 (bounded by `timeoutMs`; the error carries the server's output).
 */
export async function startCarafe(options: {
  args: string[];
  env?: NodeJS.ProcessEnv;
  target: Target;
  readyPath?: string;
  timeoutMs?: number;
  cwd?: string;
}): Promise<CarafeProcess> {
  if (!existsSync(CARAFE_CLI) || !existsSync(REST_API_MODULE)) {
    throw new Error(`${CARAFE_CLI} or ${REST_API_MODULE} is missing: run \`npx tsc -b\` before the end-to-end tests`);
  }
  const child = spawn(process.execPath, [CARAFE_CLI, 'serve', ...options.args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const stop = async (graceMs = 15_000) => {
    if (!hasExited) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const result = await exited;
    clearTimeout(killer);
    return result;
  };
  const running: CarafeProcess = { child, output: () => ({ stdout, stderr }), stop };

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const answer = await get(options.target, options.readyPath ?? '/healthz').catch(() => undefined);
    if (answer?.status === 200) return running;
    if (hasExited || Date.now() > deadline) {
      await stop(1_000);
      throw new Error(
        `carafe serve ${options.args.join(' ')} ${hasExited ? 'exited' : 'did not answer in time'}.\n` +
          `stdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
