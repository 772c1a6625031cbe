import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { manifest } from './manifest.js';
import { SERVER_ROOT, type CarafeSource } from './source.js';

/**
 * The project templates: `default/` is every project, `mongo/` is laid over it by `--mongo` (its
 * scripts/ holds the embedded FerretDB's launcher, which the Carafe repository itself runs too).
 */
export const TEMPLATES_DIR = join(SERVER_ROOT, 'templates');

/** What to generate and where. */
export interface NewProjectOptions {
  /** The target directory (created when missing). */
  dir: string;
  /** The npm package name, already validated. */
  name: string;
  /** Add the MongoDB repository layer and the embedded FerretDB. */
  mongo: boolean;
  /** Write into a non-empty directory, replacing files of the same names. */
  force: boolean;
  source: CarafeSource;
}

/** Generating a project was refused (`ExitCode.USAGE`: the invocation was at fault) or failed (`ExitCode.ERROR`). */
export class NewProjectError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.USAGE,
  ) {
    super(message);
    this.name = 'NewProjectError';
  }
}

/**
 * Template files whose real names npm would not pack or would act on (`.gitignore` is
 * dropped from published tarballs), stored under another name.
 */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** Relative path (with `/`) → template file, for every file under `dir`. */
function listTemplates(dir: string, into = new Map<string, string>(), root = dir): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listTemplates(path, into, root);
    else into.set(relative(root, path).split(sep).join('/'), path);
  }
  return into;
}

function outputName(templatePath: string): string {
  const parts = templatePath.split('/');
  const last = parts.pop()!;
  return [...parts, RENAMED[last] ?? last].join('/');
}

/** What a template may refer to: `{{key}}` for text, `{{#flag}}…{{/flag}}` / `{{^flag}}…{{/flag}}` for sections. */
export interface TemplateValues {
  text: Readonly<Record<string, string>>;
  flags: Readonly<Record<string, boolean>>;
}

/** A section on lines of its own: `{{#flag}}` (kept when the flag is set) or `{{^flag}}` (when it is not). */
const SECTION = /^\{\{([#^])(\w+)\}\}\n([\s\S]*?)^\{\{\/\2\}\}\n/gm;
const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** Fills a template. An unknown key or flag is a bug in the template, so it throws. */
export function fill(text: string, { text: values, flags }: TemplateValues, file: string): string {
  const unknown = (key: string): never => {
    throw new NewProjectError(`template ${file} uses an unknown placeholder ${key}`, ExitCode.ERROR);
  };
  return text
    .replace(SECTION, (_, kind: string, flag: string, body: string) => {
      const set = flags[flag] ?? unknown(`{{${kind}${flag}}}`);
      return set === (kind === '#') ? body : '';
    })
    .replace(PLACEHOLDER, (_, key: string) => values[key] ?? unknown(`{{${key}}}`));
}

/** The database name a `--mongo` project uses by default: its package name without scope, as an identifier. */
export function databaseName(name: string): string {
  return (
    name
      .replace(/^@[^/]+\//, '')
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'app'
  );
}

function checkTarget(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new NewProjectError(`${dir} exists and is not a directory`);
  if (!force && readdirSync(dir).length > 0) {
    throw new NewProjectError(
      `${dir} is not empty; refusing to write into it. Choose a new directory, or pass --force ` +
        '(files with the names of generated files are overwritten, others are left alone)',
    );
  }
}

/**
 * Writes a new project into `options.dir` and returns the paths written, relative to it.
 * Everything that could refuse (a non-empty directory) is checked before the first file is written.
 */
export function generate(options: NewProjectOptions): string[] {
  const { dir, name, mongo, source } = options;
  checkTarget(dir, options.force);

  const files = listTemplates(join(TEMPLATES_DIR, 'default'));
  if (mongo) listTemplates(join(TEMPLATES_DIR, 'mongo'), files);

  const values: TemplateValues = { text: { name, dbName: databaseName(name) }, flags: { mongo } };
  const written: string[] = [];
  const write = (path: string, content: string): void => {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    written.push(path);
  };
  for (const [path, template] of files) write(outputName(path), fill(readFileSync(template, 'utf8'), values, path));
  write('package.json', `${JSON.stringify(manifest(name, mongo, source), null, 2)}\n`);
  return written.sort();
}
