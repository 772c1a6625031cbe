/**
 * The packages as a user gets them from the registry: gateway, core, server, middleware and create-carafe are
 * packed with `npm pack` and installed from their tarballs (third-party dependencies from the
 * registry or npm's cache) into projects outside this repository, so nothing of the checkout is
 * linked or reachable. From there:
 *
 * - the installed `carafe serve` serves a Carafe app;
 * - `carafe new`, `carafe new --mongo` and `create-carafe` generate projects. Each depends on
 *   `^` the released version; that version is not published yet, so before `npm install` its
 *   @carafe/* specifiers are pointed at the same tarballs. Then the project's own `npm test`
 *   passes and `npm start` answers /healthz. The --mongo project has no MONGODB_URI: its own
 *   scripts build FerretDB into its own .tools/bin (fast with Go's build cache warm from
 *   provisioning) and start it.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSuccess, NPM_FLAGS, npmInstall, npmServe, projectEnv, run, stopAllServing, stopGroup } from './setup/projects.js';

const REPO = join(import.meta.dirname, '..');
const PACKAGES = ['gateway', 'core', 'server', 'middleware', 'create-carafe'] as const;
type PackageDir = (typeof PACKAGES)[number];
const manifestOf = (pkg: PackageDir) => JSON.parse(readFileSync(join(REPO, 'packages', pkg, 'package.json'), 'utf8'));
const VERSION: string = manifestOf('server').version;

const scratch = mkdtempSync(join(tmpdir(), 'carafe-packages-e2e-'));
const tarballDir = join(scratch, 'tarballs');
/** The consumer: a project that installed the five tarballs, and nothing else of ours. */
const consumer = join(scratch, 'consumer');
const bin = (name: string) => join(consumer, 'node_modules', '.bin', name);

/** npm package name → its tarball, and what `npm pack` put in it. */
const packed = new Map<string, { tarball: string; files: string[] }>();
const tarballOf = (name: string) => `file:${packed.get(name)!.tarball}`;

/** The @carafe/* dependencies of a generated project, pointed at the tarballs (and checked first). */
function useTarballs(projectDir: string): void {
  const path = join(projectDir, 'package.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  for (const name of ['@carafe/gateway', '@carafe/core', '@carafe/server', '@carafe/middleware']) {
    expect(manifest.dependencies[name], name).toBe(`^${VERSION}`);
    manifest.dependencies[name] = tarballOf(name);
  }
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Installs, tests and starts a generated project; returns what its `npm test` printed. */
async function installTestAndStart(projectDir: string, check?: (base: string) => Promise<void>) {
  useTarballs(projectDir);
  npmInstall(projectDir);
  // Installed from the tarball: a directory, not a link into this checkout.
  expect(lstatSync(join(projectDir, 'node_modules', '@carafe', 'server')).isSymbolicLink()).toBe(false);

  const tested = expectSuccess(run('npm', ['test'], projectDir, { timeoutMs: 180_000 }));
  expect(tested.stdout).toContain('> tsc -p .');
  expect(tested.stdout).toMatch(/Tests\s+5 passed/);

  const server = await npmServe(projectDir, ['start'], projectEnv());
  try {
    const health = await fetch(`${server.base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${server.base}/openapi.json`)).status).toBe(200);
    await check?.(server.base);
  } finally {
    await stopGroup(server);
  }
  return tested;
}

beforeAll(() => {
  for (const pkg of PACKAGES) {
    if (!existsSync(join(REPO, 'packages', pkg, 'dist', 'index.js'))) throw new Error(`packages/${pkg} is not built: npm run build first`);
  }
  mkdirSync(tarballDir);
  const workspaces = PACKAGES.flatMap((pkg) => ['--workspace', `packages/${pkg}`]);
  const result = expectSuccess(run('npm', ['pack', ...workspaces, '--pack-destination', tarballDir, '--json', ...NPM_FLAGS], REPO));
  for (const entry of JSON.parse(result.stdout) as { name: string; filename: string; files: { path: string }[] }[]) {
    packed.set(entry.name, { tarball: join(tarballDir, entry.filename), files: entry.files.map((file) => file.path) });
  }

  mkdirSync(consumer);
  const dependencies = Object.fromEntries([...packed.keys()].map((name) => [name, tarballOf(name)]));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2));
  npmInstall(consumer, '--omit=dev');
}, 180_000);

afterAll(async () => {
  await stopAllServing();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the tarballs', () => {
  it('carry what the packages need at run time, and no build leftovers', () => {
    expect([...packed.keys()].sort()).toEqual(['@carafe/core', '@carafe/gateway', '@carafe/middleware', '@carafe/server', 'create-carafe']);
    for (const [name, { files }] of packed) {
      for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']) {
        expect(files, `${name}: ${file}`).toContain(file);
      }
      expect(
        files.filter((file) => file.endsWith('.tsbuildinfo')),
        name,
      ).toEqual([]);
    }
    const server = packed.get('@carafe/server')!.files;
    for (const file of [
      'bin/carafe.js',
      'dist/cli.js',
      'templates/default/scripts/watch.mjs',
      'templates/mongo/scripts/ferretdb.mjs',
      'templates/mongo/scripts/install-ferretdb.sh',
      'templates/mongo/scripts/go-build-module.sh',
    ]) {
      expect(server, file).toContain(file);
    }
    expect(packed.get('create-carafe')!.files).toContain('bin/create-carafe.js');
  });

  it('install with their bins linked, and carafe serve serves a Carafe app from them', { timeout: 60_000 }, async () => {
    expect(expectSuccess(run(bin('carafe'), ['--version'], consumer)).stdout.trim()).toBe(`carafe ${VERSION}`);
    writeFileSync(
      join(consumer, 'app.js'),
      "import { Carafe } from '@carafe/core';\nexport const app = new Carafe();\napp.get('/hello/:name', (req) => ({ hello: req.params.name }));\napp.get('/healthz', () => ({ status: 'ok' }));\n",
    );
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({
        ...JSON.parse(readFileSync(join(consumer, 'package.json'), 'utf8')),
        scripts: { start: 'carafe serve app.js --bind 127.0.0.1:$PORT --workers 2' },
      }),
    );
    const server = await npmServe(consumer, ['start'], projectEnv());
    try {
      const res = await fetch(`${server.base}/hello/tarball`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ hello: 'tarball' });
    } finally {
      await stopGroup(server);
    }
  });
});

describe('projects generated from the tarballs', () => {
  it('carafe new: installs, passes its own npm test, and npm start serves /healthz', { timeout: 240_000 }, async () => {
    const dir = join(scratch, 'default-api');
    const created = expectSuccess(run(bin('carafe'), ['new', dir], scratch));
    expect(created.stdout).toContain(`using Carafe ${VERSION}`);
    await installTestAndStart(dir);
  });

  it('carafe new --mongo: builds and starts its own FerretDB with its own scripts', { timeout: 240_000 }, async () => {
    const dir = join(scratch, 'mongo-api');
    expectSuccess(run(bin('carafe'), ['new', dir, '--mongo'], scratch));
    expect(existsSync(join(dir, '.tools'))).toBe(false);
    const tested = await installTestAndStart(dir, async (base) => {
      const created = await fetch(`${base}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'in FerretDB' }),
      });
      expect(created.status).toBe(201);
      const note = (await created.json()) as { id: string };
      expect(await (await fetch(`${base}/notes/${note.id}`)).json()).toMatchObject({ title: 'in FerretDB' });
    });
    expect(tested.stderr).toMatch(/install-ferretdb: building FerretDB v[\d.]+ into .*mongo-api\/\.tools\/bin\/ferretdb/);
    expect(tested.stderr).toMatch(/with-mongodb: embedded FerretDB at mongodb:\/\/127\.0\.0\.1:\d+/);
    const binary = join(dir, '.tools', 'bin', 'ferretdb');
    expect(lstatSync(binary).isFile()).toBe(true);
  });

  it('create-carafe: the same project, from its own package', { timeout: 240_000 }, async () => {
    const dir = join(scratch, 'created-api');
    const created = expectSuccess(run(bin('create-carafe'), [dir], scratch));
    expect(created.stdout).toContain(`Created created-api in ${dir}`);
    await installTestAndStart(dir);
  });
});
