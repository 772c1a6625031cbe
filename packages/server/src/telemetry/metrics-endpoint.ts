/**
 * The arbiter's side of the metrics: `GET /metrics` on `--metrics-bind`, answered with the sum
 * over every worker process of this `carafe serve` (a scrape of one worker would see only its
 * share), plus the arbiter's own worker counters.
 *
 * The protocol, over the workers' IPC channel: on each scrape the arbiter sends every serving
 * worker `{ t: 'metrics?', seq }`; each answers `{ t: 'metrics', seq, snapshot }` with its
 * cumulative counts (a worker also sends one, with `seq: 0`, every few seconds and as it stops).
 * The arbiter waits at most {@link SCRAPE_WAIT_MS} for the answers — a stuck worker is
 * represented by its last snapshot — then adds up: the retired total (the last snapshots of
 * workers that exited), and the latest snapshot of each live worker.
 */
import { createServer, type Server } from 'node:http';
import type { ArbiterMessage } from '../ipc.js';
import type { ErrorLog } from '../logging.js';
import { describeBind, parseBind } from '../sockets.js';
import { addSeries, renderPrometheus, type HistogramSeries, type MetricsSnapshot, type ServerSeries } from './metrics.js';

/** How long a scrape waits for the workers' answers. */
export const SCRAPE_WAIT_MS = 1000;

/** What the arbiter tells about one of its workers. */
export interface WorkerHandle {
  id: number;
  state: 'booting' | 'ready' | 'stopping';
  send(message: ArbiterMessage): void;
}

type Purpose = 'initial' | 'replace' | 'reload';
type ExitReason = 'stopped' | 'timeout' | 'crashed' | 'boot-failed';

export class ArbiterMetrics {
  private readonly retired = new Map<string, HistogramSeries>();
  private readonly live = new Map<number, MetricsSnapshot>();
  private readonly pending = new Map<number, { waiting: Set<number>; done: () => void }>();
  private seq = 0;
  private readonly starts: Record<Purpose, number> = { initial: 0, replace: 0, reload: 0 };
  private readonly exits: Record<ExitReason, number> = { stopped: 0, timeout: 0, crashed: 0, 'boot-failed': 0 };
  private timeouts = 0;
  private server: Server | undefined;

  constructor(
    private readonly bind: string,
    private readonly log: ErrorLog,
    private readonly workers: () => WorkerHandle[],
  ) {}

  /** Listens on the metrics address; resolves with how it reads in logs. */
  async start(): Promise<string> {
    const address = parseBind(this.bind);
    if (address.kind === 'fd') throw new Error(`--metrics-bind ${this.bind}: give HOST:PORT or unix:PATH`);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found: metrics are at /metrics\n');
        return;
      }
      this.collect().then(
        (text) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          this.log.error(`metrics scrape failed: ${(error as Error)?.stack ?? String(error)}`);
          res.writeHead(500).end();
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (address.kind === 'unix') server.listen(address.path, listening);
      else server.listen(address.port, address.host, listening);
    });
    server.unref();
    this.server = server;
    const bound = server.address();
    if (address.kind === 'tcp' && typeof bound === 'object' && bound) address.port = bound.port;
    return `${describeBind(address)}/metrics`;
  }

  close(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }

  /** A worker's counts arrived (an answer to a scrape, or sent on its own with `seq` 0). */
  onSnapshot(id: number, seq: number, snapshot: MetricsSnapshot): void {
    this.live.set(id, snapshot);
    const scrape = this.pending.get(seq);
    if (scrape?.waiting.delete(id) && scrape.waiting.size === 0) scrape.done();
  }

  workerStarted(purpose: Purpose): void {
    this.starts[purpose]++;
  }

  workerTimedOut(): void {
    this.timeouts++;
  }

  /** A worker exited: its last counts join the retired total; it no longer has requests in flight. */
  workerExited(id: number, reason: ExitReason): void {
    this.exits[reason]++;
    const last = this.live.get(id);
    if (last) for (const series of last.duration) addSeries(this.retired, series);
    this.live.delete(id);
    for (const scrape of this.pending.values()) {
      if (scrape.waiting.delete(id) && scrape.waiting.size === 0) scrape.done();
    }
  }

  /** Asks every serving worker for its counts, waits for them (bounded), and renders the sum. */
  async collect(): Promise<string> {
    const seq = ++this.seq;
    const asked = this.workers().filter((worker) => worker.state !== 'booting');
    const waiting = new Set(asked.map((worker) => worker.id));
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.pending.set(seq, { waiting, done: resolve });
      for (const worker of asked) {
        try {
          worker.send({ t: 'metrics?', seq });
        } catch {
          waiting.delete(worker.id);
        }
      }
      if (waiting.size === 0) resolve();
      timer = setTimeout(resolve, SCRAPE_WAIT_MS);
    });
    clearTimeout(timer);
    this.pending.delete(seq);
    return this.render();
  }

  render(): string {
    const duration = new Map<string, HistogramSeries>();
    for (const series of this.retired.values()) addSeries(duration, series);
    const active: MetricsSnapshot['active'] = [];
    for (const snapshot of this.live.values()) {
      for (const series of snapshot.duration) addSeries(duration, series);
      active.push(...snapshot.active);
    }
    const states = { booting: 0, ready: 0, stopping: 0 };
    for (const worker of this.workers()) states[worker.state]++;
    const server: ServerSeries[] = [
      {
        name: 'carafe_workers',
        type: 'gauge',
        help: 'Worker processes of this server, by state.',
        values: Object.entries(states).map(([state, value]) => ({ labels: { state }, value })),
      },
      {
        name: 'carafe_worker_starts_total',
        type: 'counter',
        help: 'Worker processes started: initial, replace (a restart after an exit, a timeout or a retirement), reload.',
        values: Object.entries(this.starts).map(([purpose, value]) => ({ labels: { purpose }, value })),
      },
      {
        name: 'carafe_worker_exits_total',
        type: 'counter',
        help: 'Worker processes that ended, by reason.',
        values: Object.entries(this.exits).map(([reason, value]) => ({ labels: { reason }, value })),
      },
      {
        name: 'carafe_worker_timeouts_total',
        type: 'counter',
        help: 'Workers killed because their event loop was blocked longer than --timeout.',
        values: [{ labels: {}, value: this.timeouts }],
      },
    ];
    return renderPrometheus(duration.values(), active, server);
  }
}
