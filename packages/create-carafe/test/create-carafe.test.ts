/**
 * create-carafe in-process: it is `carafe new` under its own name. Installed from its tarball and
 * run as `create-carafe`, it is tested end to end in test/packages-e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createCarafe } from '../src/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'create-carafe-'));
// Inside the package, so that `import … from 'create-carafe'` resolves as it does for a user.
const readmeDir = join(import.meta.dirname, '..', `.readme-example-${process.pid}`);
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(readmeDir, { recursive: true, force: true });
});

async function captured(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await createCarafe(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('create-carafe', () => {
  it('generates the project carafe new generates, with the same options', async () => {
    const dir = join(scratch, 'my-api');
    const { code, stdout } = await captured([dir, '--mongo']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Created my-api (MongoDB) in ${dir}`);
    expect(stdout).toContain('npm install');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toHaveProperty('@carafe/server');
    expect(manifest.dependencies).toHaveProperty('mongodb');
    expect(existsSync(join(dir, 'scripts', 'go-build-module.sh'))).toBe(true);
  });

  it('names itself in its usage and errors', async () => {
    const help = await captured(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: create-carafe DIR \[--name NAME\] \[--mongo\] \[--force\]/);
    const missing = await captured([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^create-carafe: missing the target directory/);
  });

  it('is the create-carafe bin of a package that depends on @carafe/server alone', () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ 'create-carafe': './bin/create-carafe.js' });
    expect(Object.keys(manifest.dependencies)).toEqual(['@carafe/server']);
  });

  it("runs the README's example as written (against the build)", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from 'create-carafe'");
    mkdirSync(readmeDir, { recursive: true });
    writeFileSync(join(readmeDir, 'example.mjs'), example!);
    const cwd = join(scratch, 'readme');
    mkdirSync(cwd);
    const result = spawnSync(process.execPath, [join(readmeDir, 'example.mjs')], { cwd, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'my-api', 'package.json'), 'utf8')).dependencies).toHaveProperty('mongodb');
    expect(existsSync(join(cwd, 'other-api', 'src', 'app.ts'))).toBe(true);
  });
});
