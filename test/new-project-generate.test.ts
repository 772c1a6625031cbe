/**
 * `carafe new` in-process: argument handling, refusals, what each variant contains and what the
 * generated project depends on. The end-to-end run (install, test, start) is new-project-e2e.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEV_DEPENDENCIES, MONGODB_DRIVER } from '../packages/server/src/new-project/manifest.js';
import { databaseName, fill, generate, NewProjectError } from '../packages/server/src/new-project/generate.js';
import { newProject, runNew } from '../packages/server/src/new-project/index.js';
import { packageNameProblem } from '../packages/server/src/new-project/package-name.js';
import { carafeDependencies, locateCarafe } from '../packages/server/src/new-project/source.js';

const REPO = join(import.meta.dirname, '..');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'carafe-new-project-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(scratch, `project-${++counter}`);

/** The embedded FerretDB's scripts: one home, in the --mongo template. */
const FERRETDB_SCRIPTS = ['ferretdb.mjs', 'install-ferretdb.sh', 'go-build-module.sh'];
const MONGO_SCRIPTS_DIR = join(REPO, 'packages/server/templates/mongo/scripts');

/** Runs `carafe new` (or another command name for the same generator) in-process and captures what it printed. */
async function carafeNew(...argv: string[]) {
  return generatorRun(argv);
}

async function generatorRun(argv: string[], options?: { command: string }) {
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
    const code = await runNew(argv, options);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('package names', () => {
  it('accepts plain and scoped lower-case names', () => {
    for (const name of ['my-api', 'notes2', '@acme/notes-api', 'a.b_c~d']) expect(packageNameProblem(name)).toBeUndefined();
  });

  it('rejects what npm rejects, saying why', () => {
    expect(packageNameProblem('My-Api')).toMatch(/capital/);
    expect(packageNameProblem('.hidden')).toMatch(/may not start/);
    expect(packageNameProblem('_private')).toMatch(/may not start/);
    expect(packageNameProblem('my api')).toMatch(/only lower-case/);
    expect(packageNameProblem('http')).toMatch(/built-in/);
    expect(packageNameProblem('node_modules')).toMatch(/reserved/);
    expect(packageNameProblem('a'.repeat(215))).toMatch(/214/);
    expect(packageNameProblem('')).toMatch(/empty/);
  });

  it('derives a database name from the package name', () => {
    expect(databaseName('@acme/notes-api')).toBe('notes_api');
    expect(databaseName('my.api')).toBe('my_api');
  });
});

describe('templates', () => {
  const values = { text: { name: 'x' }, flags: { mongo: true } };

  it('fills placeholders and keeps or drops sections', () => {
    const text = 'a {{name}}\n{{#mongo}}\nwith\n{{/mongo}}\n{{^mongo}}\nwithout\n{{/mongo}}\nend\n';
    expect(fill(text, values, 't')).toBe('a x\nwith\nend\n');
    expect(fill(text, { ...values, flags: { mongo: false } }, 't')).toBe('a x\nwithout\nend\n');
  });

  it('throws on an unknown placeholder or flag instead of writing it out', () => {
    expect(() => fill('{{nope}}', values, 't')).toThrow(/unknown placeholder \{\{nope\}\}/);
    expect(() => fill('{{#nope}}\nx\n{{/nope}}\n', values, 't')).toThrow(/unknown placeholder \{\{#nope\}\}/);
  });
});

describe('where the Carafe packages come from', () => {
  it('uses file: links to this checkout, gateway included', () => {
    const source = locateCarafe();
    expect(source).toEqual({ kind: 'checkout', repo: REPO, version: readJson(join(REPO, 'packages/server/package.json')).version });
    expect(carafeDependencies(source)).toEqual({
      '@carafe/gateway': `file:${join(REPO, 'packages/gateway')}`,
      '@carafe/core': `file:${join(REPO, 'packages/core')}`,
      '@carafe/server': `file:${join(REPO, 'packages/server')}`,
      '@carafe/middleware': `file:${join(REPO, 'packages/middleware')}`,
    });
  });

  it('uses the published versions when installed from the registry', () => {
    const serverRoot = join(scratch, 'node_modules', '@carafe', 'server');
    mkdirSync(serverRoot, { recursive: true });
    writeFileSync(join(serverRoot, 'package.json'), JSON.stringify({ name: '@carafe/server', version: '1.4.2' }));
    const source = locateCarafe(serverRoot);
    expect(source).toEqual({ kind: 'registry', version: '1.4.2' });
    expect(carafeDependencies(source)).toEqual({
      '@carafe/gateway': '^1.4.2',
      '@carafe/core': '^1.4.2',
      '@carafe/server': '^1.4.2',
      '@carafe/middleware': '^1.4.2',
    });
  });

  it('pins the tools the repository itself develops with', () => {
    const root = readJson(join(REPO, 'package.json')).devDependencies;
    for (const [name, range] of Object.entries(DEV_DEPENDENCIES)) expect(`${name}@${range}`).toBe(`${name}@${root[name]}`);
    expect(MONGODB_DRIVER).toBe(readJson(join(REPO, 'examples/rest-api/package.json')).dependencies.mongodb);
  });
});

describe('carafe new', () => {
  let dir: string;
  beforeEach(() => {
    dir = freshDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the default project, named after its directory', async () => {
    const { code, stdout } = await carafeNew(join(dir, 'notes-api'));
    expect(code).toBe(0);
    expect(stdout).toContain('npm install');
    const project = join(dir, 'notes-api');
    for (const file of [
      '.gitignore',
      'README.md',
      'carafe.config.js',
      'tsconfig.json',
      'tsconfig.build.json',
      'src/app.ts',
      'src/notes.ts',
      'src/repository.ts',
      'test/app.test.ts',
      'scripts/watch.mjs',
    ]) {
      expect(existsSync(join(project, file)), file).toBe(true);
    }
    const manifest = readJson(join(project, 'package.json'));
    expect(manifest.name).toBe('notes-api');
    expect(manifest.scripts).toEqual({
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc -p .',
      start: 'npm run build && carafe serve dist/app.js',
      // watch.mjs reloads the server itself (SIGHUP after a compile that succeeded), so no --reload.
      dev: 'node scripts/watch.mjs carafe serve dist/app.js',
      test: 'npm run typecheck && vitest run',
    });
    expect(manifest.dependencies).not.toHaveProperty('mongodb');
    for (const script of FERRETDB_SCRIPTS) expect(existsSync(join(project, 'scripts', script)), script).toBe(false);
    // The type-check covers the tests; the build compiles src/ alone, and keeps dist/ on a compile error.
    expect(readJson(join(project, 'tsconfig.json')).include).toEqual(['src', 'test', '*.ts']);
    expect(readJson(join(project, 'tsconfig.build.json'))).toMatchObject({
      extends: './tsconfig.json',
      compilerOptions: { noEmit: false, noEmitOnError: true, rootDir: 'src', outDir: 'dist' },
      include: ['src'],
    });
    expect(readFileSync(join(project, 'src/app.ts'), 'utf8')).toContain("app.get('/openapi.json'");
    const readme = readFileSync(join(project, 'README.md'), 'utf8');
    expect(readme).toMatch(/^# notes-api$/m);
    expect(readme).toContain('npm install');
    expect(readme).toContain('npm start');
    expect(readme).not.toContain('{{');
    expect(readFileSync(join(project, 'carafe.config.js'), 'utf8')).toContain('process.env.PORT');
  });

  it('adds the MongoDB layer and the embedded FerretDB with --mongo', async () => {
    const { code } = await carafeNew(dir, '--mongo', '--name', '@acme/notes');
    expect(code).toBe(0);
    const manifest = readJson(join(dir, 'package.json'));
    expect(manifest.name).toBe('@acme/notes');
    expect(manifest.dependencies.mongodb).toBe(MONGODB_DRIVER);
    expect(manifest.scripts.test).toBe('npm run typecheck && node scripts/with-mongodb.mjs vitest run');
    // Every script the embedded FerretDB needs, as the template has them (install-ferretdb.sh runs go-build-module.sh).
    for (const script of FERRETDB_SCRIPTS) {
      expect(readFileSync(join(dir, 'scripts', script), 'utf8'), script).toBe(readFileSync(join(MONGO_SCRIPTS_DIR, script), 'utf8'));
    }
    expect(readFileSync(join(dir, 'scripts/install-ferretdb.sh'), 'utf8')).toContain('"$HERE/go-build-module.sh"');
    const repository = readFileSync(join(dir, 'src/repository.ts'), 'utf8');
    expect(repository).toContain("from 'mongodb'");
    expect(repository).toContain("process.env.MONGODB_DB || 'notes'");
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('MONGODB_URI');
  });

  it('refuses a non-empty directory without --force and leaves it alone', async () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), 'mine');
    const { code, stderr } = await carafeNew(dir, '--name', 'x');
    expect(code).toBe(2);
    expect(stderr).toMatch(/is not empty; refusing to write into it.*--force/s);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
  });

  it('writes into a non-empty directory with --force, keeping unrelated files', async () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), 'mine');
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    const { code } = await carafeNew(dir, '--name', 'forced', '--force');
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# forced$/m);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('rejects an invalid package name, pointing at --name when it came from the directory', async () => {
    const fromDir = await carafeNew(join(dir, 'My API'));
    expect(fromDir.code).toBe(2);
    expect(fromDir.stderr).toMatch(/"My API" is not a valid npm package name \(taken from the directory; pass --name/);
    const given = await carafeNew(dir, '--name', 'Bad');
    expect(given.code).toBe(2);
    expect(given.stderr).toMatch(/"Bad" is not a valid npm package name: it contains capital letters/);
    expect(existsSync(dir)).toBe(false);
  });

  it('answers usage errors with exit code 2 and the usage text', async () => {
    for (const argv of [[], ['a', 'b'], ['x', '--colour']]) {
      const { code, stderr } = await carafeNew(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stderr).toContain('usage: carafe new DIR');
    }
    const help = await carafeNew('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--mongo');
  });

  it('gives an installed package the same --mongo scripts: they ship inside it, in templates/', () => {
    const source = { kind: 'registry', version: '1.0.0' } as const;
    const written = generate({ dir, name: 'x', mongo: true, force: false, source });
    expect(written).toEqual(expect.arrayContaining(FERRETDB_SCRIPTS.map((script) => `scripts/${script}`)));
    expect(readJson(join(REPO, 'packages/server/package.json')).files).toContain('templates');
    expect(readJson(join(dir, 'package.json')).dependencies['@carafe/server']).toBe('^1.0.0');
  });
});

describe('one home for the embedded FerretDB scripts', () => {
  it("the repository runs the template's launcher rather than a copy of its own", () => {
    for (const script of FERRETDB_SCRIPTS.filter((name) => name !== 'ferretdb.mjs')) {
      expect(existsSync(join(REPO, 'scripts', script)), `scripts/${script}`).toBe(false);
    }
    expect(readFileSync(join(REPO, 'scripts/ferretdb.mjs'), 'utf8')).toContain(
      "from '../packages/server/templates/mongo/scripts/ferretdb.mjs'",
    );
  });
});

describe('newProject and runNew as an API', () => {
  afterEach(() => rmSync(join(scratch, 'api'), { recursive: true, force: true }));

  it('newProject writes a project and says what it wrote and from where', () => {
    const project = newProject({ dir: join(scratch, 'api', 'from-code'), mongo: true });
    expect(project).toMatchObject({ name: 'from-code', mongo: true, source: { kind: 'checkout', repo: REPO } });
    expect(project.files).toContain('scripts/go-build-module.sh');
    expect(readJson(join(project.dir, 'package.json')).name).toBe('from-code');
  });

  it('newProject refuses an invalid name before writing anything', () => {
    const dir = join(scratch, 'api', 'Bad Name');
    expect(() => newProject({ dir })).toThrow(NewProjectError);
    expect(existsSync(dir)).toBe(false);
  });

  it('runNew speaks as the command that runs it', async () => {
    const help = await generatorRun(['--help'], { command: 'create-carafe' });
    expect(help.stdout).toMatch(/^usage: create-carafe DIR/);
    const refused = await generatorRun([], { command: 'create-carafe' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^create-carafe: missing the target directory/);
  });
});
