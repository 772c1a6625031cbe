/**
 * The whole path, for real: client → nginx (Debian's package, with the example's own
 * deploy/nginx/carafe.conf) → `carafe serve` on a unix socket with the production
 * deploy/carafe.config.js → TSGI middleware → the Carafe app → MongoDB (FerretDB), and back.
 * The server's access log must show the client address nginx forwarded in X-Forwarded-For.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../scripts/ferretdb.mjs';
import { get, ROOT, startCarafe, type CarafeProcess } from './setup/carafe.js';
import { mongodbUri, uniqueDbName } from '../examples/rest-api/test/support.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const DEPLOYED_SOCKET = 'unix:/run/carafe/carafe.sock';

const prefix = mkdtempSync(join(tmpdir(), 'carafe-e2e-nginx-'));
const socket = join(prefix, 'carafe.sock');
let nginxPort: number;
let nginx: ChildProcess | undefined;
let carafe: CarafeProcess | undefined;
let base: string;

/** The deployed nginx config, with only the socket path and listen port changed for this run. */
function writeNginxConfig(port: number): string {
  const site = readFileSync(join(ROOT, 'examples/rest-api/deploy/nginx/carafe.conf'), 'utf8');
  if (!site.includes(DEPLOYED_SOCKET) || !/listen 80 default_server;/.test(site)) {
    throw new Error("deploy/nginx/carafe.conf changed: update this test's substitutions");
  }
  writeFileSync(
    join(prefix, 'carafe.conf'),
    site.replaceAll(DEPLOYED_SOCKET, `unix:${socket}`).replace('listen 80 default_server;', `listen 127.0.0.1:${port} default_server;`),
  );
  for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir), { recursive: true });
  const main = join(prefix, 'nginx.conf');
  writeFileSync(
    main,
    `# Runs unprivileged-style in a private prefix: pid, logs and temp files stay in ${prefix}.
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log ${prefix}/logs/access.log;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  include ${join(prefix, 'carafe.conf')};
}
`,
  );
  return main;
}

beforeAll(async () => {
  if (!NGINX) throw new Error("nginx is not installed: run `bash scripts/provision.sh` (it installs Debian's nginx package)");
  carafe = await startCarafe({
    args: ['examples/rest-api/dist/app.js', '--config', 'examples/rest-api/deploy/carafe.config.js'],
    env: {
      MONGODB_URI: mongodbUri(),
      MONGODB_DB: uniqueDbName('e2e_nginx'),
      CARAFE_BIND: `unix:${socket}`,
      CARAFE_WORKERS: '2',
    },
    target: { socketPath: socket },
    readyPath: '/readyz',
  });

  nginxPort = (await freePort()) as number;
  const config = writeNginxConfig(nginxPort);
  nginx = spawn(NGINX, ['-p', prefix, '-c', config, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let nginxOutput = '';
  nginx.stderr!.setEncoding('utf8').on('data', (c: string) => (nginxOutput += c));
  base = `http://127.0.0.1:${nginxPort}`;
  for (let i = 0; ; i++) {
    const answer = await get({ port: nginxPort }, '/healthz').catch(() => undefined);
    if (answer?.status === 200) break;
    if (i > 100 || nginx.exitCode !== null) {
      const log = existsSync(join(prefix, 'logs/error.log')) ? readFileSync(join(prefix, 'logs/error.log'), 'utf8') : '';
      throw new Error(`nginx did not come up on port ${nginxPort}:\n${nginxOutput}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx!.once('exit', r));
    nginx.kill('SIGQUIT');
    const killer = setTimeout(() => nginx!.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  }
  await carafe?.stop();
  rmSync(prefix, { recursive: true, force: true });
});

/** The JSON access-log lines the server has written so far. */
function accessLog(): Array<Record<string, unknown>> {
  return carafe!
    .output()
    .stdout.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('client → nginx → carafe serve (unix socket) → app → MongoDB', () => {
  it('serves the API through nginx', async () => {
    const api = request(base);
    const created = await api.post('/api/users').send({ name: 'Via Nginx', email: 'nginx@example.com' });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/users/${created.body.id}`);
    expect(created.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id, passed through

    const todo = await api.post(`/api/users/${created.body.id}/todos`).send({ title: 'through the proxy' });
    expect(todo.status).toBe(201);
    const list = await api.get(`/api/users/${created.body.id}/todos`);
    expect(list.body).toEqual({ items: [todo.body], next: null });

    const conflict = await api.post('/api/users').send({ name: 'Again', email: 'NGINX@example.com' });
    expect(conflict.status).toBe(409);
    expect(conflict.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await api.get('/readyz')).status).toBe(200);
  });

  it('keeps bodies over the limit away from the app (nginx answers 413)', async () => {
    const res = await request(base)
      .post('/api/users')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), email: 'big@example.com' }));
    expect(res.status).toBe(413);
  });

  it('logs the client address nginx forwarded, not the socket peer', async () => {
    // The client connects from 127.0.0.2, an address that is neither the socket peer (a unix
    // socket has none) nor a trusted proxy: only X-Forwarded-For, set by nginx, can carry it.
    const plain = '/api/users?limit=1';
    expect((await getFrom('127.0.0.2', plain)).status).toBe(200);
    const plainLine = await accessLogLine(plain);
    expect(plainLine.status).toBe(200);
    expect(plainLine.remote_addr).toBe('127.0.0.2');
    expect(plainLine.request_id).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id

    // A client cannot pass itself off as someone else: nginx appends the address it saw to the
    // client's own X-Forwarded-For, and the server takes the nearest untrusted address.
    const spoofed = '/api/users?limit=2';
    expect((await getFrom('127.0.0.2', spoofed, { 'X-Forwarded-For': '203.0.113.7' })).status).toBe(200);
    expect((await accessLogLine(spoofed)).remote_addr).toBe('127.0.0.2');
  });
});

/** A GET through nginx from a chosen local address. */
function getFrom(localAddress: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: nginxPort, path, headers, localAddress, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The server's access-log entry for a request target (the log line may lag the response a little). */
async function accessLogLine(uri: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = accessLog().find((entry) => entry.uri === uri);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no access-log line for ${uri}; the server's stdout was:\n${carafe!.output().stdout}`);
}
