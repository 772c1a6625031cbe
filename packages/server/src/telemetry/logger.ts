/**
 * The application logger `carafe serve` gives each worker's apps: pino, writing into the error
 * log's destination (so `--error-log`, SIGUSR1 reopening and per-turn batching apply), as JSON
 * records, as Gunicorn-style text lines, or through pino-pretty for a terminal.
 */
import { pino, type Logger } from 'pino';
import { type ErrorLog, HOSTNAME, PINO_LEVEL, errorLogTime } from '../logging.js';
import type { Settings } from '../settings.js';

export type AppLogFormat = 'text' | 'json' | 'pretty';

/** How app records are written: `auto` is JSON in production and pretty under `--reload`. */
export function appLogFormat(settings: Pick<Settings, 'logFormat' | 'reload'>): AppLogFormat {
  if (settings.logFormat === 'auto') return settings.reload ? 'pretty' : 'json';
  return settings.logFormat;
}

/** How the server's own error-log lines are written: text unless `--log-format json`. */
export function errorLogFormat(settings: Pick<Settings, 'logFormat'>): 'text' | 'json' {
  return settings.logFormat === 'json' ? 'json' : 'text';
}

const TEXT_LEVEL: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};
const NOT_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'err']);

/** A JSON record as an error-log line: `[time] [pid] [LEVEL] msg key=value …`, then the stack of `err`. */
export function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record.time === 'string' ? new Date(record.time) : new Date();
  let line = `[${errorLogTime(time)}] [${record.pid ?? process.pid}] [${TEXT_LEVEL[String(record.level)] ?? String(record.level).toUpperCase()}] ${record.msg ?? ''}`;
  for (const [key, value] of Object.entries(record)) {
    if (NOT_FIELDS.has(key) || value === undefined) continue;
    line += ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
  }
  const err = record.err as { stack?: string; message?: string; type?: string } | undefined;
  if (err) line += `\n${err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`}`;
  return `${line}\n`;
}

/** pino-pretty's formatter, when it is installed (it is optional); otherwise `undefined`. */
async function prettyFormatter(colorize: boolean): Promise<((line: string) => string) | undefined> {
  const name = 'pino-pretty';
  try {
    const mod = (await import(name)) as { prettyFactory?: (options: object) => (input: string) => string };
    return mod.prettyFactory?.({ colorize, translateTime: 'SYS:standard', ignore: 'hostname' });
  } catch {
    return undefined;
  }
}

/** The worker's application logger, writing where the error log writes. */
export async function createAppLogger(settings: Settings, errorLog: ErrorLog): Promise<Logger> {
  let format = appLogFormat(settings);
  let render: ((line: string) => string) | undefined;
  if (format === 'pretty') {
    render = await prettyFormatter(settings.errorLog === '-' && process.stderr.isTTY === true);
    if (render === undefined) format = 'text';
  }
  if (format === 'text') render = textLine;
  const file = errorLog.file;
  const destination = { write: render === undefined ? (line: string) => file.write(line) : (line: string) => file.write(render(line)) };
  return pino(
    {
      level: PINO_LEVEL[settings.logLevel],
      base: { pid: process.pid, hostname: HOSTNAME },
      name: 'app',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: settings.logRedact.length > 0 ? { paths: settings.logRedact, censor: '[Redacted]' } : undefined,
    },
    destination,
  );
}
