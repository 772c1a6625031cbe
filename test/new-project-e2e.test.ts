/**
 * `carafe new` end to end from this checkout, the way a contributor uses it: the real CLI generates a
 * project in a temporary directory outside the repository, `npm install` installs it (from this
 * checkout's packages and the npm cache), then the project's own `npm test` type-checks and passes,
 * `npm start` serves /healthz and /openapi.json on the PORT it is given, and `npm run dev` reloads
 * once per edit that compiles and never after one that does not. The --mongo variant runs against the
 * MONGODB_URI it is given (its embedded FerretDB is exercised from the packed package, in
 * packages-e2e.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectSuccess, npmInstall, npmServe, output, projectEnv, run, stopAllServing, stopGroup } from './setup/projects.js';

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'packages', 'server', 'dist', 'cli.js');
const TEST_TIMEOUT_MS = 90_000;

const scratch = mkdtempSync(join(tmpdir(), 'carafe-new-project-e2e-'));

const carafeNew = (...args: string[]) => run(process.execPath, [CLI, 'new', ...args], scratch);
const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build), as npm test does`);
});

afterAll(async () => {
  await stopAllServing();
  rmSync(scratch, { recursive: true, force: true });
});

describe('carafe new (default: in-memory notes)', () => {
  const dir = join(scratch, 'my-api');

  it('generates a project that installs, type-checks, passes its own tests and serves on PORT', { timeout: TEST_TIMEOUT_MS }, async () => {
    const created = expectSuccess(carafeNew(dir));
    expect(created.stdout).toContain(`Created my-api in ${dir}`);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies['@carafe/core']).toBe(
      `file:${join(REPO, 'packages', 'core')}`,
    );

    npmInstall(dir);

    const tested = expectSuccess(run('npm', ['test'], dir));
    expect(tested.stdout).toContain('> tsc -p .');
    expect(tested.stdout).toMatch(/Tests\s+5 passed/);

    const server = await npmServe(dir, ['start'], projectEnv());
    const { base, log } = server;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/notes', '/notes/{id}']));
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
    await stopGroup(server);
  });

  it('npm test fails on a type error in a test file, before vitest runs', { timeout: TEST_TIMEOUT_MS }, () => {
    const extra = join(dir, 'test', 'typo.test.ts');
    writeFileSync(extra, "import { it } from 'vitest';\nconst wrong: number = 'not a number';\nit('runs', () => void wrong);\n");
    try {
      const tested = run('npm', ['test'], dir);
      expect(tested.status, output(tested)).not.toBe(0);
      expect(tested.stdout).toMatch(/test\/typo\.test\.ts\(2,7\): error TS2322/);
      expect(tested.stdout).not.toMatch(/Tests\s+\d+ passed/);
    } finally {
      rmSync(extra);
    }
  });

  it('npm run dev reloads once per edit that compiles, never after one that does not, and stops cleanly', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const appFile = join(dir, 'src', 'app.ts');
    const original = readFileSync(appFile, 'utf8');
    const withVersion = (version: number, extra = '') => `${original}\napp.get('/version', () => ({ version: ${version} }));\n${extra}`;
    // What GET /version answers: the version, or the status; undefined while no answer comes.
    const version = async (base: string) => {
      const res = await fetch(`${base}/version`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      if (!res) return undefined;
      return res.status === 200 ? ((await res.json()) as { version: number }).version : res.status;
    };
    const reloads = (log: string) => count(log, /Handling signal: hup/);
    const settle = () => new Promise((r) => setTimeout(r, 1_500));

    const dev = await npmServe(dir, ['run', 'dev'], projectEnv());
    try {
      expect(await version(dev.base)).toBe(404);

      // An edit that compiles: one reload, and the new code answers.
      writeFileSync(appFile, withVersion(1));
      await expect.poll(() => version(dev.base), { timeout: 20_000 }).toBe(1);
      await settle();
      expect(reloads(dev.log()), dev.log()).toBe(1);

      // An edit with a type error: the errors are printed, nothing reloads, the last good code keeps answering.
      writeFileSync(appFile, withVersion(2, "const broken: number = 'not a number';\n"));
      await expect.poll(dev.log, { timeout: 20_000 }).toMatch(/watch: compile failed/);
      expect(dev.log()).toMatch(/src\/app\.ts\(\d+,7\): error TS2322/);
      await settle();
      expect(reloads(dev.log()), dev.log()).toBe(1);
      expect(await version(dev.base)).toBe(1);

      // Fixed: exactly one more reload.
      writeFileSync(appFile, withVersion(3));
      await expect.poll(() => version(dev.base), { timeout: 20_000 }).toBe(3);
      await settle();
      expect(reloads(dev.log()), dev.log()).toBe(2);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- npm run dev printed:\n${dev.log()}`);
    } finally {
      writeFileSync(appFile, original);
    }

    // SIGTERM to the whole tree, as a supervisor would: a graceful stop, without EPIPE.
    await stopGroup(dev, 'SIGTERM');
    expect(dev.log()).toContain('Shutting down: arbiter (exit 0)');
    expect(dev.log()).not.toMatch(/EPIPE/);

    // Ctrl-C in a terminal: SIGINT to the foreground process group.
    const again = await npmServe(dir, ['run', 'dev'], projectEnv());
    await stopGroup(again, 'SIGINT');
    expect(again.log()).toContain('Shutting down: arbiter (exit 0)');
    expect(again.log()).not.toMatch(/EPIPE|\bError:/);
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

  it('passes its tests and serves notes from the MongoDB it is given, across workers', { timeout: TEST_TIMEOUT_MS }, async () => {
    expectSuccess(carafeNew(dir, '--mongo'));
    for (const script of ['ferretdb.mjs', 'install-ferretdb.sh', 'go-build-module.sh', 'with-mongodb.mjs']) {
      expect(existsSync(join(dir, 'scripts', script)), script).toBe(true);
    }
    npmInstall(dir);

    // With MONGODB_URI set, scripts/with-mongodb.mjs runs vitest against it and starts nothing.
    const env = projectEnv({ MONGODB_URI: inject('mongodbUri') });
    const tested = expectSuccess(run('npm', ['test'], dir, { env }));
    expect(tested.stdout).toMatch(/Tests\s+5 passed/);
    expect(tested.stderr).not.toContain('embedded FerretDB');

    // Served by two workers.
    const server = await npmServe(dir, ['start'], { ...env, MONGODB_DB: `new_project_${process.pid}` });
    const created = await fetch(`${server.base}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'stored' }),
    });
    expect(created.status).toBe(201);
    const note = (await created.json()) as { id: string };
    expect(note.id).toMatch(/^[0-9a-f]{24}$/);
    // Whichever worker answers, the note is there.
    for (let i = 0; i < 4; i++) {
      expect(await (await fetch(`${server.base}/notes/${note.id}`)).json()).toMatchObject({ id: note.id, title: 'stored' });
    }
    await stopGroup(server);
  });
});
