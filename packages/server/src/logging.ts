/**
 * The error log and the access log. Lines are batched and written once per event-loop turn;
 * `reopen()` (on SIGUSR1) lets logrotate move the files away.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { context, trace, type Span } from '@opentelemetry/api';
import { environKey, headerValue } from '@carafe/gateway';
import type { LogLevel } from './settings.js';
import type { RequestRecord } from './config.js';

/** A log destination: a file opened for appending, or `-` for the standard stream. */
export class LogFile {
  private fd: number | undefined;
  private pending = '';
  private scheduled = false;

  constructor(
    readonly path: string,
    private readonly standard: NodeJS.WriteStream,
  ) {
    this.open();
  }

  private open(): void {
    if (this.path !== '-') this.fd = openSync(this.path, 'a');
  }

  /** Queues a line; it is written at the end of this event-loop turn. */
  write(line: string): void {
    this.pending += line;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  readonly flushNow = (): void => {
    this.scheduled = false;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    if (this.fd === undefined) this.standard.write(text);
    else writeSync(this.fd, text);
  };

  /** Closes and reopens the file, so a rotated log continues in a new file. */
  reopen(): void {
    this.flushNow();
    if (this.fd === undefined) return;
    const old = this.fd;
    this.open();
    closeSync(old);
  }

  close(): void {
    this.flushNow();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

/** Gunicorn's levels by pino's names, which JSON records use. */
export const PINO_LEVEL: Record<LogLevel, string> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error', critical: 'fatal' };

/** Written into every JSON record, as pino's `base`. */
export const HOSTNAME = hostname();

/** The trace and span ids of a span, for a JSON record; `undefined` fields when there is none. */
export function traceFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  const ids = span?.spanContext();
  if (ids === undefined || !trace.isSpanContextValid(ids)) return {};
  return { trace_id: ids.traceId, span_id: ids.spanId };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2024-03-01 12:00:00 +0000` in local time, like Gunicorn's error log. */
export function errorLogTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/**
 * The error log: `[time] [pid] [LEVEL] message` lines at or above the configured level, or with
 * `--log-format json` one JSON record per message, in the shape of the app's pino records
 * (`level`, `time`, `pid`, `hostname`, `name: "carafe"`, `msg`).
 */
export class ErrorLog {
  private readonly threshold: number;

  constructor(
    readonly file: LogFile,
    level: LogLevel,
    readonly format: 'text' | 'json' = 'text',
  ) {
    this.threshold = LEVEL_RANK[level];
  }

  static open(path: string, level: LogLevel, format: 'text' | 'json' = 'text'): ErrorLog {
    return new ErrorLog(new LogFile(path, process.stderr), level, format);
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (LEVEL_RANK[level] < this.threshold) return;
    if (this.format === 'json') {
      const record = {
        level: PINO_LEVEL[level],
        time: new Date().toISOString(),
        pid: process.pid,
        hostname: HOSTNAME,
        name: 'carafe',
        ...fields,
        msg: message,
      };
      this.file.write(`${JSON.stringify(record)}\n`);
    } else this.file.write(`[${errorLogTime(new Date())}] [${process.pid}] [${level.toUpperCase()}] ${message}\n`);
  }
  debug(message: string): void {
    this.log('debug', message);
  }
  info(message: string): void {
    this.log('info', message);
  }
  warning(message: string): void {
    this.log('warning', message);
  }
  error(message: string): void {
    this.log('error', message);
  }
  critical(message: string): void {
    this.log('critical', message);
  }

  /**
   * An `ErrorStream` for `tsgi.errors`: what the app writes there lands in this log (in JSON, one
   * `error` record per write, with the ids of the span active while it was written).
   */
  stream(): { write(message: string): void; flush(): void } {
    if (this.format === 'json') {
      return {
        write: (message: string) => this.log('error', message.replace(/\n$/, ''), traceFields(trace.getSpan(context.active()))),
        flush: () => this.file.flushNow(),
      };
    }
    return {
      write: (message: string) => this.file.write(message.endsWith('\n') ? message : `${message}\n`),
      flush: () => this.file.flushNow(),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Access log formats

/** Gunicorn's and Apache's named formats. */
export const ACCESS_LOG_FORMATS: Record<string, string> = {
  combined: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
  common: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s',
};

type Atom = (rec: RequestRecord, elapsedNs: bigint) => string;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let clfSecond = -1;
let clfText = '';
/** `[10/Oct/2000:13:55:36 +0000]`, computed at most once per second. */
function clfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== clfSecond) {
    const d = new Date(ms);
    const offset = -d.getTimezoneOffset();
    const abs = Math.abs(offset);
    clfSecond = second;
    clfText = `[${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`;
  }
  return clfText;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point (log-line forgery).
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;
/** Escapes quotes, backslashes and control characters so a client cannot forge log lines. */
function clean(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  const text = String(value);
  if (!NEEDS_ESCAPE.test(text)) return text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: as above, each control character is escaped.
  return text.replace(/["\\\x00-\x1f\x7f]/g, (c) =>
    c === '"' ? '\\"' : c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function basicAuthUser(header: unknown): string | undefined {
  if (typeof header !== 'string' || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(0, colon) : undefined;
}

const startMs = (_rec: RequestRecord, elapsedNs: bigint): number => Date.now() - Number(elapsedNs / 1_000_000n);

const ATOMS: Record<string, Atom> = {
  h: (rec) => clean(rec.environ.REMOTE_ADDR),
  l: () => '-',
  u: (rec) => clean(rec.environ.REMOTE_USER ?? basicAuthUser(rec.environ.HTTP_AUTHORIZATION)),
  t: (rec, ns) => clfTime(startMs(rec, ns)),
  r: (rec) => clean(`${rec.environ.REQUEST_METHOD} ${rec.environ.RAW_URI} ${rec.environ.SERVER_PROTOCOL}`),
  m: (rec) => clean(rec.environ.REQUEST_METHOD),
  U: (rec) => clean(`${rec.environ.SCRIPT_NAME}${rec.environ.PATH_INFO}`),
  q: (rec) => clean(rec.environ.QUERY_STRING),
  H: (rec) => clean(rec.environ.SERVER_PROTOCOL),
  s: (rec) => String(rec.status),
  B: (rec) => String(rec.bytesSent),
  b: (rec) => (rec.bytesSent ? String(rec.bytesSent) : '-'),
  f: (rec) => clean(rec.environ.HTTP_REFERER),
  a: (rec) => clean(rec.environ.HTTP_USER_AGENT),
  T: (_rec, ns) => String(ns / 1_000_000_000n),
  M: (_rec, ns) => String(ns / 1_000_000n),
  D: (_rec, ns) => String(ns / 1_000n),
  L: (_rec, ns) => (Number(ns) / 1e9).toFixed(6),
  p: () => `<${process.pid}>`,
};

/** Why an access-log format string is not usable: a usage error. */
export class AccessLogFormatError extends Error {
  override name = 'AccessLogFormatError';
}

/**
 * Compiles an access-log format once into a function from a finished request to a line.
 * `combined`, `common` and `json` are named formats; anything else is Gunicorn's syntax:
 * `%(h)s` for an atom, `%({x-request-id}i)s` for a request header, `%({etag}o)s` for a
 * response header, `%({HOME}e)s` for an environment variable of the worker.
 */
export function compileAccessLogFormat(format: string): (rec: RequestRecord, elapsedNs: bigint) => string {
  if (format === 'json') return jsonLine;
  const template = ACCESS_LOG_FORMATS[format] ?? format;
  const parts: Atom[] = [];
  const pattern = /%\((\{([^}]*)\}([ioe])|[A-Za-z])\)s/g;
  let last = 0;
  for (let m = pattern.exec(template); m; m = pattern.exec(template)) {
    const literal = template.slice(last, m.index);
    if (literal) parts.push(() => literal);
    last = m.index + m[0].length;
    if (m[2] !== undefined) {
      const name = m[2];
      if (m[3] === 'i') {
        const key = environKey(name);
        parts.push((rec) => clean(key === '' ? undefined : (rec.environ[key] as string | undefined)));
      } else if (m[3] === 'o') {
        parts.push((rec) => clean(headerValue(rec.headers, name)));
      } else {
        parts.push(() => clean(process.env[name]));
      }
    } else {
      const atom = ATOMS[m[1]!];
      if (!atom) throw new AccessLogFormatError(`access-log-format: unknown variable %(${m[1]})s`);
      parts.push(atom);
    }
  }
  const tail = template.slice(last);
  if (tail) parts.push(() => tail);
  return (rec, ns) => {
    let line = '';
    for (let i = 0; i < parts.length; i++) line += parts[i]!(rec, ns);
    return line;
  };
}

/**
 * The json access-log line: the fields of a request, in the shape of the app's and the error
 * log's JSON records (`level`, `time` — when the request arrived —, `pid`, `hostname`, `name`,
 * `msg`), with the request id, the route the app matched and the trace ids, to join them.
 */
function jsonLine(rec: RequestRecord, ns: bigint): string {
  const env = rec.environ;
  const route = env['carafe.route'] as string | undefined;
  return JSON.stringify({
    level: 'info',
    time: new Date(startMs(rec, ns)).toISOString(),
    pid: process.pid,
    hostname: HOSTNAME,
    name: 'carafe.access',
    msg: `${env.REQUEST_METHOD} ${env.RAW_URI} ${rec.status}`,
    remote_addr: env.REMOTE_ADDR,
    method: env.REQUEST_METHOD,
    uri: env.RAW_URI,
    protocol: env.SERVER_PROTOCOL,
    status: rec.status,
    bytes: rec.bytesSent,
    duration_ms: Number(ns) / 1e6,
    referer: env.HTTP_REFERER,
    user_agent: env.HTTP_USER_AGENT,
    request_id: env['carafe.request_id'] ?? env.HTTP_X_REQUEST_ID,
    route,
    ...traceFields(env['carafe.span'] as Span | undefined),
    aborted: rec.aborted || undefined,
  });
}

/** The access log: one line per finished request. */
export class AccessLog {
  private readonly format: (rec: RequestRecord, elapsedNs: bigint) => string;

  constructor(
    readonly file: LogFile,
    format: string,
  ) {
    this.format = compileAccessLogFormat(format);
  }

  static open(path: string, format: string): AccessLog {
    return new AccessLog(new LogFile(path, process.stdout), format);
  }

  record(rec: RequestRecord): void {
    this.file.write(`${this.format(rec, process.hrtime.bigint() - rec.startTime)}\n`);
  }
}
