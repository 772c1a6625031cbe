/**
 * Resolving the settings from their four sources. Precedence, most authoritative first:
 * command-line flag, `CARAFE_*` environment variable, config file, default.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParseArgsConfig } from 'node:util';
import type { Environ, TsgiMiddleware } from '@carafe/gateway';
import {
  SETTINGS,
  SettingError,
  configKey,
  defaultSettings,
  envName,
  parseValue,
  validateValue,
  type SettingSpec,
  type SettingValue,
  type Settings,
} from './settings.js';

/** What the arbiter-side hooks receive. */
export interface ArbiterInfo {
  pid: number;
  settings: Readonly<Settings>;
  /** Live worker count. */
  workers: number;
}

/** What `postFork` receives, in the new worker process. */
export interface WorkerInfo {
  pid: number;
  /** The arbiter's sequence number for this worker (1, 2, …; never reused). */
  id: number;
  settings: Readonly<Settings>;
}

/** What `workerExit` receives, in the arbiter, after a worker process ended. */
export interface WorkerExitInfo {
  pid: number;
  id: number;
  code: number | null;
  signal: string | null;
  /** Why it ended: `stopped` (asked to), `timeout` (killed for it), `crashed`, `boot-failed`. */
  reason: 'stopped' | 'timeout' | 'crashed' | 'boot-failed';
}

/** A finished request, as the gateway binding reports it (see `onFinished` in @carafe/gateway). */
export interface RequestRecord {
  environ: Environ;
  status: number;
  headers: Array<[string, string]>;
  bytesSent: number;
  startTime: bigint;
  error?: unknown;
  aborted: boolean;
}

export interface Hooks {
  /** In the arbiter, before the first worker starts. */
  onStarting?(server: ArbiterInfo): void | Promise<void>;
  /** In the arbiter, once every first-generation worker is serving. */
  whenReady?(server: ArbiterInfo): void | Promise<void>;
  /** In each worker process, before it loads the app. */
  postFork?(worker: WorkerInfo): void | Promise<void>;
  /** In the arbiter, after a worker process ended for any reason. */
  workerExit?(worker: WorkerExitInfo): void | Promise<void>;
  /** In the arbiter, just before it exits. */
  onExit?(server: ArbiterInfo): void | Promise<void>;
  /** In the worker, before each request is handed to the app. Keep it fast. */
  preRequest?(environ: Environ): void;
  /** In the worker, after each response finished or was aborted. Keep it fast. */
  postRequest?(record: RequestRecord): void;
}

export const HOOK_NAMES = ['onStarting', 'whenReady', 'postFork', 'workerExit', 'onExit', 'preRequest', 'postRequest'] as const;

/**
 * The shape of a server config file's default export: `carafe serve`'s settings (by their
 * camelCase names), hooks and middleware. (An application's own settings are core's `app.config`.)
 */
export type ServerConfig = Partial<Settings> &
  Hooks & {
    /** TSGI middleware wrapped around the app, outermost first. */
    middleware?: TsgiMiddleware[];
  };

/** Identity function that gives a config file type checking: `export default defineConfig({...})`. */
export function defineConfig(config: ServerConfig): ServerConfig {
  return config;
}

/** A config file that could not be loaded or has bad values: a usage error. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The default config file, looked for in the working directory when none is named. */
export const DEFAULT_CONFIG_FILES = ['carafe.config.js', 'carafe.config.mjs'];

/** The `parseArgs` options for every setting, derived from the table. */
export function parseArgsOptions(): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const spec of SETTINGS) {
    options[spec.flag] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.type === 'list' ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  return options;
}

/** Converts parsed flags (`parseArgs` values) into settings overrides. */
export function settingsFromFlags(values: Record<string, unknown>): Partial<Record<keyof Settings, SettingValue>> {
  const out: Partial<Record<keyof Settings, SettingValue>> = {};
  for (const spec of SETTINGS) {
    const raw = values[spec.flag];
    if (raw === undefined) continue;
    const source = `--${spec.flag}`;
    let value: SettingValue;
    if (spec.type === 'boolean') value = raw as boolean;
    else if (spec.type === 'list') value = (raw as string[]).flatMap((item) => parseValue(spec, item, source) as string[]);
    else value = parseValue(spec, raw as string, source);
    out[configKey(spec.flag)] = validateValue(spec, value, source);
  }
  return out;
}

/** Reads `CARAFE_*` variables into settings overrides. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Partial<Record<keyof Settings, SettingValue>> {
  const out: Partial<Record<keyof Settings, SettingValue>> = {};
  for (const spec of SETTINGS) {
    const name = envName(spec.flag);
    const raw = env[name];
    if (raw === undefined) continue;
    out[configKey(spec.flag)] = validateValue(spec, parseValue(spec, raw, name), name);
  }
  return out;
}

const SPEC_BY_KEY = new Map<string, SettingSpec>(SETTINGS.map((spec) => [configKey(spec.flag), spec]));

/** Validates a config file's settings keys; unknown keys are an error so typos fail fast. */
export function settingsFromConfig(config: ServerConfig, file: string): Partial<Record<keyof Settings, SettingValue>> {
  const out: Partial<Record<keyof Settings, SettingValue>> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'middleware' || (HOOK_NAMES as readonly string[]).includes(key)) continue;
    const spec = SPEC_BY_KEY.get(key);
    if (!spec) throw new SettingError(`${file}: unknown setting ${JSON.stringify(key)}`);
    if (key === 'config') throw new SettingError(`${file}: "config" cannot be set from a config file`);
    const source = `${file}: ${key}`;
    const typed = typeof value === 'string' && spec.type !== 'string' && spec.type !== 'choice' ? parseValue(spec, value, source) : value;
    out[key as keyof Settings] = validateValue(spec, typed, source);
  }
  return out;
}

/** Checks the function-valued parts of a config (hooks, middleware). */
function checkConfigFunctions(config: ServerConfig, file: string): void {
  for (const name of HOOK_NAMES) {
    if (config[name] !== undefined && typeof config[name] !== 'function') {
      throw new SettingError(`${file}: ${name} must be a function`);
    }
  }
  const mw = config.middleware;
  if (mw !== undefined && (!Array.isArray(mw) || !mw.every((m) => typeof m === 'function'))) {
    throw new SettingError(`${file}: middleware must be an array of TSGI middleware functions`);
  }
}

let importGeneration = 0;

/**
 * Imports a config module. `fresh` adds a query string so a reload (HUP) sees the file's
 * current contents rather than the module cache.
 */
export async function loadConfigFile(file: string, fresh = false): Promise<ServerConfig> {
  const url = pathToFileURL(resolve(file)).href + (fresh ? `?v=${++importGeneration}` : '');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`cannot load config file ${file}: ${(error as Error)?.stack ?? String(error)}`);
  }
  const config = (mod.default ?? mod) as ServerConfig;
  if (typeof config !== 'object' || config === null) {
    throw new ConfigError(`config file ${file} must export an object (export default { ... })`);
  }
  checkConfigFunctions(config, file);
  return config;
}

/** Finds which config file applies: the flag, then CARAFE_CONFIG, then a default file in the working directory. */
export function configPath(flags: Partial<Record<keyof Settings, SettingValue>>, env: NodeJS.ProcessEnv): string | undefined {
  const named = (flags.config as string | undefined) ?? env[envName('config')];
  if (named) return resolve(named);
  for (const name of DEFAULT_CONFIG_FILES) {
    if (existsSync(name)) return resolve(name);
  }
  return undefined;
}

export interface ResolvedConfig {
  settings: Settings;
  config: ServerConfig;
}

/**
 * Resolves the effective settings: defaults < config file < environment < flags.
 * `fresh` re-imports the config file (used on reload).
 */
export async function resolveConfig(
  flags: Partial<Record<keyof Settings, SettingValue>>,
  env: NodeJS.ProcessEnv,
  fresh = false,
): Promise<ResolvedConfig> {
  const file = configPath(flags, env);
  const config = file ? await loadConfigFile(file, fresh) : {};
  const settings = Object.assign(defaultSettings(), file ? settingsFromConfig(config, file) : {}, settingsFromEnv(env), flags, {
    config: file,
  }) as Settings;
  checkSettings(settings);
  return { settings, config };
}

/** Cross-setting checks that no single row can express. */
function checkSettings(settings: Settings): void {
  if (!/^[0-7]{3,4}$/.test(settings.socketMode)) {
    throw new SettingError(`socket-mode: expected an octal file mode such as 660, got ${JSON.stringify(settings.socketMode)}`);
  }
  if (settings.bind.length === 0) throw new SettingError('bind: at least one address is needed');
}
