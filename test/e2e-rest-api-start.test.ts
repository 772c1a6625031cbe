/**
 * `npm start` at the root, as a newcomer runs it: it builds, starts the embedded FerretDB (no
 * MONGODB_URI), serves the REST API example with `carafe serve` and 2 workers on $PORT, says
 * where it listens, and on Ctrl-C stops the server and then FerretDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../scripts/ferretdb.mjs';
import { ROOT } from './setup/carafe.js';

const dataDir = mkdtempSync(join(tmpdir(), 'carafe-npm-start-'));
let child: ChildProcess;
let output = '';
let port: number;
/** Resolves when npm and everything it started that shares its output have exited. */
let closed: Promise<void>;

beforeAll(async () => {
  port = (await freePort()) as number;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), FERRETDB_DATA_DIR: dataDir };
  delete env.MONGODB_URI; // the point: the embedded default database
  delete env.MONGODB_DB;
  child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  closed = new Promise((r) => child.once('close', () => r()));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const ready = `ready at http://127.0.0.1:${port}/`;
  for (let i = 0; !output.includes(ready); i++) {
    if (i > 1200 || child.exitCode !== null) throw new Error(`npm start did not get ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 180_000);

/** FerretDB runs in a process group of its own (so Ctrl-C reaches only start.mjs): its pid is printed. */
const ferretPid = () => Number(/embedded FerretDB at \S+ \(pid (\d+)/.exec(output)?.[1]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  // Whatever happened, leave no process behind: npm's process group, and FerretDB.
  for (const pid of [child?.pid && -child.pid, ferretPid()]) {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('serves the example with 2 workers on PORT, on the embedded FerretDB', async () => {
    expect(output).toMatch(/embedded FerretDB at mongodb:\/\/127\.0\.0\.1:\d+\//);
    expect(output.match(/Booting worker with pid/g)).toHaveLength(2);
    const api = request(`http://127.0.0.1:${port}`);
    expect((await api.get('/readyz')).status).toBe(200);
    const created = await api.post('/api/users').send({ name: 'Newcomer', email: 'newcomer@example.com' });
    expect(created.status).toBe(201);
    expect((await api.get(`/api/users/${created.body.id}`)).body).toEqual(created.body);
    expect(readdirSync(dataDir).some((f) => f.endsWith('.sqlite'))).toBe(true);
  });

  it('stops the server, then FerretDB, on Ctrl-C', async () => {
    const uri = /embedded FerretDB at (mongodb:\/\/\S+)/.exec(output)![1]!;
    const pid = ferretPid();
    expect(alive(pid)).toBe(true);
    // A terminal's Ctrl-C: SIGINT to the foreground process group.
    process.kill(-child.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      closed,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`still running:\n${output}`)), 30_000))),
    ]);
    clearTimeout(timer);
    expect(output).toMatch(/Shutting down: arbiter \(exit 0\)/);
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500 });
    await expect(client.db('admin').command({ ping: 1 })).rejects.toThrow();
    await client.close();
  }, 60_000);
});
