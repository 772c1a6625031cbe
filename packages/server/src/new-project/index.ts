/**
 * `carafe new DIR`: generates a small REST API project shaped like examples/rest-api —
 * one blueprint with a schema-validated resource, an error handler, `/healthz`, a vitest +
 * supertest suite and a `carafe.config.js` — runnable with `npm install` and `npm start`.
 */
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode } from '../exit-codes.js';
import { generate, NewProjectError } from './generate.js';
import { packageNameProblem } from './package-name.js';
import { locateCarafe, unbuiltPackages } from './source.js';

const USAGE = `usage: carafe new DIR [--name NAME] [--mongo] [--force]

Creates a Carafe REST API project in DIR.

  --name NAME  the npm package name (default: DIR's last segment)
  --mongo      store the resource in MongoDB; without MONGODB_URI the project
               starts an embedded FerretDB (built with Go on first use)
  --force      write into DIR even if it is not empty
  -h, --help   show this help
`;

/** The command line itself is wrong: answered with the usage text. */
class UsageError extends NewProjectError {}

/** The arguments of `carafe new`, or a usage error. */
function parseOptions(argv: string[]) {
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
  if (values.help) return { help: true as const };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing the target directory' : `expected one directory, got ${positionals.length}`);
  }
  const dir = resolve(positionals[0]!);
  const name = values.name ?? basename(dir);
  const problem = packageNameProblem(name);
  if (problem) {
    const hint = values.name === undefined ? ` (taken from the directory; pass --name to choose another)` : '';
    throw new NewProjectError(`"${name}" is not a valid npm package name${hint}: ${problem}`);
  }
  return { help: false as const, dir, name, mongo: values.mongo, force: values.force };
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
    '  npm test         # vitest + supertest',
    '  npm run dev      # recompile and reload on every change',
  ];
  if (mongo) lines.push('', 'Without MONGODB_URI, start/dev/test run an embedded FerretDB (built with Go on first use).');
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `carafe new` with the arguments after `new`; resolves to the process exit code:
 * 0 on success, 2 for a usage error or a refusal (such as a non-empty directory without
 * `--force`), 1 when writing the project failed.
 */
export async function runNew(argv: string[]): Promise<number> {
  try {
    const options = parseOptions(argv);
    if (options.help) {
      process.stdout.write(USAGE);
      return ExitCode.OK;
    }
    const source = locateCarafe();
    const written = generate({ ...options, source });
    const from = source.kind === 'checkout' ? `the Carafe checkout at ${source.repo}` : `Carafe ${source.version}`;
    process.stdout.write(
      `Created ${options.name}${options.mongo ? ' (MongoDB)' : ''} in ${options.dir}: ${written.length} files, using ${from}\n`,
    );
    const unbuilt = unbuiltPackages(source);
    if (unbuilt.length > 0 && source.kind === 'checkout') {
      const names = unbuilt.map((name) => `@carafe/${name}`).join(', ');
      process.stderr.write(`carafe new: warning: ${names} not built yet; run \`npx tsc -b\` in ${source.repo} before \`npm install\`\n`);
    }
    process.stdout.write(nextSteps(options.dir, options.mongo));
    return ExitCode.OK;
  } catch (error) {
    const showUsage = error instanceof UsageError || isParseArgsError(error);
    process.stderr.write(`carafe new: ${error instanceof Error ? error.message : String(error)}\n`);
    if (showUsage) process.stderr.write(`\n${USAGE}`);
    return showUsage ? ExitCode.USAGE : error instanceof NewProjectError ? error.exitCode : ExitCode.ERROR;
  }
}

/** node:util parseArgs signals bad options with `ERR_PARSE_ARGS_*` codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
