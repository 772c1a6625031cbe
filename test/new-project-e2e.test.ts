/**
 * `carafe new` end to end, the way a newcomer uses it: the real CLI generates a project in a
 * temporary directory outside the repository, `npm install` installs it (from this checkout's
 * packages and the npm cache), then the project's own `npm test` passes and `npm start` serves
 * /healthz on the PORT it is given. The --mongo variant runs its tests against the embedded
 * FerretDB it starts itself, and serves from MongoDB with several workers.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'packages', 'server', 'dist', 'cli.js');
const FERRETDB = join(REPO, '.tools', 'bin', 'ferretdb');
/** Per command; the whole file stays under two minutes even when every step is slow. */
const STEP_TIMEOUT_MS = 45_000;
const TEST_TIMEOUT_MS = 58_000;

const scratch = mkdtempSync(join(tmpdir(), 'carafe-new-project-e2e-'));
const started: ChildProcess[] = [];

/**
 * The environment for the generated project's commands: ours without what would make npm or
 * vitest think they are nested in this repository's run (npm_config_* would redirect npm).
 */
function projectEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|TINYPOOL)/i.test(key) || ['NODE_ENV', 'MONGODB_URI', 'FORCE_COLOR'].includes(key)) continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

function run(command: string, args: string[], cwd: string, env = projectEnv()): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: STEP_TIMEOUT_MS, killSignal: 'SIGKILL' });
}

const output = (result: SpawnSyncReturns<string>) =>
  `exit ${result.status}${result.signal ? ` (${result.signal})` : ''}${result.error ? ` ${result.error.message}` : ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;

function expectSuccess(result: SpawnSyncReturns<string>): void {
  if (result.status !== 0) throw new Error(`command failed: ${output(result)}`);
}

function carafeNew(...args: string[]): SpawnSyncReturns<string> {
  return run(process.execPath, [CLI, 'new', ...args], scratch);
}

function npmInstall(dir: string): void {
  expectSuccess(run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `npm start` in its own process group, so the whole tree (npm, sh, arbiter, workers) can be stopped. */
async function npmStart(dir: string, env: NodeJS.ProcessEnv): Promise<{ base: string; log: () => string }> {
  const port = await freePort();
  const child = spawn('npm', ['start'], { cwd: dir, env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let log = '';
  child.stdout!.on('data', (chunk) => (log += chunk));
  child.stderr!.on('data', (chunk) => (log += chunk));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${log}`);
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return { base, log: () => log };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`/healthz did not answer 200 within 30 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops a process group: SIGTERM, then SIGKILL if it is still there after a few seconds. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGTERM');
  const killer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b), as npm test does`);
});

afterAll(async () => {
  await Promise.all(started.map(stopGroup));
  rmSync(scratch, { recursive: true, force: true });
});

describe('carafe new (default: in-memory notes)', () => {
  const dir = join(scratch, 'my-api');

  it('generates a project that installs, passes its own tests and serves /healthz on PORT', { timeout: TEST_TIMEOUT_MS }, async () => {
    const created = carafeNew(dir);
    expectSuccess(created);
    expect(created.stdout).toContain(`Created my-api in ${dir}`);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies['@carafe/core']).toBe(
      `file:${join(REPO, 'packages', 'core')}`,
    );

    npmInstall(dir);

    const tested = run('npm', ['test'], dir);
    expectSuccess(tested);
    expect(tested.stdout).toMatch(/Tests\s+4 passed/);

    const { base, log } = await npmStart(dir, projectEnv());
    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const created201 = await fetch(`${base}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'from the test' }),
    });
    expect(created201.status).toBe(201);
    const note = (await created201.json()) as { id: string };
    expect(await (await fetch(`${base}/notes/${note.id}`)).json()).toMatchObject({ title: 'from the test' });
    const invalid = await fetch(`${base}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // The access log from carafe.config.js.
    await expect.poll(log, { timeout: 5_000 }).toMatch(/"GET \/healthz HTTP\/1\.1" 200/);
  });

  it('refuses to write into the now non-empty directory without --force', () => {
    const before = readFileSync(join(dir, 'src', 'app.ts'), 'utf8');
    const refused = carafeNew(dir);
    expect(refused.status, output(refused)).toBe(2);
    expect(refused.stderr).toContain(`carafe new: ${dir} is not empty; refusing to write into it`);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'src', 'app.ts'), 'utf8')).toBe(before);
  });
});

describe('carafe new --mongo', () => {
  const dir = join(scratch, 'mongo-api');

  it('runs its tests on the embedded FerretDB and serves notes from MongoDB across workers', { timeout: TEST_TIMEOUT_MS }, async () => {
    expectSuccess(carafeNew(dir, '--mongo'));
    npmInstall(dir);

    // The project would build FerretDB into its own .tools/bin with Go on first use; lend it the
    // repository's build instead of spending minutes on that here.
    if (!existsSync(FERRETDB)) throw new Error(`${FERRETDB} is missing: run bash scripts/install-ferretdb.sh`);
    mkdirSync(join(dir, '.tools', 'bin'), { recursive: true });
    symlinkSync(FERRETDB, join(dir, '.tools', 'bin', 'ferretdb'));

    // No MONGODB_URI: scripts/with-mongodb.mjs starts FerretDB around vitest.
    const tested = run('npm', ['test'], dir);
    expectSuccess(tested);
    expect(tested.stdout).toMatch(/Tests\s+4 passed/);
    expect(tested.stderr).toMatch(/with-mongodb: embedded FerretDB at mongodb:\/\/127\.0\.0\.1:\d+/);

    // Served by two workers, against the test run's MongoDB-compatible server.
    const { base } = await npmStart(dir, projectEnv({ MONGODB_URI: inject('mongodbUri'), MONGODB_DB: `new_project_${process.pid}` }));
    const created = await fetch(`${base}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'stored' }),
    });
    expect(created.status).toBe(201);
    const note = (await created.json()) as { id: string };
    expect(note.id).toMatch(/^[0-9a-f]{24}$/);
    // Whichever worker answers, the note is there.
    for (let i = 0; i < 4; i++) {
      expect(await (await fetch(`${base}/notes/${note.id}`)).json()).toMatchObject({ id: note.id, title: 'stored' });
    }
  });
});
