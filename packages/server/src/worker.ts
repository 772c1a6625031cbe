/**
 * A worker process: loads the app, serves it on the arbiter's shared sockets through the
 * gateway's node binding, heartbeats, and stops when told to. The request path adds only
 * the limit check to the binding's own work; logging, hooks and request counting are
 * wired in only when configured.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import {
  closeAfterResponse,
  createServer,
  keepLifespan,
  shutdown,
  startup,
  type BindingOptions,
  type FinishedRecord,
  type ServerOptions,
  type TsgiApplication,
  type TsgiMiddleware,
} from '@carafe/gateway';
import { loadConfigFile, type ServerConfig } from './config.js';
import { ExitCode } from './exit-codes.js';
import { WORKER_ENV, type ArbiterMessage, type WorkerBrief, type WorkerMessage } from './ipc.js';
import { applyServerLimits, bodyLimit, checkRequest, limitsFrom, nodeServerOptions, rejectRequest } from './limits.js';
import { AppLoadError, loadApp } from './loader.js';
import { AccessLog, ErrorLog } from './logging.js';
import { proxyFix } from './middleware/proxy-fix.js';
import type { Settings } from './settings.js';
import { markWorkerProcess } from './shared-counters.js';
import { describeBind, parseBind, type SocketHandle } from './sockets.js';
import { createAppLogger, errorLogFormat } from './telemetry/logger.js';
import { WorkerMetrics } from './telemetry/metrics.js';
import { announceTelemetry, observeFinished, observeMiddleware, type Observation } from './telemetry/observe.js';
import { otlpMetricsWanted, setupTelemetry, tracingWanted, type TelemetryHandle } from './telemetry/setup.js';

type Outgoing = { headersSent: boolean; shouldKeepAlive: boolean };
const netClose = NetServer.prototype.close;

/** How often a worker reports that its event loop is alive: a few times per timeout. */
export function heartbeatInterval(timeoutSeconds: number): number {
  return timeoutSeconds > 0 ? Math.max(50, Math.min(1000, (timeoutSeconds * 1000) / 4)) : 1000;
}

/** The app as the worker serves it: proxy fix, body limit, preRequest, the config's middleware, the app. */
export function composeApp(
  app: TsgiApplication,
  settings: Settings,
  config: ServerConfig,
  log: ErrorLog,
  observe?: TsgiMiddleware,
): TsgiApplication {
  let composed = (config.middleware ?? []).reduceRight((inner, middleware) => middleware(inner), app);
  const preRequest = config.preRequest;
  if (preRequest) {
    const inner = composed;
    composed = keepLifespan((environ) => {
      try {
        preRequest(environ);
      } catch (error) {
        log.error(`preRequest hook failed: ${(error as Error)?.stack ?? String(error)}`);
      }
      return inner(environ);
    }, inner);
  }
  if (settings.limitRequestBody) composed = bodyLimit(settings.limitRequestBody)(composed);
  // Tracing and metrics (only when on): inside the proxy fix, so they see the real client and scheme.
  if (observe) composed = observe(composed);
  return proxyFix({ trusted: settings.forwardedAllowIps })(composed);
}

class Worker {
  private readonly settings: Settings;
  private readonly log: ErrorLog;
  private accessLog: AccessLog | undefined;
  private app: TsgiApplication | undefined;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  /** The arbiter's bound sockets, by `--bind` text; kept referenced for the worker's life. */
  private readonly handles = new Map<string, SocketHandle>();
  private handlesArrived: () => void = () => {};
  private draining = false;
  private retiring = false;
  private served = 0;
  private readonly maxRequests: number;
  /** Tracing and metrics of this worker; `undefined` when both are off. */
  private observation: Observation | undefined;
  private telemetry: TelemetryHandle | undefined;

  constructor(private readonly brief: WorkerBrief) {
    this.settings = brief.settings;
    this.log = ErrorLog.open(this.settings.errorLog, this.settings.logLevel, errorLogFormat(this.settings));
    const { maxRequests, maxRequestsJitter } = this.settings;
    this.maxRequests = maxRequests ? maxRequests + Math.floor(Math.random() * (maxRequestsJitter + 1)) : 0;
  }

  private send(message: WorkerMessage, then?: () => void): void {
    if (process.connected) process.send!(message, undefined, {}, () => then?.());
    else then?.();
  }

  private fail(code: number, message: string): never {
    this.log.critical(message);
    this.log.file.flushNow();
    this.send({ t: 'failed', code, message }, () => process.exit(code));
    // Keep the event loop from doing anything else while the message goes out.
    throw new BootAbort();
  }

  async boot(): Promise<void> {
    const { settings, brief } = this;
    markWorkerProcess();
    this.installSignals();
    // The first heartbeat also tells the arbiter this process now listens for its sockets.
    const beat = setInterval(() => this.send({ t: 'hb' }), heartbeatInterval(settings.timeout));
    beat.unref();
    this.send({ t: 'hb' });
    const socketsReady = new Promise<void>((resolve) => (this.handlesArrived = resolve));
    if (this.gotAllHandles()) this.handlesArrived();

    // The apps of this process log through pino, and report routes when traced or measured.
    const tracing = tracingWanted(settings);
    const otlpMetrics = otlpMetricsWanted();
    const metrics = settings.metricsBind !== undefined || otlpMetrics ? new WorkerMetrics({ otlp: otlpMetrics }) : undefined;
    if (tracing || metrics) this.observation = { tracing, metrics };
    announceTelemetry({ logger: await createAppLogger(settings, this.log), tracing, metrics: metrics !== undefined });

    let config: ServerConfig = {};
    try {
      if (settings.config) config = await loadConfigFile(settings.config);
      await config.postFork?.({ pid: process.pid, id: brief.id, settings });
      // OpenTelemetry's SDK, once per process, before the app (and what it instruments) loads.
      if (tracing || otlpMetrics) this.telemetry = await setupTelemetry(settings, this.log, { tracing, otlpMetrics });
    } catch (error) {
      this.fail(ExitCode.WORKER_BOOT, `worker boot failed: ${(error as Error)?.stack ?? String(error)}`);
    }
    if (settings.metricsBind !== undefined) setInterval(() => this.sendMetrics(0), METRICS_PUSH_MS).unref();
    let app: TsgiApplication;
    try {
      app = await loadApp(brief.app);
    } catch (error) {
      const message = error instanceof AppLoadError ? error.message : String((error as Error)?.stack ?? error);
      this.fail(ExitCode.APP_LOAD, `failed to load the app: ${message}`);
    }
    try {
      app = composeApp(app, settings, config, this.log, this.observation && observeMiddleware(this.observation));
      if (settings.accessLog) this.accessLog = AccessLog.open(settings.accessLog, settings.accessLogFormat);
      await startup(app);
      this.app = app;
    } catch (error) {
      this.fail(ExitCode.WORKER_BOOT, `worker boot failed (lifespan startup or middleware): ${(error as Error)?.stack ?? String(error)}`);
    }

    const bindingOptions: BindingOptions = {
      errors: this.log.stream(),
      multiprocess: settings.workers > 1,
      onFinished: this.finishedHandler(config),
    };
    const serverOptions: ServerOptions = {
      ...nodeServerOptions(settings),
      admit: this.admitter(),
    };
    await socketsReady;
    for (const text of settings.bind) {
      const address = parseBind(text);
      const server = createServer(app, { ...bindingOptions, ...serverOptions });
      applyServerLimits(server);
      this.trackConnections(server);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.handles.get(text), () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        this.fail(ExitCode.ERROR, `cannot listen on ${describeBind(address)}: ${(error as Error).message}`);
      }
      this.servers.push(server);
    }
    process.on('uncaughtException', (error) => this.onUncaught(error));
    process.on('unhandledRejection', (error) => this.onUncaught(error));
    this.send({ t: 'ready' });
  }

  /** One callback for everything that wants to see finished requests, or none at all. */
  private finishedHandler(config: ServerConfig): ((record: FinishedRecord) => void) | undefined {
    const parts: Array<(record: FinishedRecord) => void> = [];
    if (this.observation) parts.push(observeFinished(this.observation));
    if (this.settings.accessLog) parts.push((record) => this.accessLog!.record(record));
    const postRequest = config.postRequest;
    if (postRequest) {
      parts.push((record) => {
        try {
          postRequest(record);
        } catch (error) {
          this.log.error(`postRequest hook failed: ${(error as Error)?.stack ?? String(error)}`);
        }
      });
    }
    if (this.maxRequests) {
      parts.push(() => {
        if (++this.served >= this.maxRequests && !this.retiring) this.retire(`served ${this.served} requests (max-requests)`);
      });
    }
    if (parts.length === 0) return undefined;
    if (parts.length === 1) return parts[0];
    return (record) => {
      for (const part of parts) part(record);
    };
  }

  /**
   * What runs before the binding sees a request: the limit checks (a request that breaks one is
   * answered here and never reaches the app), and, while draining, `Connection: close` on the
   * response so the client moves to another worker.
   */
  private admitter(): (req: IncomingMessage, res: ServerResponse) => boolean {
    const limits = limitsFrom(this.settings);
    return (req, res) => {
      const violation = checkRequest(req, limits);
      if (violation) {
        rejectRequest(req, res, violation[0], violation[1]);
        return false;
      }
      if (this.draining) closeAfterResponse(req, res);
      return true;
    };
  }

  /** Keeps every open connection in {@link sockets}, so draining can close the idle ones. */
  private trackConnections(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  private retire(why: string): void {
    this.retiring = true;
    this.log.info(`worker retiring: ${why}`);
    if (process.connected) this.send({ t: 'retire', why });
    else void this.stop(true);
  }

  private onUncaught(error: unknown): void {
    this.log.critical(`uncaught error in worker: ${(error as Error)?.stack ?? String(error)}`);
    if (!this.retiring) this.retire('uncaught error');
  }

  private installSignals(): void {
    // The arbiter decides what a terminal's INT/QUIT/HUP mean; TTIN/TTOU must not stop the process.
    for (const signal of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU'] as const) process.on(signal, () => {});
    process.on('SIGTERM', () => void this.stop(true));
    process.on('SIGUSR1', () => this.reopen());
    process.on('message', (message: ArbiterMessage, handle: unknown) => {
      if (message?.t === 'socket') {
        this.handles.set(message.bind, handle as SocketHandle);
        if (this.gotAllHandles()) this.handlesArrived();
      } else if (message?.t === 'stop') void this.stop(message.graceful);
      else if (message?.t === 'reopen') this.reopen();
      else if (message?.t === 'metrics?') this.sendMetrics(message.seq);
    });
    // The arbiter went away (killed with SIGKILL, say): there is no one to serve for.
    process.on('disconnect', () => void this.stop(false));
  }

  /**
   * Lets connections finish: a response not yet started is marked to close its connection,
   * a connection silent for IDLE_GRACE_MS is closed, and at the deadline all are cut.
   */
  private drain(deadline: number): Promise<void> {
    const silentSince = new Map<Socket, { at: number; bytesRead: number }>();
    return new Promise<void>((done) => {
      const sweep = () => {
        const now = Date.now();
        for (const socket of this.sockets) {
          const current = (socket as Socket & { _httpMessage?: Outgoing | null })._httpMessage;
          if (current) {
            if (!current.headersSent) current.shouldKeepAlive = false;
            silentSince.delete(socket);
            continue;
          }
          const seen = silentSince.get(socket);
          if (!seen || seen.bytesRead !== socket.bytesRead) silentSince.set(socket, { at: now, bytesRead: socket.bytesRead });
          else if (now - seen.at >= IDLE_GRACE_MS) socket.destroy();
        }
        if (this.sockets.size === 0) return done();
        if (now >= deadline) {
          for (const socket of this.sockets) socket.destroy();
          return done();
        }
        setTimeout(sweep, 50);
      };
      sweep();
    });
  }

  /** This worker's cumulative request metrics, to the arbiter (`seq` 0: not asked for). */
  private sendMetrics(seq: number, then?: () => void): void {
    const metrics = this.observation?.metrics;
    if (metrics === undefined || this.settings.metricsBind === undefined) {
      then?.();
      return;
    }
    this.send({ t: 'metrics', seq, snapshot: metrics.snapshot() }, then);
  }

  private gotAllHandles(): boolean {
    return this.settings.bind.every((text) => this.handles.has(text));
  }

  private reopen(): void {
    this.log.file.reopen();
    this.accessLog?.file.reopen();
  }

  private stopping = false;

  /**
   * Stops accepting; a graceful stop lets in-flight requests finish (their connections
   * close after the response) within the graceful timeout, then runs lifespan shutdown.
   */
  async stop(graceful: boolean): Promise<void> {
    if (this.stopping) return;
    this.stopping = this.draining = true;
    // net.Server's close, not http.Server's: the latter also drops idle keep-alive connections
    // at once, racing a client that is just sending its next request on one of them.
    for (const server of this.servers) netClose.call(server);
    if (graceful) await this.drain(Date.now() + this.settings.gracefulTimeout * 1000);
    else for (const socket of this.sockets) socket.destroy();
    if (this.app && graceful) {
      try {
        await shutdown(this.app);
      } catch (error) {
        this.log.error(`lifespan shutdown failed: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
    // The last counts and spans of this worker go out before it does.
    await new Promise<void>((resolve) => this.sendMetrics(0, resolve));
    await this.telemetry?.shutdown();
    this.accessLog?.file.close();
    this.log.file.close();
    process.exit(ExitCode.OK);
  }
}

/**
 * How long a connection must stay silent (no request in progress, no byte read) before a
 * draining worker closes it. A client that sends within this time gets its answer, with
 * `Connection: close`, instead of a connection reset.
 */
const IDLE_GRACE_MS = 250;

/** How often a worker sends its metrics unasked, so a worker that dies loses at most this much. */
const METRICS_PUSH_MS = 5000;

/** Thrown to unwind boot after a fatal error was reported; the process exits right after. */
class BootAbort extends Error {}

/** The worker process's main: called by worker-process.js, which the arbiter forks. */
export async function runWorker(): Promise<void> {
  const text = process.env[WORKER_ENV];
  if (!text) throw new Error('carafe worker started without its brief; it is started by `carafe serve`');
  delete process.env[WORKER_ENV];
  const worker = new Worker(JSON.parse(text) as WorkerBrief);
  try {
    await worker.boot();
  } catch (error) {
    if (!(error instanceof BootAbort)) throw error;
  }
}
