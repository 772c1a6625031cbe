/**
 * Bounded latency under database faults. `carafe serve` runs the example (2 workers, the default
 * request budget: MONGODB_REQUEST_TIMEOUT_MS unset, 5 s) on a FerretDB this file starts itself, so
 * stopping it breaks no other test. With the database frozen (SIGSTOP) for 30 s, then killed
 * (SIGKILL), every request that touches it must be answered 503 problem+json with Retry-After
 * within the documented bound — never a 500, never a hang — and the same server must serve again
 * once the database is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort, startFerretDB } from '../../../scripts/ferretdb.mjs';
import { startCarafe, type CarafeProcess } from '../../../test/setup/carafe.js';
import { databaseTimeouts, DEFAULT_REQUEST_TIMEOUT_MS } from '../src/db.js';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../src/unavailable.js';
import { uniqueDbName } from './support.js';

type Ferret = { uri: string; port: number; pid: number; dataDir: string; stop(): Promise<void> };

/** The documented bound: the request budget plus 1 s for everything that is not the database. */
const BOUND_MS = DEFAULT_REQUEST_TIMEOUT_MS + 1_000;
const FREEZE_MS = 30_000;

const dataDir = mkdtempSync(join(tmpdir(), 'carafe-faults-'));
let ferret: Ferret;
let server: CarafeProcess;
let base: string;
let userId: string;
let todoId: string;

beforeAll(async () => {
  ferret = (await startFerretDB({ dataDir })) as Ferret;
  const port = (await freePort()) as number;
  const env: NodeJS.ProcessEnv = { MONGODB_URI: ferret.uri, MONGODB_DB: uniqueDbName('faults') };
  server = await startCarafe({
    args: ['examples/rest-api/dist/app.js', '--workers', '2', '--bind', `127.0.0.1:${port}`],
    env: { ...env, MONGODB_REQUEST_TIMEOUT_MS: '' }, // the default budget is what is documented
    target: { port },
    readyPath: '/readyz',
  });
  base = `http://127.0.0.1:${port}`;
  const user = await call('POST', '/api/users', { name: 'Fault', email: 'fault@example.com' });
  userId = user.body.id;
  todoId = (await call('POST', `/api/users/${userId}/todos`, { title: 'survive' })).body.id;
});

afterAll(async () => {
  try {
    process.kill(ferret.pid, 'SIGCONT');
  } catch {}
  await server?.stop(5_000);
  await ferret?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  method: string;
  path: string;
  status: number;
  ms: number;
  type: string | null;
  retryAfter: string | null;
  body: any;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      // Far past the bound: a request still open by then is a hang.
      signal: AbortSignal.timeout(BOUND_MS + 10_000),
    });
    const text = await res.text();
    return {
      method,
      path,
      status: res.status,
      ms: performance.now() - started,
      type: res.headers.get('content-type'),
      retryAfter: res.headers.get('retry-after'),
      body: text ? JSON.parse(text) : null,
    };
  } catch (error) {
    return { method, path, status: 0, ms: performance.now() - started, type: null, retryAfter: null, body: String(error) };
  }
}

/**
 * Every kind of request that touches the database. `phase` keeps each test's new users apart: a
 * POST answered 503 while the database was frozen can still be applied once it thaws (the insert
 * was already in its socket), and the same email in a later phase would then be a fair 409.
 */
function databaseRequests(phase: string, i: number): Array<[string, string, unknown?]> {
  return [
    ['GET', '/api/users?limit=5'],
    ['GET', `/api/users/${userId}`],
    ['POST', '/api/users', { name: 'During', email: `${phase}-${i}@example.com` }],
    ['PATCH', `/api/users/${userId}`, { name: `Fault ${i}` }],
    ['GET', `/api/users/${userId}/todos`],
    ['POST', `/api/users/${userId}/todos`, { title: `during ${i}` }],
    ['GET', `/api/todos/${todoId}`],
    ['PATCH', `/api/todos/${todoId}`, { done: i % 2 === 0 }],
    ['DELETE', '/api/todos/000000000000000000000000'],
    ['GET', '/readyz'],
  ];
}

/** `loops` clients, each sending the requests above one after another until `ms` have passed. */
async function loadFor(phase: string, ms: number, loops = 6): Promise<Answer[]> {
  const answers: Answer[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = loop; Date.now() < end; i += loops) {
        const requests = databaseRequests(phase, i);
        const [method, path, body] = requests[i % requests.length]!;
        answers.push(await call(method, path, body));
      }
    }),
  );
  return answers;
}

function summary(answers: Answer[]): string {
  const byStatus = new Map<number, number>();
  for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const p = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0);
  return `${answers.length} requests, status ${[...byStatus].map(([s, n]) => `${s}×${n}`).join(' ')}, latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${Math.round(ms.at(-1) ?? 0)} ms (bound ${BOUND_MS} ms)`;
}

function expectAllUnavailable(answers: Answer[]) {
  for (const a of answers) {
    const label = `${a.method} ${a.path}: ${a.status} in ${Math.round(a.ms)} ms ${JSON.stringify(a.body)}`;
    expect(a.status, label).toBe(503);
    expect(a.type, label).toMatch(/^application\/problem\+json/);
    expect(a.body, label).toMatchObject({ status: 503, title: 'Service Unavailable' });
    expect(Number(a.retryAfter), label).toBeGreaterThan(0);
    expect(a.ms, label).toBeLessThanOrEqual(BOUND_MS);
  }
}

async function untilReady(timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if ((await call('GET', '/readyz')).status === 200) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready ${timeoutMs} ms after the database came back`);
}

const workersBooted = () =>
  server
    .output()
    .stderr.concat(server.output().stdout)
    .match(/Booting worker with pid/g)?.length ?? 0;

describe('with the database frozen (SIGSTOP) for 30 s', () => {
  it('answers every database request 503 problem+json with Retry-After within the bound, and serves again after SIGCONT', async () => {
    const booted = workersBooted();
    process.kill(ferret.pid, 'SIGSTOP');
    const frozenAt = Date.now();
    let answers: Answer[];
    const liveness: Answer[] = [];
    try {
      const probing = (async () => {
        for (const end = Date.now() + FREEZE_MS - 2_000; Date.now() < end; ) {
          liveness.push(await call('GET', '/healthz'));
          await new Promise((r) => setTimeout(r, 1_000));
        }
      })();
      answers = await loadFor('frozen', FREEZE_MS - BOUND_MS);
      await probing;
      await new Promise((r) => setTimeout(r, frozenAt + FREEZE_MS - Date.now()));
    } finally {
      process.kill(ferret.pid, 'SIGCONT');
    }
    console.log(`database frozen ${Date.now() - frozenAt} ms: ${summary(answers)}; /healthz ${liveness.map((a) => a.status).join(',')}`);
    expectAllUnavailable(answers);
    expect(liveness.every((a) => a.status === 200 && a.ms < 1_000)).toBe(true);

    const recovery = await untilReady(15_000);
    const created = await call('POST', `/api/users/${userId}/todos`, { title: 'after the freeze' });
    expect(created.status).toBe(201);
    expect((await call('GET', `/api/todos/${created.body.id}`)).status).toBe(200);
    console.log(`database frozen 30 s: ready again ${recovery} ms after SIGCONT, same workers (no restart)`);
    expect(workersBooted()).toBe(booted);
    expect(server.child.exitCode).toBeNull();
    expect(server.output().stderr).not.toMatch(/Exception on/);
  }, 90_000);
});

describe('with the database killed (SIGKILL)', () => {
  it('answers 503 problem+json within the bound — never a 500 — and serves again once it is back', async () => {
    // Load is running when the database dies, so some requests are mid-flight on its sockets.
    const during = loadFor('killed', 8_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const { port } = ferret;
    process.kill(ferret.pid, 'SIGKILL');
    const killedAt = performance.now();
    const answers = await during;
    const unavailable = answers.filter((a) => a.status === 503);
    console.log(`database killed: ${summary(answers)}`);
    for (const a of answers) {
      expect([200, 201, 204, 404, 503], `${a.method} ${a.path}: ${a.status} ${JSON.stringify(a.body)}`).toContain(a.status);
      expect(a.ms).toBeLessThanOrEqual(BOUND_MS);
    }
    expect(unavailable.length).toBeGreaterThan(0);
    expectAllUnavailable(unavailable);
    // Right after the kill, every request is a quick 503.
    expectAllUnavailable(await Promise.all(databaseRequests('right-after-the-kill', 0).map(([m, p, b]) => call(m, p, b))));
    expect(performance.now() - killedAt).toBeLessThan(20_000);
    expect(server.output().stderr).not.toMatch(/Exception on/);

    ferret = (await startFerretDB({ port, dataDir })) as Ferret;
    const recovery = await untilReady(15_000);
    console.log(`database killed: ready again ${recovery} ms after it restarted`);
    expect((await call('GET', `/api/users/${userId}`)).status).toBe(200);
  }, 60_000);
});

describe('what counts as "the database is unavailable"', () => {
  const socketError = (code: string, message: string) => Object.assign(new Error(message), { code, syscall: 'write' });

  it('recognises every shape the driver and the socket produce', () => {
    const shapes: unknown[] = [
      new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'),
      new MongoNetworkTimeoutError('connection 4 to 127.0.0.1:27017 timed out'),
      new MongoServerSelectionError('Server selection timed out after 3000 ms', { type: 'Unknown', servers: new Map() } as never),
      new MongoOperationTimeoutError('Timed out during operation'),
      new MongoTopologyClosedError(),
      Object.assign(new Error('Connection pool for 127.0.0.1:27017 was cleared because another operation failed'), {
        name: 'MongoPoolClearedError',
      }),
      Object.assign(new Error('Timed out while checking out a connection from connection pool'), { name: 'MongoWaitQueueTimeoutError' }),
      socketError('EPIPE', 'This socket has been ended by the other party'),
      socketError('ECONNRESET', 'read ECONNRESET'),
      socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:27017'),
      new MongoServerError({ message: 'interrupted at shutdown', code: 11600 }),
      new MongoServerError({ message: 'operation exceeded time limit', code: 50 }),
      new Error('wrapped', { cause: socketError('EPIPE', 'This socket has been ended by the other party') }),
      new DatabaseUnavailableError('the database did not answer within 5000 ms'),
    ];
    for (const shape of shapes) expect(isDatabaseUnavailable(shape), String(shape)).toBe(true);
  });

  it('leaves real errors alone', () => {
    for (const error of [
      new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 }),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      new Error('plain'),
      'a string',
      null,
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });

  it('derives the driver timeouts from one budget, MONGODB_REQUEST_TIMEOUT_MS', () => {
    expect(databaseTimeouts({})).toEqual({
      requestTimeoutMS: 5_000,
      serverSelectionTimeoutMS: 3_000,
      connectTimeoutMS: 2_000,
      socketTimeoutMS: 5_000,
      waitQueueTimeoutMS: 5_000,
      maxTimeMS: 5_000,
    });
    expect(databaseTimeouts({ requestTimeoutMS: 1_500 })).toMatchObject({ serverSelectionTimeoutMS: 1_500, socketTimeoutMS: 1_500 });
    const saved = process.env.MONGODB_REQUEST_TIMEOUT_MS;
    try {
      process.env.MONGODB_REQUEST_TIMEOUT_MS = '8000';
      expect(databaseTimeouts({}).socketTimeoutMS).toBe(8_000);
      process.env.MONGODB_REQUEST_TIMEOUT_MS = 'soon';
      expect(() => databaseTimeouts({})).toThrow(/MONGODB_REQUEST_TIMEOUT_MS must be a positive number/);
    } finally {
      if (saved === undefined) delete process.env.MONGODB_REQUEST_TIMEOUT_MS;
      else process.env.MONGODB_REQUEST_TIMEOUT_MS = saved;
    }
  });
});
