/**
 * problem+json at the edge, through real nginx with the deployed site
 * (examples/rest-api/deploy/nginx/carafe.conf): nginx's own 413, 502 and 504 are RFC 9457 problem
 * documents, the app's own 503 passes through unchanged, and a failed upstream is retried on the
 * next one for idempotent requests only — a POST that reached a worker which then died is a 502,
 * never a second write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../scripts/ferretdb.mjs';
import { startNginx, type RunningNginx } from './setup/nginx.js';

const scratch = mkdtempSync(join(tmpdir(), 'carafe-edge-'));
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

function send(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

function expectProblem(answer: Answer, status: number, title: string, instance?: string) {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  const document = JSON.parse(answer.text);
  expect(document).toMatchObject({ type: 'about:blank', title, status, detail: expect.any(String) });
  if (instance !== undefined) expect(document.instance).toBe(instance);
  return document;
}

/** A stand-in for the app on a unix socket; `behaviour` decides what each request gets. */
async function upstream(
  name: string,
  behaviour: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<{ socket: string; seen: string[] }> {
  const socket = join(scratch, `${name}.sock`);
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      behaviour(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { socket, seen };
}

async function nginxTo(upstreams: string[], replace: Array<[string, string]> = []): Promise<number> {
  const port = (await freePort()) as number;
  const nginx: RunningNginx = await startNginx({ listen: `127.0.0.1:${port}`, upstreams, replace });
  cleanups.push(() => nginx.stop());
  return port;
}

describe("nginx's own errors are problem documents", () => {
  it('413 for a body over the limit', async () => {
    const app = await upstream('app-413', (_req, res) => res.end('{}'));
    const port = await nginxTo([`unix:${app.socket} fail_timeout=0`]);
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), email: 'big@example.com' });
    expectProblem(await send(port, 'POST', '/api/users', big), 413, 'Content Too Large', '/api/users');
    expect(app.seen).toEqual([]); // the body never reached the app
  });

  it('502 when no application server answers, with Retry-After, for reads and writes alike', async () => {
    const port = await nginxTo([`unix:${join(scratch, 'nobody-listens.sock')} fail_timeout=0`]);
    const read = await send(port, 'GET', '/api/users?limit=2');
    expectProblem(read, 502, 'Bad Gateway', '/api/users?limit=2');
    expect(read.headers['retry-after']).toBe('5');
    expectProblem(await send(port, 'POST', '/api/users', '{"name":"A","email":"a@example.com"}'), 502, 'Bad Gateway');
    // A request target that cannot go into JSON as is: the document leaves `instance` out.
    const odd = expectProblem(await send(port, 'GET', '/api/users?q=%22x%22&r="\\'), 502, 'Bad Gateway');
    expect(odd.instance).toBeUndefined();
  });

  it('504 when the application server does not answer in time', async () => {
    const silent = await upstream('silent', () => {}); // never answers
    const port = await nginxTo([`unix:${silent.socket} fail_timeout=0`], [['proxy_read_timeout 60s;', 'proxy_read_timeout 1s;']]);
    const answer = await send(port, 'GET', '/api/users');
    expectProblem(answer, 504, 'Gateway Timeout', '/api/users');
    expect(answer.headers['retry-after']).toBe('5');
  });

  it("passes the app's own 503 problem through unchanged", async () => {
    const document = {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The database is not reachable; try again shortly.',
      instance: '/api/users',
    };
    const app = await upstream('app-503', (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '5' }).end(JSON.stringify(document));
    });
    const port = await nginxTo([`unix:${app.socket} fail_timeout=0`]);
    const answer = await send(port, 'GET', '/api/users');
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.text)).toEqual(document);
  });
});

describe('retries on the next upstream', () => {
  it('retries idempotent requests when a worker dies mid-request; never a POST or PATCH that was sent', async () => {
    // `dying` takes the whole request, then its connection drops without an answer — a worker
    // killed mid-request. `healthy` answers everything.
    const dying = await upstream('dying', (req) => req.socket.destroy());
    const healthy = await upstream('healthy', (req, res) => {
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    // max_fails=0: nginx never sets the dying one aside, so round robin keeps sending it every
    // other request and each kind of request meets it.
    const port = await nginxTo([`unix:${dying.socket} max_fails=0`, `unix:${healthy.socket} max_fails=0`]);

    const idempotent: Answer[] = [];
    for (let i = 0; i < 10; i++) {
      idempotent.push(await send(port, i % 2 ? 'DELETE' : 'GET', `/api/todos/${i}`));
      idempotent.push(await send(port, 'PUT', `/api/things/${i}`, '{}'));
    }
    expect(idempotent.map((a) => a.status).every((s) => s === 200)).toBe(true);
    const retried = dying.seen.length;
    expect(retried).toBeGreaterThan(0); // some went to the dying one first…
    expect(healthy.seen.length).toBe(idempotent.length); // …and every one was answered by the other

    const writes: Array<{ id: string; answer: Answer }> = [];
    for (let i = 0; i < 10; i++) {
      const id = `write-${i}`;
      const method = i % 2 ? 'PATCH' : 'POST';
      writes.push({ id, answer: await send(port, method, '/api/users', JSON.stringify({ id })) });
    }
    const ok = writes.filter((w) => w.answer.status === 201 || w.answer.status === 200);
    const failed = writes.filter((w) => w.answer.status === 502);
    expect(ok.length + failed.length).toBe(writes.length);
    expect(failed.length).toBeGreaterThan(0);
    for (const { answer } of failed) expectProblem(answer, 502, 'Bad Gateway');
    // A write reached exactly one upstream: those the dying one took failed and were not repeated.
    for (const { id, answer } of writes) {
      const onDying = dying.seen.filter((s) => s.includes(`"${id}"`)).length;
      const onHealthy = healthy.seen.filter((s) => s.includes(`"${id}"`)).length;
      expect(onDying + onHealthy, id).toBe(1);
      expect(answer.status === 502, id).toBe(onDying === 1);
    }
    console.log(
      `edge: ${idempotent.length} idempotent requests, ${retried} retried after a worker died, 0 failed; ` +
        `${writes.length} POST/PATCH: ${ok.length} answered, ${failed.length} × 502 problem (not retried), 0 applied twice`,
    );
  });
});
