/**
 * OpenTelemetry in a worker process, set up once, before the app is loaded: the SDK
 * (`@opentelemetry/sdk-node`, an optional peer dependency, loaded only when tracing is on)
 * configured the OpenTelemetry way — by the `OTEL_*` environment variables: exporter and
 * protocol (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`),
 * sampler (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), resource (`OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`), batching (`OTEL_BSP_*`), propagators (`OTEL_PROPAGATORS`) — plus
 * the instrumentations named by the `--telemetry` module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagLogLevel, ProxyTracerProvider, diag, trace } from '@opentelemetry/api';
import type { ErrorLog } from '../logging.js';
import type { Settings } from '../settings.js';

/** What the `--telemetry` module's default export gives (or a function's result). */
export interface TelemetryModule {
  /** OpenTelemetry instrumentations to register, e.g. `new MongoDBInstrumentation()`. */
  instrumentations?: unknown[];
}

export interface TelemetryHandle {
  /** Exports what is buffered and stops; bounded in time. */
  shutdown(): Promise<void>;
}

/** Why telemetry could not be set up: the worker cannot boot as configured. */
export class TelemetrySetupError extends Error {
  override name = 'TelemetrySetupError';
}

const isTrue = (value: string | undefined) => value !== undefined && /^true$/i.test(value.trim());

/** Tracing is on with `--tracing`, or when the OTEL_* variables ask for trace export; never with OTEL_SDK_DISABLED=true. */
export function tracingWanted(settings: Pick<Settings, 'tracing'>, env: NodeJS.ProcessEnv = process.env): boolean {
  if (isTrue(env.OTEL_SDK_DISABLED)) return false;
  if (settings.tracing) return true;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter && exporter !== 'none') return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Metrics are pushed over OTLP (by each worker) only when OTEL_METRICS_EXPORTER asks for it. */
export function otlpMetricsWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const exporter = env.OTEL_METRICS_EXPORTER?.trim();
  return !isTrue(env.OTEL_SDK_DISABLED) && Boolean(exporter) && exporter !== 'none';
}

/** Whether something (an `--import` preload, a `postFork` hook) already registered a tracer provider. */
function sdkAlreadyRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() !== new ProxyTracerProvider().getDelegate();
}

async function loadTelemetryModule(file: string): Promise<TelemetryModule> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new TelemetrySetupError(`cannot load the --telemetry module ${file}: ${(error as Error)?.stack ?? String(error)}`);
  }
  let value: unknown = mod.default ?? mod;
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (typeof value !== 'object' || value === null)
    throw new TelemetrySetupError(`--telemetry module ${file} must export an object { instrumentations }`);
  return value as TelemetryModule;
}

/** The service name when the environment names none: the `name` of ./package.json, else `carafe`. */
function defaultServiceName(): string {
  try {
    if (existsSync('package.json')) {
      const name = (JSON.parse(readFileSync('package.json', 'utf8')) as { name?: unknown }).name;
      if (typeof name === 'string' && name) return name.replace(/^@[^/]+\//, '');
    }
  } catch {
    // no usable package.json
  }
  return 'carafe';
}

/** A span processor that keeps nothing: spans are made (ids for logs, propagation) but not exported. */
const DISCARD = {
  onStart() {},
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

interface NodeSdkModule {
  NodeSDK: new (configuration: Record<string, unknown>) => { start(): void; shutdown(): Promise<void> };
}

/**
 * Starts the SDK in this worker: tracing (when `tracing`) and OTLP metrics (when `otlpMetrics`).
 * SDK warnings and errors (an export that failed) go to the error log unless OTEL_LOG_LEVEL
 * sends them elsewhere.
 */
export async function setupTelemetry(
  settings: Settings,
  log: ErrorLog,
  wanted: { tracing: boolean; otlpMetrics: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<TelemetryHandle> {
  if (sdkAlreadyRegistered()) {
    log.info('OpenTelemetry: using the SDK already registered in this process');
    return { shutdown: () => Promise.resolve() };
  }
  const module = settings.telemetry ? await loadTelemetryModule(settings.telemetry) : {};
  const name = '@opentelemetry/sdk-node';
  let sdkModule: NodeSdkModule;
  try {
    sdkModule = (await import(name)) as NodeSdkModule;
  } catch (error) {
    throw new TelemetrySetupError(
      `tracing is on (--tracing or OTEL_* variables) but ${name} cannot be loaded: install it next to @carafe/server ` +
        `(npm install ${name}): ${(error as Error)?.message ?? String(error)}`,
    );
  }
  if (env.OTEL_LOG_LEVEL === undefined) {
    const write =
      (level: 'error' | 'warning' | 'debug') =>
      (message: string, ...args: unknown[]) =>
        log.log(
          level,
          `OpenTelemetry: ${[message, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)))].join(' ')}`,
        );
    diag.setLogger(
      { error: write('error'), warn: write('warning'), info: write('debug'), debug: write('debug'), verbose: write('debug') },
      DiagLogLevel.WARN,
    );
  }
  const tracesExporter = env.OTEL_TRACES_EXPORTER?.trim();
  const configuration: Record<string, unknown> = {
    instrumentations: module.instrumentations ?? [],
    // Only what was asked for: NodeSDK would otherwise also push metrics and logs over OTLP.
    ...(wanted.otlpMetrics ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER?.trim() ? {} : { logRecordProcessors: [] }),
    ...(!wanted.tracing ? { spanProcessors: [] } : tracesExporter === 'none' ? { spanProcessors: [DISCARD] } : {}),
    ...(env.OTEL_SERVICE_NAME || /(^|,)\s*service\.name=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '')
      ? {}
      : { serviceName: defaultServiceName() }),
  };
  const sdk = new sdkModule.NodeSDK(configuration);
  sdk.start();
  return {
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sdk.shutdown().catch((error: unknown) => log.warning(`OpenTelemetry shutdown: ${(error as Error)?.message ?? String(error)}`)),
        new Promise<void>((r) => (timer = setTimeout(r, 3000))),
      ]);
      clearTimeout(timer);
    },
  };
}
