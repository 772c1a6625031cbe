/**
 * What makes the packages releasable, read from the checkout: one shared version that internal
 * dependencies pin, typed exports, the files a tarball must carry, and bins that npm links at
 * install time — before anything is built — and that say so when the build is missing. The
 * tarballs themselves are installed and run in packages-e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const readJson = (path: string) => JSON.parse(readFileSync(join(REPO, path), 'utf8'));
const PACKAGES = ['gateway', 'core', 'server', 'middleware', 'create-carafe'];
const VERSION: string = readJson('packages/server/package.json').version;
const BINS = [
  { name: 'carafe', pkg: 'server', shim: 'bin/carafe.js' },
  { name: 'create-carafe', pkg: 'create-carafe', shim: 'bin/create-carafe.js' },
];

const scratch = mkdtempSync(join(tmpdir(), 'carafe-release-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(PACKAGES)('packages/%s', (pkg) => {
  const manifest = readJson(`packages/${pkg}/package.json`);

  it('has the shared version, and pins it for the Carafe packages it depends on', () => {
    expect(manifest.version).toBe(VERSION);
    for (const [name, range] of Object.entries<string>(manifest.dependencies ?? {})) {
      if (name.startsWith('@carafe/')) expect(`${name}@${range}`).toBe(`${name}@${VERSION}`);
    }
  });

  it('exports typed entry points from dist/ and publishes its README, LICENSE and CHANGELOG', () => {
    expect(manifest.exports['.']).toMatchObject({ types: './dist/index.d.ts', default: './dist/index.js' });
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (subpath !== './package.json') expect(target, subpath).toHaveProperty('types');
    }
    expect(manifest.types).toBe('./dist/index.d.ts');
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'LICENSE', 'CHANGELOG.md', '!dist/.tsbuildinfo']));
    expect(readFileSync(join(REPO, 'packages', pkg, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) 2026 the Carafe authors\n/,
    );
    expect(readFileSync(join(REPO, 'packages', pkg, 'CHANGELOG.md'), 'utf8')).toContain(`## ${VERSION} `);
  });

  it('packs from its own directory alone (no lifecycle script reaching into the repository)', () => {
    expect(Object.values<string>(manifest.scripts ?? {}).filter((script) => script.includes('..'))).toEqual([]);
  });
});

it('the example, the root changelog and the generator follow the shared version', () => {
  for (const [name, range] of Object.entries<string>(readJson('examples/rest-api/package.json').dependencies)) {
    if (name.startsWith('@carafe/')) expect(`${name}@${range}`).toBe(`${name}@${VERSION}`);
  }
  expect(readFileSync(join(REPO, 'CHANGELOG.md'), 'utf8')).toContain(`## ${VERSION} `);
});

describe.each(BINS)('the $name bin', ({ name, pkg, shim }) => {
  const shimPath = join(REPO, 'packages', pkg, shim);

  it('is a committed, executable file that npm ci links into node_modules/.bin', () => {
    expect(readJson(`packages/${pkg}/package.json`).bin).toEqual({ [name]: `./${shim}` });
    expect(statSync(shimPath).mode & 0o111).not.toBe(0);
    expect(readFileSync(shimPath, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(realpathSync(join(REPO, 'node_modules', '.bin', name))).toBe(shimPath);
  });

  it('runs the built command through the link', () => {
    const result = spawnSync(join(REPO, 'node_modules', '.bin', name), ['--help'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^usage: ${name}`));
  });

  it('says to build first, and exits 1, when dist/ is missing', () => {
    const copy = join(scratch, pkg);
    mkdirSync(join(copy, 'bin'), { recursive: true });
    writeFileSync(join(copy, 'package.json'), JSON.stringify({ type: 'module' }));
    copyFileSync(shimPath, join(copy, shim));
    const result = spawnSync(process.execPath, [join(copy, shim), '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/not built yet .*dist\/.*is missing\); run `npm run build` first/);
  });
});
