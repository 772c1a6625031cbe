/**
 * The server's settings, defined once. Each row yields a command-line flag (`--keep-alive`),
 * an environment variable (`CARAFE_KEEP_ALIVE`), a config-file key (`keepAlive`) and a
 * paragraph of `--help`; `resolveSettings` in config.ts merges the four sources.
 */

/** How a setting's textual value (from a flag or an environment variable) is read. */
export type SettingType = 'string' | 'int' | 'seconds' | 'boolean' | 'list' | 'choice';

export interface SettingSpec {
  /** The flag name without dashes; also the source of the env var and config key names. */
  readonly flag: string;
  readonly short?: string;
  readonly type: SettingType;
  readonly default: SettingValue;
  readonly help: string;
  /** Placeholder shown in `--help`, e.g. `N` or `FILE`. */
  readonly meta?: string;
  readonly choices?: readonly string[];
  /** Smallest allowed value for `int` and `seconds`. */
  readonly min?: number;
  readonly section: 'server' | 'workers' | 'limits' | 'proxy' | 'logging' | 'observability' | 'development';
}

export type SettingValue = string | number | boolean | string[] | undefined;

/** The resolved settings, keyed by config name. */
export interface Settings {
  config: string | undefined;
  bind: string[];
  socketMode: string;
  workers: number;
  timeout: number;
  gracefulTimeout: number;
  keepAlive: number;
  maxRequests: number;
  maxRequestsJitter: number;
  preload: boolean;
  limitRequestLine: number;
  limitRequestFields: number;
  limitRequestFieldSize: number;
  limitRequestBody: number;
  headerTimeout: number;
  requestTimeout: number;
  forwardedAllowIps: string[];
  accessLog: string | undefined;
  accessLogFormat: string;
  errorLog: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  logRedact: string[];
  tracing: boolean;
  telemetry: string | undefined;
  metricsBind: string | undefined;
  pid: string | undefined;
  reload: boolean;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];
export type LogFormat = 'auto' | 'text' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'text', 'json', 'pretty'];
/** Log fields redacted by default (pino paths): credentials in headers, at the top or one level down. */
export const DEFAULT_LOG_REDACT = [
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.authorization',
  '*.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
];

export const SETTINGS: readonly SettingSpec[] = [
  {
    flag: 'config',
    short: 'c',
    type: 'string',
    default: undefined,
    meta: 'FILE',
    section: 'server',
    help: 'An ES module whose default export is an object of settings, hooks and `middleware` (see README).',
  },
  {
    flag: 'bind',
    short: 'b',
    type: 'list',
    default: ['127.0.0.1:8000'],
    meta: 'ADDRESS',
    section: 'server',
    help: 'Where to listen; repeatable. HOST:PORT, [IPv6]:PORT, :PORT (all interfaces), unix:/path.sock or fd://N (an inherited listening socket, e.g. from systemd).',
  },
  {
    flag: 'socket-mode',
    type: 'string',
    default: '660',
    meta: 'OCTAL',
    section: 'server',
    help: 'File mode given to unix sockets after binding.',
  },
  {
    flag: 'workers',
    short: 'w',
    type: 'int',
    default: 1,
    min: 1,
    meta: 'N',
    section: 'workers',
    help: "Number of worker processes. One Node worker keeps one core busy, so use about one per core (not Gunicorn's 2 x cores + 1, which is for blocking workers).",
  },
  {
    flag: 'timeout',
    short: 't',
    type: 'seconds',
    default: 30,
    min: 0,
    meta: 'S',
    section: 'workers',
    help: 'A worker whose event loop is blocked this long (no heartbeat) is killed with SIGKILL and replaced; so is a new worker not ready (app loaded, lifespan startup done) this long after it started, and a reload waiting for it keeps the old workers. 0 disables.',
  },
  {
    flag: 'graceful-timeout',
    type: 'seconds',
    default: 30,
    min: 0,
    meta: 'S',
    section: 'workers',
    help: 'On graceful shutdown or reload, how long in-flight requests may run before their worker is killed.',
  },
  {
    flag: 'keep-alive',
    type: 'seconds',
    default: 5,
    min: 0,
    meta: 'S',
    section: 'workers',
    help: 'How long an idle keep-alive connection is held open. 0 disables keep-alive.',
  },
  {
    flag: 'max-requests',
    type: 'int',
    default: 0,
    min: 0,
    meta: 'N',
    section: 'workers',
    help: 'Restart a worker after it has served this many requests (a guard against leaks). 0 disables.',
  },
  {
    flag: 'max-requests-jitter',
    type: 'int',
    default: 0,
    min: 0,
    meta: 'N',
    section: 'workers',
    help: "Add a random 0..N to each worker's max-requests so workers do not all restart at once.",
  },
  {
    flag: 'preload',
    type: 'boolean',
    default: false,
    section: 'workers',
    help: 'Load the app once in the arbiter before starting workers, so a broken app fails fast.',
  },
  {
    flag: 'limit-request-line',
    type: 'int',
    default: 4094,
    min: 0,
    meta: 'BYTES',
    section: 'limits',
    help: "Longest accepted request line in bytes: method, target and version without the CRLF, as Gunicorn counts it; longer gets 414. 0 means no limit of its own (Node's parser still bounds the whole head).",
  },
  {
    flag: 'limit-request-fields',
    type: 'int',
    default: 100,
    min: 0,
    meta: 'N',
    section: 'limits',
    help: "Most header field lines accepted in a request, as Gunicorn counts them; more gets 431. 0 means no limit of its own (Node's parser still bounds the whole head).",
  },
  {
    flag: 'limit-request-field-size',
    type: 'int',
    default: 8190,
    min: 0,
    meta: 'BYTES',
    section: 'limits',
    help: 'Longest accepted header field line in bytes, `name: value` and its CRLF, as Gunicorn counts it (except that whitespace around the value counts as one space, whatever was sent); longer gets 431. 0 means no limit of its own.',
  },
  {
    flag: 'limit-request-body',
    type: 'int',
    default: 0,
    min: 0,
    meta: 'BYTES',
    section: 'limits',
    help: 'Largest accepted request body in bytes: a larger Content-Length gets 413 before the app runs, a chunked body 413 once it grows past it; the connection then closes. 0 means unlimited.',
  },
  {
    flag: 'header-timeout',
    type: 'seconds',
    default: 20,
    min: 0,
    meta: 'S',
    section: 'limits',
    help: 'A client must send the complete request head within this time, or gets 408.',
  },
  {
    flag: 'request-timeout',
    type: 'seconds',
    default: 300,
    min: 0,
    meta: 'S',
    section: 'limits',
    help: 'A client must send the complete request (head and body) within this time, or gets 408. 0 disables.',
  },
  {
    flag: 'forwarded-allow-ips',
    type: 'list',
    default: ['127.0.0.1', '::1'],
    meta: 'IPS',
    section: 'proxy',
    help: 'Peers trusted to set X-Forwarded-For/-Proto/-Host and Forwarded (comma-separated, or * for any). From other peers these headers are ignored.',
  },
  {
    flag: 'access-log',
    type: 'string',
    default: undefined,
    meta: 'FILE',
    section: 'logging',
    help: 'Access log file, or - for stdout. No access log unless set.',
  },
  {
    flag: 'access-log-format',
    type: 'string',
    default: 'combined',
    meta: 'FORMAT',
    section: 'logging',
    help: 'combined (Apache combined, the default), common, json, or a Gunicorn-style format such as \'%(h)s "%(r)s" %(s)s %(M)s\'.',
  },
  {
    flag: 'error-log',
    type: 'string',
    default: '-',
    meta: 'FILE',
    section: 'logging',
    help: 'Error log file, or - for stderr.',
  },
  {
    flag: 'log-level',
    type: 'choice',
    default: 'info',
    choices: LOG_LEVELS,
    meta: 'LEVEL',
    section: 'logging',
    help: 'Least severe error-log level written.',
  },
  {
    flag: 'log-format',
    type: 'choice',
    default: 'auto',
    choices: LOG_FORMATS,
    meta: 'FORMAT',
    section: 'logging',
    help: "How the error log and the application's log records (app.log, req.log) are written: text (Gunicorn's error-log lines), json (one JSON object per record, the shape of the json access log), pretty (pino-pretty, for a terminal), or auto: the error log as text, app records as JSON, all pretty with --reload.",
  },
  {
    flag: 'log-redact',
    type: 'list',
    default: DEFAULT_LOG_REDACT,
    meta: 'PATHS',
    section: 'logging',
    help: 'Fields of application log records replaced by [Redacted] (pino redact paths, comma-separated).',
  },
  {
    flag: 'tracing',
    type: 'boolean',
    default: false,
    section: 'observability',
    help: 'OpenTelemetry tracing: a SERVER span per request named by its route, exported as the OTEL_* environment variables say (OTLP to OTEL_EXPORTER_OTLP_ENDPOINT by default). Also on when OTEL_TRACES_EXPORTER (other than none) or OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set. Needs @opentelemetry/sdk-node installed.',
  },
  {
    flag: 'telemetry',
    type: 'string',
    default: undefined,
    meta: 'MODULE',
    section: 'observability',
    help: "An ES module each worker loads before the app when tracing is on; its default export is { instrumentations } (e.g. MongoDB's) or a function returning it.",
  },
  {
    flag: 'metrics-bind',
    type: 'string',
    default: undefined,
    meta: 'ADDRESS',
    section: 'observability',
    help: 'Serve GET /metrics (Prometheus text) on this HOST:PORT from the arbiter: per-route request counts and durations and in-flight requests of all workers together, and worker counters. No metrics unless set.',
  },
  {
    flag: 'pid',
    short: 'p',
    type: 'string',
    default: undefined,
    meta: 'FILE',
    section: 'server',
    help: "Write the arbiter's process id to this file.",
  },
  {
    flag: 'reload',
    type: 'boolean',
    default: false,
    section: 'development',
    help: 'Restart the workers when a source file under the working directory changes (development only).',
  },
];

/** `keep-alive` → `keepAlive`. */
export function configKey(flag: string): keyof Settings {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof Settings;
}

/** `keep-alive` → `CARAFE_KEEP_ALIVE`. */
export function envName(flag: string): string {
  return `CARAFE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** A bad value for a setting: reported as a usage error. */
export class SettingError extends Error {
  override name = 'SettingError';
}

/** Reads one textual value (from a flag or an environment variable) as the setting's type. */
export function parseValue(spec: SettingSpec, raw: string, source: string): SettingValue {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off|)$/i.test(raw)) return false;
      throw new SettingError(`${source}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'int':
    case 'seconds': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) {
        throw new SettingError(`${source}: expected a number, got ${JSON.stringify(raw)}`);
      }
      return n;
    }
    case 'choice':
      return raw;
  }
}

/** Checks a value of any origin (flag, env, config file) against the spec; returns it normalised. */
export function validateValue(spec: SettingSpec, value: unknown, source: string): SettingValue {
  const fail = (what: string): never => {
    throw new SettingError(`${source}: ${what}, got ${JSON.stringify(value)}`);
  };
  switch (spec.type) {
    case 'string':
      if (value === undefined || value === null) return undefined;
      return typeof value === 'string' ? value : fail('expected a string');
    case 'list':
      if (typeof value === 'string') return parseValue(spec, value, source);
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
      return fail('expected a string or an array of strings');
    case 'boolean':
      return typeof value === 'boolean' ? value : fail('expected a boolean');
    case 'int':
    case 'seconds': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail('expected a number');
      if (spec.type === 'int' && !Number.isInteger(value)) fail('expected an integer');
      if (spec.min !== undefined && value < spec.min) fail(`expected at least ${spec.min}`);
      return value;
    }
    case 'choice':
      return typeof value === 'string' && spec.choices?.includes(value) ? value : fail(`expected one of ${spec.choices?.join(', ')}`);
  }
}

/** Every setting at its default. */
export function defaultSettings(): Settings {
  const out: Record<string, SettingValue> = {};
  for (const spec of SETTINGS) {
    out[configKey(spec.flag)] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return out as unknown as Settings;
}
