/**
 * The arbiter: keeps the configured number of workers alive on sockets it shares with them,
 * and turns signals into restarts, reloads and shutdowns, the way Gunicorn's arbiter does.
 *
 * The arbiter binds each address once, keeps the socket open for its whole life, and hands
 * it to every worker, which listens and accepts on it directly (as Gunicorn's workers do).
 * A worker whose event loop is stuck therefore takes no new connections, and while workers
 * restart or reload, new connections wait in the socket's backlog instead of being refused.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveConfig, type ArbiterInfo, type ResolvedConfig, type ServerConfig, type WorkerExitInfo } from './config.js';
import { ExitCode } from './exit-codes.js';
import { WORKER_ENV, isWorkerMessage, type ArbiterMessage, type WorkerBrief, type WorkerMessage } from './ipc.js';
import { AppLoadError, loadApp } from './loader.js';
import { ErrorLog } from './logging.js';
import { watchSources } from './reload.js';
import { SharedCounters } from './shared-counters.js';
import type { SettingValue, Settings } from './settings.js';
import { ArbiterMetrics } from './telemetry/metrics-endpoint.js';
import { errorLogFormat } from './telemetry/logger.js';
import {
  bindHandle,
  boundPort,
  chmodUnixSocket,
  clearStaleUnixSocket,
  describeBind,
  parseBind,
  removeUnixSocket,
  type SocketHandle,
} from './sockets.js';

type Purpose = 'initial' | 'replace' | 'reload';

interface Slot {
  id: number;
  generation: number;
  purpose: Purpose;
  worker: ChildProcess;
  pid: number;
  socketsSent: boolean;
  state: 'booting' | 'ready' | 'stopping';
  retiring: boolean;
  lastBeat: number;
  /** When the worker was forked: it must be ready within --timeout of it. */
  spawnedAt: number;
  stopDeadline: number;
  killedFor?: 'timeout' | 'boot-timeout' | 'stop-deadline';
  /** Why it could not boot; `code` is the exit code it reported, if it reported one. */
  failure?: { code?: number; message: string };
  ready: Promise<void>;
  exited: Promise<void>;
  markReady(): void;
  markFailed(error: Error): void;
  markExited(): void;
}

/** A worker that died before it served: carries the exit code the arbiter should stop with, if fatal. */
class BootFailure extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

/** How many workers in a row may die before serving before the arbiter gives up. */
const MAX_BOOT_DEATHS = 5;

export interface ArbiterOptions {
  /** MODULE[:EXPORT] of the app. */
  app: string;
  /** The flags given on the command line, re-applied on every reload. */
  flags: Partial<Record<keyof Settings, SettingValue>>;
  resolved: ResolvedConfig;
}

export class Arbiter {
  private settings: Settings;
  private config: ServerConfig;
  private log: ErrorLog;
  private readonly slots = new Map<number, Slot>();
  private nextId = 1;
  private generation = 1;
  private target: number;
  private stopping = false;
  private reloading = false;
  private bootDeaths = 0;
  private queue: Promise<void> = Promise.resolve();
  /** The bound sockets, by `--bind` text. */
  private readonly handles = new Map<string, SocketHandle>();
  /** The counters workers share (rate limits across workers: shared-counters.ts). */
  private readonly counters = new SharedCounters();
  private readonly unixPaths = new Set<string>();
  /** `GET /metrics` on --metrics-bind, for all workers together (telemetry/metrics-endpoint.ts). */
  private metrics: ArbiterMetrics | undefined;
  private readonly workerScript = fileURLToPath(new URL('./worker-process.js', import.meta.url));
  private monitor: NodeJS.Timeout | undefined;
  private stopWatching: (() => void) | undefined;
  private finish!: (code: number) => void;
  private readonly done = new Promise<number>((resolve) => (this.finish = resolve));

  constructor(private readonly options: ArbiterOptions) {
    this.settings = options.resolved.settings;
    this.config = options.resolved.config;
    this.target = this.settings.workers;
    this.log = ErrorLog.open(this.settings.errorLog, this.settings.logLevel, errorLogFormat(this.settings));
  }

  private info(): ArbiterInfo {
    return { pid: process.pid, settings: this.settings, workers: this.slots.size };
  }

  private async hook<K extends 'onStarting' | 'whenReady' | 'onExit'>(name: K): Promise<void> {
    try {
      await this.config[name]?.(this.info());
    } catch (error) {
      this.log.error(`${name} hook failed: ${(error as Error)?.stack ?? String(error)}`);
    }
  }

  /** Runs the server; resolves with the process exit code once it has shut down. */
  async run(): Promise<number> {
    this.log.info(`Starting carafe (node ${process.version})`);
    this.installSignals();
    if (this.settings.pid) writeFileSync(this.settings.pid, `${process.pid}\n`);
    await this.hook('onStarting');
    if (this.settings.preload) {
      try {
        await loadApp(this.options.app);
      } catch (error) {
        const message = error instanceof AppLoadError ? error.message : String((error as Error)?.stack ?? error);
        this.log.critical(`failed to load the app: ${message}`);
        void this.shutdown(false, ExitCode.APP_LOAD);
        return this.done;
      }
    }
    try {
      await this.bindAll(this.settings.bind);
    } catch (error) {
      this.log.critical((error as Error).message);
      void this.shutdown(false, ExitCode.ERROR);
      return this.done;
    }
    if (this.settings.metricsBind !== undefined) {
      const workers = () =>
        [...this.slots.values()].map((slot) => ({ id: slot.id, state: slot.state, send: (m: ArbiterMessage) => slot.worker.send(m) }));
      this.metrics = new ArbiterMetrics(this.settings.metricsBind, this.log, workers);
      try {
        this.log.info(`Metrics at: ${await this.metrics.start()}`);
      } catch (error) {
        this.log.critical(`cannot serve metrics on ${this.settings.metricsBind}: ${(error as Error).message}`);
        void this.shutdown(false, ExitCode.ERROR);
        return this.done;
      }
    }
    // The watchdog runs from the first fork: a worker whose boot never finishes is killed too.
    this.monitor = setInterval(() => this.checkWorkers(), Math.max(50, Math.min(1000, (this.settings.timeout * 1000) / 4 || 1000)));
    const first = Array.from({ length: this.target }, () => this.spawn('initial'));
    // A worker that fails here either stops the arbiter (onExit) or is replaced.
    await Promise.allSettled(first.map((slot) => slot.ready));
    if (this.stopping) return this.done;
    this.announce();
    if (this.settings.reload) this.watch();
    await this.hook('whenReady');
    return this.done;
  }

  /**
   * Binds every address not bound yet. A unix socket left by a dead server is removed first
   * (one still answering is an error) and gets `--socket-mode` right after binding.
   */
  private async bindAll(binds: string[]): Promise<void> {
    for (const text of binds) {
      if (this.handles.has(text)) continue;
      const address = parseBind(text);
      if (address.kind === 'unix') await clearStaleUnixSocket(address.path);
      const handle = await bindHandle(address);
      this.handles.set(text, handle);
      if (address.kind === 'unix') {
        this.unixPaths.add(address.path);
        chmodUnixSocket(address.path, this.settings.socketMode);
      }
    }
  }

  /** Closes sockets no longer configured (after a reload retired their workers). */
  private unbindUnused(): void {
    for (const [text, handle] of this.handles) {
      if (this.settings.bind.includes(text)) continue;
      handle.close();
      this.handles.delete(text);
    }
  }

  private announce(): void {
    for (const text of this.settings.bind) {
      const address = parseBind(text);
      if (address.kind === 'tcp' && address.port === 0) address.port = boundPort(this.handles.get(text)!) ?? 0;
      this.log.info(`Listening at: ${describeBind(address)} (${process.pid})`);
    }
  }

  /** Hands the bound sockets to a worker, once it is listening for messages. */
  private sendSockets(slot: Slot): void {
    slot.socketsSent = true;
    for (const text of this.settings.bind) {
      const message: ArbiterMessage = { t: 'socket', bind: text };
      slot.worker.send(message, this.handles.get(text) as never);
    }
  }

  private spawn(purpose: Purpose): Slot {
    const id = this.nextId++;
    const brief: WorkerBrief = { id, app: this.options.app, settings: this.settings };
    const worker = fork(this.workerScript, [], {
      env: { ...process.env, [WORKER_ENV]: JSON.stringify(brief) },
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    let markReady!: () => void;
    let markFailed!: (error: Error) => void;
    let markExited!: () => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    ready.catch(() => {});
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const slot: Slot = {
      id,
      generation: this.generation,
      purpose,
      worker,
      pid: worker.pid ?? 0,
      socketsSent: false,
      state: 'booting',
      retiring: false,
      lastBeat: Date.now(),
      spawnedAt: Date.now(),
      stopDeadline: 0,
      ready,
      exited,
      markReady,
      markFailed,
      markExited,
    };
    this.slots.set(id, slot);
    this.metrics?.workerStarted(purpose);
    worker.on('message', (message) => this.onMessage(slot, message));
    worker.on('exit', (code, signal) => void this.onExit(slot, code, signal));
    worker.on('error', (error) => this.log.error(`worker ${slot.pid}: ${error.message}`));
    this.log.info(`Booting worker with pid: ${slot.pid}`);
    return slot;
  }

  private onMessage(slot: Slot, message: unknown): void {
    if (!this.slots.has(slot.id) || !isWorkerMessage(message)) return;
    const m = message as WorkerMessage;
    slot.lastBeat = Date.now();
    if (!slot.socketsSent) this.sendSockets(slot);
    switch (m.t) {
      case 'hb':
        return;
      case 'ready':
        if (slot.state === 'booting') slot.state = 'ready';
        this.bootDeaths = 0;
        slot.markReady();
        return;
      case 'failed':
        slot.failure = { code: m.code, message: m.message };
        return;
      case 'metrics':
        this.metrics?.onSnapshot(slot.id, m.seq, m.snapshot);
        return;
      case 'count':
        this.counters.answer(slot.worker, m.hits);
        return;
      case 'retire':
        if (slot.retiring || slot.state === 'stopping' || this.stopping) return;
        slot.retiring = true;
        this.log.info(`Worker (pid:${slot.pid}) asked to be replaced: ${m.why}`);
        this.spawn('replace').ready.then(
          () => this.stopWorker(slot, true),
          () => {},
        );
        return;
    }
  }

  private async onExit(slot: Slot, code: number | null, signal: string | null): Promise<void> {
    if (!this.slots.delete(slot.id)) return;
    const reason: WorkerExitInfo['reason'] =
      slot.killedFor === 'timeout'
        ? 'timeout'
        : slot.killedFor === 'boot-timeout'
          ? 'boot-failed'
          : slot.state === 'stopping'
            ? 'stopped'
            : slot.state === 'booting'
              ? 'boot-failed'
              : 'crashed';
    this.metrics?.workerExited(slot.id, reason);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (reason === 'stopped') this.log.info(`Worker (pid:${slot.pid}) ${how}`);
    else if (reason === 'timeout') this.log.error(`Worker (pid:${slot.pid}) ${how} after a worker timeout`);
    else this.log.error(`Worker (pid:${slot.pid}) ${how}${reason === 'boot-failed' ? ' before it could serve' : ''}`);
    slot.markExited();
    // Decide first, so whoever awaits this worker's readiness already sees the arbiter stopping.
    if (!this.stopping && reason === 'boot-failed' && slot.purpose !== 'reload') {
      const fatal = slot.failure?.code ?? (++this.bootDeaths >= MAX_BOOT_DEATHS ? ExitCode.WORKER_BOOT : undefined);
      if (fatal !== undefined) {
        const what = !slot.failure
          ? `${MAX_BOOT_DEATHS} workers in a row died before serving`
          : fatal === ExitCode.APP_LOAD
            ? 'App failed to load'
            : fatal === ExitCode.WORKER_BOOT
              ? 'Worker failed to boot'
              : 'Worker could not start';
        this.log.critical(`${what}; shutting down (exit ${fatal})`);
        void this.shutdown(false, fatal);
      }
    }
    slot.markFailed(new BootFailure(slot.failure?.message ?? `worker ${how} before it could serve`, slot.failure?.code));
    try {
      await this.config.workerExit?.({ pid: slot.pid, id: slot.id, code, signal, reason });
    } catch (error) {
      this.log.error(`workerExit hook failed: ${(error as Error)?.stack ?? String(error)}`);
    }
    this.manage();
  }

  /** Spawns or stops workers until the current generation has `target` live ones. */
  private manage(): void {
    if (this.stopping || this.reloading) return;
    const live = [...this.slots.values()].filter((s) => s.state !== 'stopping' && !s.retiring);
    for (let n = live.length; n < this.target; n++) this.spawn('replace');
    const extra = live.length - this.target;
    if (extra > 0) {
      // Workers still booting go first (they serve nobody yet), then the oldest.
      const rank = (slot: Slot) => (slot.state === 'booting' ? 0 : 1);
      live.sort((a, b) => rank(a) - rank(b) || a.id - b.id);
      for (const slot of live.slice(0, extra)) this.stopWorker(slot, true);
    }
  }

  private stopWorker(slot: Slot, graceful: boolean): void {
    if (slot.state === 'stopping' && graceful) return;
    slot.state = 'stopping';
    slot.stopDeadline = Date.now() + (graceful ? this.settings.gracefulTimeout * 1000 + 2000 : 2000);
    const message: ArbiterMessage = { t: 'stop', graceful };
    try {
      slot.worker.send(message);
    } catch {
      slot.worker.kill('SIGKILL');
    }
  }

  /**
   * The heartbeat watchdog, the boot deadline (a worker must be ready within --timeout of its
   * fork: one whose lifespan startup never finishes still heartbeats), and the deadline for
   * workers asked to stop.
   */
  private checkWorkers(): void {
    const now = Date.now();
    const timeout = this.settings.timeout * 1000;
    for (const slot of this.slots.values()) {
      if (slot.killedFor) continue;
      if (timeout && slot.state === 'booting' && now - slot.spawnedAt > timeout) {
        const message = `worker did not finish booting within --timeout (${this.settings.timeout}s)`;
        this.log.error(`Worker (pid:${slot.pid}) ${message}; killing it`);
        slot.failure ??= { message };
        slot.killedFor = 'boot-timeout';
        slot.worker.kill('SIGKILL');
      } else if (timeout && now - slot.lastBeat > timeout) {
        this.log.critical(`WORKER TIMEOUT (pid:${slot.pid})`);
        this.metrics?.workerTimedOut();
        slot.killedFor = 'timeout';
        slot.worker.kill('SIGKILL');
      } else if (slot.stopDeadline && now > slot.stopDeadline) {
        this.log.warning(`Worker (pid:${slot.pid}) did not stop in time; killing it`);
        slot.killedFor = 'stop-deadline';
        slot.worker.kill('SIGKILL');
      }
    }
  }

  /** Serialises reloads and resizes. */
  private enqueue(task: () => Promise<void> | void): void {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.log.error(`${(error as Error)?.stack ?? String(error)}`);
    });
  }

  private installSignals(): void {
    process.on('SIGTERM', () => {
      this.log.info('Handling signal: term');
      void this.shutdown(true, ExitCode.OK);
    });
    for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
      process.on(signal, () => {
        this.log.info(`Handling signal: ${signal.slice(3).toLowerCase()}`);
        void this.shutdown(false, ExitCode.OK);
      });
    }
    process.on('SIGHUP', () => {
      this.log.info('Handling signal: hup');
      this.enqueue(() => this.reload());
    });
    process.on('SIGTTIN', () => {
      this.log.info('Handling signal: ttin');
      this.enqueue(() => {
        this.target++;
        this.manage();
      });
    });
    process.on('SIGTTOU', () => {
      this.log.info('Handling signal: ttou');
      this.enqueue(() => {
        this.target = Math.max(1, this.target - 1);
        this.manage();
      });
    });
    process.on('SIGUSR1', () => {
      this.log.info('Handling signal: usr1');
      this.log.file.reopen();
      for (const slot of this.slots.values()) {
        try {
          slot.worker.send({ t: 'reopen' } satisfies ArbiterMessage);
        } catch {
          // a worker on its way out
        }
      }
    });
  }

  private watch(): void {
    this.stopWatching = watchSources(process.cwd(), (file) => {
      this.log.info(`${file} changed; reloading`);
      this.enqueue(() => this.reload());
    });
  }

  /**
   * HUP: reread the configuration, boot a full set of new workers (fresh processes load the
   * app's current code), and only once all of them serve, retire the old ones gracefully.
   * If the new workers cannot boot, the old ones keep serving.
   */
  async reload(): Promise<void> {
    if (this.stopping) return;
    let resolved: ResolvedConfig;
    try {
      resolved = await resolveConfig(this.options.flags, process.env, true);
      await this.bindAll(resolved.settings.bind);
    } catch (error) {
      this.log.error(`reload failed, keeping the running workers: ${(error as Error).message}`);
      return;
    }
    const previous = { settings: this.settings, config: this.config, generation: this.generation, target: this.target };
    this.settings = resolved.settings;
    this.config = resolved.config;
    this.target = this.settings.workers;
    this.reloading = true;
    const old = [...this.slots.values()];
    this.generation++;
    const fresh = Array.from({ length: this.target }, () => this.spawn('reload'));
    try {
      await Promise.all(fresh.map((slot) => slot.ready));
    } catch (error) {
      this.log.error(`reload failed, keeping the running workers: ${(error as Error).message}`);
      for (const slot of fresh) this.stopWorker(slot, false);
      Object.assign(this, previous);
      this.reloading = false;
      this.manage();
      return;
    }
    this.reloading = false;
    if (this.stopping) return;
    for (const slot of old) this.stopWorker(slot, true);
    await Promise.all(old.map((slot) => slot.exited));
    this.unbindUnused();
    this.announce();
    this.manage();
  }

  /** Stops every worker (gracefully or not), cleans up and resolves `run()` with `code`. */
  async shutdown(graceful: boolean, code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopWatching?.();
    const slots = [...this.slots.values()];
    for (const slot of slots) this.stopWorker(slot, graceful);
    const deadline = (graceful ? this.settings.gracefulTimeout * 1000 : 0) + 3000;
    const all = Promise.all(slots.map((slot) => slot.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadline)))]);
    clearTimeout(timer);
    if (late) {
      for (const slot of this.slots.values()) slot.worker.kill('SIGKILL');
      await Promise.race([all, new Promise((r) => setTimeout(r, 1000))]);
    }
    clearInterval(this.monitor);
    this.metrics?.close();
    for (const handle of this.handles.values()) handle.close();
    for (const path of this.unixPaths) removeUnixSocket(path);
    if (this.settings.pid) {
      try {
        unlinkSync(this.settings.pid);
      } catch {
        // already gone
      }
    }
    await this.hook('onExit');
    this.log.info(`Shutting down: arbiter (exit ${code})`);
    this.log.file.close();
    this.finish(code);
  }
}
