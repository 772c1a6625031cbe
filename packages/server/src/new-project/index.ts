/**
 * `carafe new DIR` (and `npm create carafe`, which runs the same code): generates a small REST API
 * project shaped like examples/rest-api — one blueprint with a schema-validated resource, an
 * error handler, `/healthz`, `/openapi.json`, a vitest + supertest suite and a `carafe.config.js`
 * — runnable with `npm install` and `npm start`.
 */
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode } from '../exit-codes.js';
import { generate, NewProjectError } from './generate.js';
import { packageNameProblem } from './package-name.js';
import { locateCarafe, unbuiltPackages, type CarafeSource } from './source.js';

export { NewProjectError } from './generate.js';
export type { CarafeSource } from './source.js';

const usage = (command: string) => `usage: ${command} DIR [--name NAME] [--mongo] [--force]

Creates a Carafe REST API project in DIR.

  --name NAME  the npm package name (default: DIR's last segment)
  --mongo      store the resource in MongoDB; without MONGODB_URI the project
               starts an embedded FerretDB (built with Go on first use)
  --force      write into DIR even if it is not empty
  -h, --help   show this help
`;

/** The command line itself is wrong: answered with the usage text. */
class UsageError extends NewProjectError {}

/** What to create: {@link newProject}'s argument. */
export interface NewProjectRequest {
  /** The target directory, resolved against the working directory (created when missing). */
  dir: string;
  /** The npm package name (default: the directory's last segment). */
  name?: string;
  /** Store the notes in MongoDB, with the embedded FerretDB when MONGODB_URI is unset. */
  mongo?: boolean;
  /** Write into a non-empty directory, replacing files of the same names. */
  force?: boolean;
}

/** A project {@link newProject} wrote. */
export interface NewProject {
  dir: string;
  name: string;
  mongo: boolean;
  /** The files written, relative to `dir`. */
  files: string[];
  /** Where its Carafe dependencies come from: this checkout (`file:` links) or the registry. */
  source: CarafeSource;
}

/**
 * Generates a project, as `carafe new` does; throws a {@link NewProjectError} for an invalid
 * package name or a non-empty directory without `force`, before anything is written.
 */
export function newProject(request: NewProjectRequest): NewProject {
  const dir = resolve(request.dir);
  const name = request.name ?? basename(dir);
  const problem = packageNameProblem(name);
  if (problem) {
    const hint = request.name === undefined ? ` (taken from the directory; pass --name to choose another)` : '';
    throw new NewProjectError(`"${name}" is not a valid npm package name${hint}: ${problem}`);
  }
  const mongo = request.mongo ?? false;
  const source = locateCarafe();
  const files = generate({ dir, name, mongo, force: request.force ?? false, source });
  return { dir, name, mongo, files, source };
}

/** The arguments of `carafe new`, or a usage error. */
function parseOptions(argv: string[]): { help: true } | ({ help: false } & NewProjectRequest) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      mongo: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing the target directory' : `expected one directory, got ${positionals.length}`);
  }
  return { help: false, dir: positionals[0]!, name: values.name, mongo: values.mongo, force: values.force };
}

function nextSteps(dir: string, mongo: boolean): string {
  const fromHere = relative(process.cwd(), dir);
  const cd = fromHere.startsWith('..') || isAbsolute(fromHere) ? dir : fromHere || '.';
  const lines = [
    '',
    'Next:',
    `  cd ${cd.includes(' ') ? JSON.stringify(cd) : cd}`,
    '  npm install',
    '  npm start        # serves http://127.0.0.1:8000 (PORT=… to change); try /healthz and /notes',
    '  npm test         # type-check, then vitest + supertest',
    '  npm run dev      # recompile on every change; reload when it compiles',
  ];
  if (mongo) lines.push('', 'Without MONGODB_URI, start/dev/test run an embedded FerretDB (built with Go on first use).');
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `carafe new` with the arguments after `new`; resolves to the process exit code:
 * 0 on success, 2 for a usage error or a refusal (such as a non-empty directory without
 * `--force`), 1 when writing the project failed. `command` is the name the usage text and
 * messages give it (`create-carafe` runs this too).
 */
export async function runNew(argv: string[], { command = 'carafe new' }: { command?: string } = {}): Promise<number> {
  try {
    const options = parseOptions(argv);
    if (options.help) {
      process.stdout.write(usage(command));
      return ExitCode.OK;
    }
    const project = newProject(options);
    const { source } = project;
    const from = source.kind === 'checkout' ? `the Carafe checkout at ${source.repo}` : `Carafe ${source.version}`;
    process.stdout.write(
      `Created ${project.name}${project.mongo ? ' (MongoDB)' : ''} in ${project.dir}: ${project.files.length} files, using ${from}\n`,
    );
    const unbuilt = unbuiltPackages(source);
    if (unbuilt.length > 0 && source.kind === 'checkout') {
      const names = unbuilt.map((name) => `@carafe/${name}`).join(', ');
      process.stderr.write(`${command}: warning: ${names} not built yet; run \`npm run build\` in ${source.repo} before \`npm install\`\n`);
    }
    process.stdout.write(nextSteps(project.dir, project.mongo));
    return ExitCode.OK;
  } catch (error) {
    const showUsage = error instanceof UsageError || isParseArgsError(error);
    process.stderr.write(`${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (showUsage) process.stderr.write(`\n${usage(command)}`);
    return showUsage ? ExitCode.USAGE : error instanceof NewProjectError ? error.exitCode : ExitCode.ERROR;
  }
}

/** node:util parseArgs signals bad options with `ERR_PARSE_ARGS_*` codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
