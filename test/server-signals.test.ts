/**
 * The arbiter's lifecycle from the outside: reload without failed requests, graceful and
 * quick shutdown, worker timeout, crash replacement, max-requests recycling, TTIN/TTOU,
 * USR1 log reopening and --reload.
 */
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Carafe, FIXTURES, freePort, request, sleep, stopAll, until } from './fixtures/server/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'carafe-signals-'));

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of the hello fixture in its own directory, so a test can change its code. */
function appCopy(name: string): { cwd: string; file: string } {
  const cwd = mkdtempSync(join(dir, `${name}-`));
  const file = join(cwd, 'app.mjs');
  copyFileSync(join(FIXTURES, 'hello.mjs'), file);
  return { cwd, file };
}

function setVersion(file: string, version: string): void {
  const source = readFileSync(file, 'utf8').replace(/version=\$\{[^}]*\}|version=[\w-]+/, `version=${version}`);
  writeFileSync(file, source);
}

async function startOn(args: string[], cwd?: string): Promise<{ carafe: Carafe; port: number }> {
  const port = await freePort();
  const carafe = new Carafe(['serve', ...args, '-b', `127.0.0.1:${port}`], { cwd });
  await carafe.ready();
  return { carafe, port };
}

interface LoadResult {
  ok: number;
  failures: string[];
  bodies: Set<string>;
}

/** Clients sending requests back to back until `stop()`: fresh connections and one keep-alive client. */
function keepRequesting(port: number, path: string): { stop: () => Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, failures: [], bodies: new Set() };
  let running = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const loop = async (keepAlive: boolean) => {
    while (running) {
      try {
        const reply = keepAlive ? await keepAliveGet(agent, port, path) : await request(port, path, { timeoutMs: 10_000 });
        if (reply.status === 200) result.ok++;
        else result.failures.push(`${keepAlive ? 'keep-alive' : 'fresh'}: status ${reply.status}: ${reply.body}`);
        result.bodies.add(reply.body.replace(/\d+/, 'PID'));
      } catch (error) {
        result.failures.push(`${keepAlive ? 'keep-alive' : 'fresh'}: ${String(error)}`);
      }
    }
  };
  const loops = [loop(false), loop(false), loop(false), loop(true)];
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

function keepAliveGet(agent: http.Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('keep-alive request timed out')));
    req.on('error', reject);
  });
}

describe('HUP', () => {
  it('reloads the code with new workers while clients keep sending, with zero failed requests', async () => {
    const { cwd, file } = appCopy('hup');
    const { carafe, port } = await startOn(['app.mjs', '--workers', '2', '--graceful-timeout', '5'], cwd);
    const before = carafe.workerPids();
    const load = keepRequesting(port, '/');
    await sleep(400);
    setVersion(file, 'v2');
    carafe.signal('SIGHUP');
    await until('the reloaded code to answer', async () => (await request(port, '/')).body.includes('version=v2'), 15_000);
    await until('the old workers to exit', () => before.every((pid) => !carafe.workerPids().includes(pid)), 10_000);
    await sleep(300);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(20);
    expect(result.bodies).toEqual(new Set(['hello from PID version=v1', 'hello from PID version=v2']));
    expect(carafe.workerPids()).toHaveLength(2);
    expect(carafe.stderr).toMatch(/Handling signal: hup/);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });

  it('keeps the old workers when the new code cannot load', async () => {
    const { cwd, file } = appCopy('hup-broken');
    const { carafe, port } = await startOn(['app.mjs', '--workers', '1'], cwd);
    const before = carafe.workerPids();
    writeFileSync(file, 'export const app = ;\n');
    carafe.signal('SIGHUP');
    await carafe.waitFor(/reload failed, keeping the running workers/);
    expect((await request(port, '/')).body).toMatch(/version=v1/);
    expect(carafe.workerPids()).toEqual(before);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });
});

describe('TERM', () => {
  it('stops accepting but lets an in-flight slow request finish, then exits 0', async () => {
    const { carafe, port } = await startOn(['hello.mjs', '--graceful-timeout', '10']);
    const slow = request(port, '/slow?ms=1500');
    await sleep(300);
    carafe.signal('SIGTERM');
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('slow done after 1500ms');
    expect(await carafe.waitExit()).toBe(0);
    await expect(request(port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('cuts requests that outlive --graceful-timeout', async () => {
    const { carafe, port } = await startOn(['hello.mjs', '--graceful-timeout', '0.5']);
    const slow = request(port, '/slow?ms=5000').then(
      () => 'answered',
      () => 'cut',
    );
    await sleep(200);
    const stoppedAt = Date.now();
    carafe.signal('SIGTERM');
    expect(await slow).toBe('cut');
    expect(await carafe.waitExit()).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(4000);
  });
});

describe('INT and QUIT', () => {
  it('stop quickly without waiting for in-flight requests', async () => {
    for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
      const { carafe, port } = await startOn(['hello.mjs', '--graceful-timeout', '30']);
      const slow = request(port, '/slow?ms=10000').then(
        () => 'answered',
        () => 'cut',
      );
      await sleep(200);
      carafe.signal(signal);
      expect(await carafe.waitExit(5000)).toBe(0);
      expect(await slow).toBe('cut');
    }
  });
});

describe('worker timeout', () => {
  it('kills a worker stuck in `while (true) {}` after --timeout, while the others keep answering', async () => {
    const { carafe, port } = await startOn(['hello.mjs', '--workers', '2', '--timeout', '2']);
    const before = await until('2 workers', () => (carafe.workerPids().length === 2 ? carafe.workerPids() : undefined));
    const spinning = request(port, '/spin', { timeoutMs: 15_000 }).then(
      () => 'answered',
      () => 'cut',
    );
    await sleep(100);
    const startedAt = Date.now();
    let answered = 0;
    const failures: string[] = [];
    while (!/WORKER TIMEOUT/.test(carafe.stderr) && Date.now() - startedAt < 8000) {
      try {
        const reply = await request(port, '/pid', { timeoutMs: 5000 });
        if (reply.status === 200) answered++;
      } catch (error) {
        failures.push(String(error));
      }
      await sleep(50);
    }
    const [, killed] = carafe.stderr.match(/WORKER TIMEOUT \(pid:(\d+)\)/) ?? [];
    expect(killed, carafe.stderr).toBeDefined();
    expect(Date.now() - startedAt).toBeGreaterThan(1500);
    expect(before).toContain(Number(killed));
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(10);
    expect(await spinning).toBe('cut');
    const after = await until('a replacement worker', () => {
      const pids = carafe.workerPids();
      return pids.length === 2 && !pids.includes(Number(killed)) ? pids : undefined;
    });
    expect(after).toHaveLength(2);
    expect((await request(port, '/pid')).status).toBe(200);
  });
});

describe('a crashed worker', () => {
  it('is replaced', async () => {
    const { carafe, port } = await startOn(['hello.mjs', '--workers', '2']);
    const before = await until('2 workers', () => (carafe.workerPids().length === 2 ? carafe.workerPids() : undefined));
    await request(port, '/crash');
    await carafe.waitFor(/Worker \(pid:\d+\) exited with code 7/);
    const after = await until('a replacement', () => {
      const pids = carafe.workerPids();
      return pids.length === 2 && pids.some((p) => !before.includes(p)) ? pids : undefined;
    });
    expect(after.filter((p) => before.includes(p))).toHaveLength(1);
    expect((await request(port, '/')).status).toBe(200);
  });
});

describe('--max-requests', () => {
  it('recycles a worker after it served that many requests, without failing any', async () => {
    const { carafe, port } = await startOn(['hello.mjs', '--max-requests', '5', '--max-requests-jitter', '2']);
    const pids = new Set<number>();
    for (let i = 0; i < 25; i++) {
      const reply = await request(port, '/pid');
      expect(reply.status).toBe(200);
      pids.add(JSON.parse(reply.body).pid as number);
      await sleep(40);
    }
    expect(pids.size).toBeGreaterThanOrEqual(2);
    expect(carafe.stderr).toMatch(/max-requests/);
    await until('one worker once the retired ones are gone', () => carafe.workerPids().length === 1);
  });
});

describe('TTIN and TTOU', () => {
  it('add and remove one worker', async () => {
    const { carafe, port } = await startOn(['hello.mjs', '--workers', '1']);
    await until('1 worker', () => carafe.workerPids().length === 1);
    carafe.signal('SIGTTIN');
    await until('2 workers', () => carafe.workerPids().length === 2);
    carafe.signal('SIGTTIN');
    await until('3 workers', () => carafe.workerPids().length === 3);
    carafe.signal('SIGTTOU');
    await until('2 workers again', () => carafe.workerPids().length === 2);
    expect((await request(port, '/')).status).toBe(200);
  });
});

describe('USR1', () => {
  it('reopens the access log so a rotated file is continued in a new one', async () => {
    const logFile = join(dir, 'rotate.log');
    const { carafe, port } = await startOn(['hello.mjs', '--access-log', logFile]);
    await request(port, '/before-rotation');
    await until('the first line', () => readFileSync(logFile, 'utf8').includes('/before-rotation'));
    renameSync(logFile, `${logFile}.1`);
    carafe.signal('SIGUSR1');
    await carafe.waitFor(/Handling signal: usr1/);
    await sleep(200);
    await request(port, '/after-rotation');
    await until('the new file', () => {
      try {
        return readFileSync(logFile, 'utf8').includes('/after-rotation');
      } catch {
        return false;
      }
    });
    expect(readFileSync(`${logFile}.1`, 'utf8')).not.toContain('/after-rotation');
  });
});

describe('--reload', () => {
  it('restarts the workers when a source file changes', async () => {
    const { cwd, file } = appCopy('reload');
    const { port } = await startOn(['app.mjs', '--reload'], cwd);
    expect((await request(port, '/')).body).toMatch(/version=v1/);
    setVersion(file, 'edited');
    await until('the edited code', async () => (await request(port, '/')).body.includes('version=edited'), 15_000);
  });
});
