/**
 * Drives the system's headless Chromium (Debian's `chromium` package, which scripts/provision.sh
 * installs) over the Chrome DevTools Protocol, with Node's own WebSocket client: no browser download
 * and no driver package whose protocol version must match the installed browser's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Chromium executable: `$CHROMIUM`, else the first of the usual names on PATH. Throws a clear error when there is none. */
export function chromiumPath(): string {
  const given = process.env.CHROMIUM;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM=${given} does not exist`);
    return given;
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  throw new Error(
    'Chromium is not installed: run `bash scripts/provision.sh` (it installs Debian’s chromium package), or set CHROMIUM to a Chromium or Chrome executable',
  );
}

type Listener = (params: any) => void;

/** One CDP connection (to a page target). */
export class CdpSession {
  #next = 0;
  readonly #pending = new Map<number, { resolve(value: any): void; reject(error: Error): void; method: string }>();
  readonly #listeners = new Map<string, Listener[]>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        method?: string;
        params?: unknown;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id !== undefined) {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        this.#pending.delete(message.id);
        if (message.error) pending.reject(new Error(`${pending.method}: ${message.error.message}`));
        else pending.resolve(message.result);
      } else if (message.method) {
        for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params);
      }
    });
    socket.addEventListener('close', () => {
      for (const pending of this.#pending.values()) pending.reject(new Error(`${pending.method}: the DevTools connection closed`));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<CdpSession> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new CdpSession(socket);
  }

  send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, method });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  on(event: string, listener: Listener): void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
  }

  /** Evaluates `expression` in the page and returns its (JSON) value. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`evaluate ${expression}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as T;
  }

  close(): void {
    this.socket.close();
  }
}

export interface Chromium {
  /** A CDP session on the browser's first page. */
  page(): Promise<CdpSession>;
  close(): Promise<void>;
}

/** Starts headless Chromium with a throw-away profile and no background traffic of its own. */
export async function launchChromium(options: { width?: number; height?: number } = {}): Promise<Chromium> {
  const executable = chromiumPath();
  const profile = mkdtempSync(join(tmpdir(), 'carafe-chromium-'));
  const child: ChildProcess = spawn(
    executable,
    [
      '--headless=new',
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-extensions',
      '--disable-sync',
      // No crash handler: it is a process of its own that outlives the browser and writes to the profile.
      '--disable-breakpad',
      '--disable-crash-reporter',
      '--metrics-recording-only',
      '--mute-audio',
      `--window-size=${options.width ?? 1280},${options.height ?? 1600}`,
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    // A process group of its own, so that close() can stop the browser's helper processes too.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  let stderr = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      signalGroup('SIGKILL');
      reject(new Error(`Chromium did not start within 30 s:\n${stderr}`));
    }, 30_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}) before it listened:\n${stderr}`));
    });
  });
  const http = endpoint.replace(/^ws:\/\/([^/]+)\/.*$/, 'http://$1');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async page() {
      const targets = (await (await fetch(`${http}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
      const page = targets.find((target) => target.type === 'page');
      if (!page) throw new Error('Chromium has no page target');
      return CdpSession.connect(page.webSocketDebuggerUrl);
    },
    async close() {
      signalGroup('SIGTERM');
      const killer = setTimeout(() => signalGroup('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
      // A helper left behind would go on writing to the profile (ENOTEMPTY twice in CI on Node 22
      // when only the browser was stopped): the whole group goes, then the profile, with retries.
      signalGroup('SIGKILL');
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}
