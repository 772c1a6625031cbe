#!/usr/bin/env node
/**
 * The `carafe` command: `serve` runs an app under the arbiter, `routes` prints a Carafe
 * app's route table, `new` generates a project. Flags, environment variables and `--help`
 * all come from the settings table in settings.ts.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Arbiter } from './arbiter.js';
import { ConfigError, parseArgsOptions, resolveConfig, settingsFromFlags } from './config.js';
import { ExitCode } from './exit-codes.js';
import { AppLoadError, loadApp } from './loader.js';
import { AccessLogFormatError, compileAccessLogFormat } from './logging.js';
import { trustTest } from './middleware/proxy-fix.js';
import { SETTINGS, SettingError, configKey, envName, type SettingSpec } from './settings.js';
import { parseBind } from './sockets.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const MAIN_USAGE = `usage: carafe <command> [options]

Commands:
  serve MODULE[:EXPORT]   serve a TSGI app (export default name: app) with the pre-fork server
  routes MODULE[:EXPORT]  print a Carafe app's routes (method, path, name)
  new DIR                 create a new Carafe project in DIR

Run \`carafe serve --help\` for every server setting, \`carafe new --help\` for the project generator.
  -h, --help     show this help
  --version      print the version
`;

const SECTIONS: Record<SettingSpec['section'], string> = {
  server: 'Server',
  workers: 'Workers',
  limits: 'Request limits',
  proxy: 'Proxies',
  logging: 'Logging',
  observability: 'Tracing and metrics',
  development: 'Development',
};

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

function defaultText(spec: SettingSpec): string {
  const value = spec.default;
  if (value === undefined) return 'unset';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** `carafe serve --help`, generated from the settings table. */
export function serveUsage(): string {
  const out = [
    'usage: carafe serve [options] MODULE[:EXPORT]',
    '',
    'Serves the TSGI application exported as EXPORT (default: app) from MODULE (a file relative',
    'to the working directory, or a package) with an arbiter and worker processes.',
    'Every option is also an environment variable (shown) and a config-file key (camelCase).',
    'Precedence: command line > environment > config file > default.',
  ];
  const indent = ' '.repeat(8);
  for (const [section, title] of Object.entries(SECTIONS)) {
    out.push('', `${title}:`);
    for (const spec of SETTINGS.filter((s) => s.section === section)) {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${spec.flag}${spec.meta ? ` ${spec.meta}` : ''}`;
      out.push(`  ${flag}`);
      const details = `${spec.help} [default: ${defaultText(spec)}; env: ${envName(spec.flag)}; config: ${configKey(spec.flag)}]`;
      out.push(`${indent}${wrap(details, 88, indent)}`);
    }
  }
  out.push(
    '',
    'Signals (to the arbiter): TERM graceful stop; INT, QUIT quick stop; HUP reload config and code;',
    'TTIN, TTOU one worker more, less; USR1 reopen log files.',
    'Exit codes: 0 clean, 1 error (e.g. cannot bind), 2 usage, 3 worker boot failure, 4 app load failure.',
    '  -h, --help    show this help',
    '',
  );
  return out.join('\n');
}

class UsageError extends Error {}

function fail(message: string, code: number = ExitCode.USAGE): number {
  process.stderr.write(`carafe: error: ${message}\n`);
  if (code === ExitCode.USAGE) process.stderr.write('Run `carafe --help` for usage.\n');
  return code;
}

async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...parseArgsOptions(), help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(serveUsage());
    return ExitCode.OK;
  }
  if (positionals.length !== 1) throw new UsageError('serve needs exactly one MODULE[:EXPORT]');
  const flags = settingsFromFlags(values);
  const resolved = await resolveConfig(flags, process.env);
  const { settings } = resolved;
  // Fail before any process starts on what the workers would otherwise each reject.
  settings.bind.forEach(parseBind);
  if (settings.metricsBind !== undefined) parseBind(settings.metricsBind);
  compileAccessLogFormat(settings.accessLogFormat);
  try {
    trustTest(settings.forwardedAllowIps);
  } catch (error) {
    throw new SettingError((error as Error).message);
  }
  return new Arbiter({ app: positionals[0]!, flags, resolved }).run();
}

interface RouteRow {
  name: string;
  path: string;
  methods: string[];
}

async function routes(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: carafe routes MODULE[:EXPORT]\n\nPrints the route table (methods, path, name) of a Carafe app.\n');
    return ExitCode.OK;
  }
  if (positionals.length !== 1) throw new UsageError('routes needs exactly one MODULE[:EXPORT]');
  const app = (await loadApp(positionals[0]!)) as unknown as { routeTable?: () => RouteRow[] };
  if (typeof app.routeTable !== 'function') {
    return fail(`${positionals[0]} is a TSGI app but not a Carafe app: it has no routeTable()`, ExitCode.ERROR);
  }
  const rows = app.routeTable().map((r) => [r.methods.join(','), r.path, r.name]);
  const header = ['Methods', 'Path', 'Name'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
  return ExitCode.OK;
}

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'routes':
        return await routes(rest);
      case 'new': {
        const { runNew } = await import('./new-project/index.js');
        return await runNew(rest);
      }
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_USAGE);
        return ExitCode.OK;
      case '--version':
        process.stdout.write(`carafe ${VERSION}\n`);
        return ExitCode.OK;
      case undefined:
        process.stderr.write(MAIN_USAGE);
        return ExitCode.USAGE;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof AppLoadError) return fail(error.message, ExitCode.APP_LOAD);
    if (
      error instanceof UsageError ||
      error instanceof SettingError ||
      error instanceof ConfigError ||
      error instanceof AccessLogFormatError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      return fail((error as Error).message);
    }
    return fail((error as Error)?.stack ?? String(error), ExitCode.ERROR);
  }
}

process.exitCode = await main(process.argv.slice(2));
if (process.argv[2] === 'serve' || process.argv[2] === 'routes') process.exit();
