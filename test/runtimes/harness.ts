/**
 * Serving one app on Node (`carafe serve`), Bun, Deno and workerd from the entry files of the root
 * README's "Runs on" section, exactly as written there: the section's blocks are written into a
 * scratch directory beside the app module (test/fixtures/runtimes/), the runtimes come from
 * `scripts/install-runtimes.sh` (the npm registry, into .tools/runtimes/), and each server is
 * started on a free loopback port and waited for.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
// @ts-expect-error -- plain ES module shared with the bench, without type declarations
import { esbuildForWorkerd, WORKERD_BUNDLE_FLAGS } from '../../scripts/runtimes.mjs';

export const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/runtimes');
const CARAFE_CLI = join(ROOT, 'packages/server/dist/cli.js');

export type Runtime = 'node' | 'bun' | 'deno' | 'workerd';
export const RUNTIMES: Runtime[] = ['node', 'bun', 'deno', 'workerd'];

/** Which app a server serves: the Carafe app (app.js), or the TSGI probes alone (probes.js, no @carafe/core). */
export type AppKind = 'carafe' | 'tsgi';

/** The commands and files of the README's "Runs on" section. */
export const README = (() => {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /<!-- example:runs-on:start -->([\s\S]*?)<!-- example:runs-on:end -->/.exec(text)?.[1];
  if (section === undefined) throw new Error('README.md has no <!-- example:runs-on:start/end --> section');
  const files = new Map<string, string>();
  for (const [, source] of section.matchAll(/```(?:js|capnp)\n([\s\S]*?)```/g)) {
    const name = /^(?:\/\/|#) ([\w.-]+\.(?:js|capnp))\n/.exec(source!)?.[1];
    if (name !== undefined) files.set(name, source!);
  }
  for (const name of ['server.bun.js', 'server.deno.js', 'worker.js', 'config.capnp']) {
    if (!files.has(name)) throw new Error(`README.md's "Runs on" section has no block starting with the line naming ${name}`);
  }
  return { section, files };
})();

/** The commands the test runs, each of which the README shows as written (only the port differs). */
export const COMMANDS = {
  node: 'npx carafe serve app.js --bind 127.0.0.1:8000',
  bun: 'bun server.bun.js',
  deno: 'deno run --allow-net --allow-env --allow-read server.deno.js',
  bundle: `npx esbuild worker.js ${(WORKERD_BUNDLE_FLAGS as string[]).join(' ')} --outfile=worker.bundle.js`,
  workerd: 'npx workerd serve config.capnp',
};

let installed: { bin: string } | { error: string } | undefined;

/** Installs (or finds) Bun, Deno and workerd with the project's provisioning script. */
function runtimesBin(): string {
  installed ??= (() => {
    const result = spawnSync('bash', [join(ROOT, 'scripts/install-runtimes.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (result.status === 0) return { bin: result.stdout.trim() };
    return {
      error: `scripts/install-runtimes.sh failed (status ${result.status}${result.error ? `, ${result.error.message}` : ''}):\n${result.stderr}`,
    };
  })();
  if ('error' in installed) throw new Error(`cannot install Bun, Deno and workerd: ${installed.error}`);
  return installed.bin;
}

/** A scratch directory holding the app and the README's entry files. */
export function prepareDir(kind: AppKind): string {
  const dir = join(ROOT, 'test/runtimes', `.readme-example-${process.pid}-${kind}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, 'probes.js'), join(dir, 'probes.js'));
  if (kind === 'carafe') copyFileSync(join(FIXTURES, 'app.js'), join(dir, 'app.js'));
  else
    writeFileSync(
      join(dir, 'app.js'),
      "// The TSGI probes alone: the fetch binding's own test, without @carafe/core.\nexport { app } from './probes.js';\n",
    );
  for (const [name, source] of README.files) writeFileSync(join(dir, name), source);
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export interface Served {
  runtime: Runtime;
  kind: AppKind;
  base: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npx x args` → [binary, args] for this machine. */
function argv(command: string): string[] {
  return command.split(' ').slice(command.startsWith('npx ') ? 1 : 0);
}

function bundleWorker(dir: string): void {
  // The README's command; the shared helper names the modules workerd lacks when it fails.
  const [, ...args] = argv(COMMANDS.bundle);
  esbuildForWorkerd(args, dir, COMMANDS.bundle);
}

function spawnRuntime(runtime: Runtime, dir: string, port: number): ChildProcess {
  const env = { ...process.env, PORT: String(port), NO_COLOR: '1' };
  const options: SpawnOptions = { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] };
  switch (runtime) {
    case 'node': {
      if (!existsSync(CARAFE_CLI)) throw new Error(`${CARAFE_CLI} is missing: run \`npx tsc -b\` first`);
      const args = argv(COMMANDS.node)
        .slice(1)
        .map((arg) => (arg === '127.0.0.1:8000' ? `127.0.0.1:${port}` : arg));
      return spawn(process.execPath, [CARAFE_CLI, ...args], options);
    }
    case 'bun':
      return spawn(join(runtimesBin(), 'bun'), argv(COMMANDS.bun).slice(1), options);
    case 'deno':
      return spawn(join(runtimesBin(), 'deno'), argv(COMMANDS.deno).slice(1), options);
    case 'workerd': {
      const bin = runtimesBin();
      bundleWorker(dir);
      return spawn(join(bin, 'workerd'), [...argv(COMMANDS.workerd).slice(1), '--socket-addr', `http=127.0.0.1:${port}`], options);
    }
  }
}

/** Starts `runtime` serving the app of `dir` and resolves once it answers. */
export async function serveOn(runtime: Runtime, kind: AppKind, dir: string, timeoutMs = 20_000): Promise<Served> {
  const port = await freePort();
  const child = spawnRuntime(runtime, dir, port);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) => {
    if (!hasExited) child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const result = await exited;
    clearTimeout(killer);
    return result;
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await fetch(`${base}/tsgi/environ`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (answer !== undefined) {
      await answer.arrayBuffer();
      if (answer.status === 200) return { runtime, kind, base, port, child, output: () => output, stop };
    }
    if (hasExited || Date.now() > deadline) {
      await stop('SIGKILL');
      throw new Error(
        `${runtime} did not serve ${kind === 'carafe' ? 'the Carafe app' : 'the TSGI probes'} (${hasExited ? 'it exited' : 'no answer in time'}):\n${output.slice(-4000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
