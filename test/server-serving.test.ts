/**
 * `carafe serve` from the outside: TCP and unix sockets, workers, access log, limits and
 * forwarded headers, against the real CLI in a child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Carafe, freePort, rawExchange, request, sleep, stopAll, until } from './fixtures/server/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'carafe-serving-'));

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('serving on TCP with several workers', () => {
  let port: number;
  let carafe: Carafe;
  const accessLog = join(dir, 'access.log');

  beforeAll(async () => {
    port = await freePort();
    carafe = new Carafe([
      'serve',
      'hello.mjs',
      '--bind',
      `127.0.0.1:${port}`,
      '--workers',
      '3',
      '--access-log',
      accessLog,
      '--limit-request-line',
      '200',
      '--limit-request-fields',
      '20',
      '--limit-request-field-size',
      '300',
      '--limit-request-body',
      '1000',
      '--header-timeout',
      '1',
    ]);
    await carafe.ready();
  });

  it('answers with the app and runs its lifespan startup', async () => {
    const reply = await request(port, '/pid');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).startedUp).toBe(true);
  });

  it('runs N distinct worker processes sharing the socket', async () => {
    const pids = await until('3 workers', () => (carafe.workerPids().length === 3 ? carafe.workerPids() : undefined));
    expect(new Set(pids).size).toBe(3);
    expect(pids).not.toContain(carafe.pid);
    const served = new Set<number>();
    for (let i = 0; i < 30; i++) served.add(JSON.parse((await request(port, '/pid')).body).pid as number);
    for (const pid of served) expect(pids).toContain(pid);
  });

  it('writes Apache combined access-log lines', async () => {
    await request(port, '/pid?x=1', { headers: { 'User-Agent': 'vitest-agent', Referer: 'http://ref.example/' } });
    const line = await until('the access-log line', () =>
      readFileSync(accessLog, 'utf8')
        .split('\n')
        .find((l) => l.includes('/pid?x=1')),
    );
    expect(line).toMatch(
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/pid\?x=1 HTTP\/1\.1" 200 \d+ "http:\/\/ref\.example\/" "vitest-agent"$/,
    );
  });

  it('refuses a request line over --limit-request-line with 414 problem+json', async () => {
    const reply = await request(port, `/${'a'.repeat(300)}`);
    expect(reply.status).toBe(414);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(reply.body)).toMatchObject({ status: 414, title: 'URI Too Long' });
  });

  it('refuses more than --limit-request-fields fields with 431', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 25; i++) headers[`x-field-${i}`] = 'v';
    const reply = await request(port, '/pid', { headers });
    expect(reply.status).toBe(431);
    expect(JSON.parse(reply.body)).toMatchObject({ status: 431 });
  });

  it('refuses a field over --limit-request-field-size with 431', async () => {
    const reply = await request(port, '/pid', { headers: { 'x-big': 'b'.repeat(400) } });
    expect(reply.status).toBe(431);
    expect(reply.headers['content-type']).toBe('application/problem+json');
  });

  it('refuses a declared body over --limit-request-body with 413, before the app', async () => {
    const reply = await request(port, '/echo', { method: 'POST', body: 'x'.repeat(1500) });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ status: 413 });
    const small = await request(port, '/echo', { method: 'POST', body: 'x'.repeat(500) });
    expect(JSON.parse(small.body)).toEqual({ length: 500 });
  });

  it('refuses a chunked body that grows over the limit with 413', async () => {
    const chunk = 'y'.repeat(400);
    const raw = await rawExchange(
      port,
      `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `${(400).toString(16)}\r\n${chunk}\r\n`.repeat(4) +
        '0\r\n\r\n',
    );
    expect(raw).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw).toContain('application/problem+json');
  });

  it('answers a client too slow to send its headers with 408 problem+json', async () => {
    const raw = await rawExchange(port, 'GET /pid HTTP/1.1\r\nHost: x\r\n', 8000);
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(raw).toContain('"status":408');
  });

  it('answers a malformed request with 400 problem+json', async () => {
    const raw = await rawExchange(port, 'GARBAGE\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('application/problem+json');
  });

  it('trusts X-Forwarded-* from an allowed peer (127.0.0.1 by default)', async () => {
    const reply = await request(port, '/environ', {
      headers: { 'X-Forwarded-For': '203.0.113.9, 127.0.0.1', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'api.example.com' },
    });
    expect(JSON.parse(reply.body)).toMatchObject({
      REMOTE_ADDR: '203.0.113.9',
      scheme: 'https',
      HTTP_HOST: 'api.example.com',
      SERVER_NAME: 'api.example.com',
      SERVER_PORT: '443',
    });
    const forwarded = await request(port, '/environ', { headers: { Forwarded: 'for="[2001:db8::1]:4711";proto=https;host=shop.example' } });
    expect(JSON.parse(forwarded.body)).toMatchObject({ REMOTE_ADDR: '2001:db8::1', scheme: 'https', HTTP_HOST: 'shop.example' });
  });
});

describe('forwarded headers from a peer not in --forwarded-allow-ips', () => {
  it('are ignored', async () => {
    const port = await freePort();
    const carafe = new Carafe(['serve', 'hello.mjs', '-b', `127.0.0.1:${port}`, '--forwarded-allow-ips', '10.0.0.1,192.168.0.0/16']);
    await carafe.ready();
    const reply = await request(port, '/environ', {
      headers: {
        'X-Forwarded-For': '203.0.113.9',
        'X-Forwarded-Proto': 'https',
        Forwarded: 'for=198.51.100.1',
        'X-Forwarded-Host': 'evil.example',
      },
    });
    expect(JSON.parse(reply.body)).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: `127.0.0.1:${port}` });
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });
});

describe('serving on a unix socket', () => {
  it('removes a stale socket file, sets the socket mode, serves, and cleans up on exit', async () => {
    const path = join(dir, 'app.sock');
    // A socket file left behind by a server that was killed.
    spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(statSync(path).isSocket()).toBe(true);

    const carafe = new Carafe(['serve', 'hello.mjs', '--bind', `unix:${path}`, '--socket-mode', '600']);
    await carafe.ready();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const reply = await request(0, '/', { socketPath: path });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/^hello from \d+/);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
    expect(() => statSync(path)).toThrow();
  });

  it('refuses to take over a unix socket another server listens on (exit 1)', async () => {
    const path = join(dir, 'busy.sock');
    const busy = net.createServer().listen(path);
    await new Promise((r) => busy.once('listening', r));
    const carafe = new Carafe(['serve', 'hello.mjs', '--bind', `unix:${path}`]);
    expect(await carafe.waitExit()).toBe(1);
    expect(carafe.stderr).toMatch(/another server is listening/);
    await new Promise((r) => busy.close(r));
  });
});

describe('middleware from the config file', () => {
  it('adds X-Request-Id in, out and in the custom access-log format', async () => {
    const port = await freePort();
    const carafe = new Carafe(['serve', 'hello.mjs', '-b', `127.0.0.1:${port}`, '-c', 'middleware.config.mjs', '--access-log', '-']);
    await carafe.ready();
    const fresh = await request(port, '/environ', { headers: { 'User-Agent': 'ua-1' } });
    const id = fresh.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(fresh.body).requestId).toBe(id);
    const given = await request(port, '/environ', { headers: { 'X-Request-Id': 'req-from-nginx-42', 'User-Agent': 'ua-2' } });
    expect(given.headers['x-request-id']).toBe('req-from-nginx-42');
    await carafe.waitFor(/rid=req-from-nginx-42/, 5000, 'stdout');
    expect(carafe.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1 "GET /environ HTTP/1\\.1" 200 \\d+ rid=${id} ua=ua-1$`, 'm'));
    expect(carafe.stdout).toMatch(/^127\.0\.0\.1 "GET \/environ HTTP\/1\.1" 200 \d+ rid=req-from-nginx-42 ua=ua-2$/m);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });

  it('writes JSON access-log lines with --access-log-format json', async () => {
    const port = await freePort();
    const carafe = new Carafe(['serve', 'hello.mjs', '-b', `127.0.0.1:${port}`, '--access-log', '-', '--access-log-format', 'json']);
    await carafe.ready();
    await request(port, '/pid?json=1', { headers: { 'User-Agent': 'json-ua' } });
    const [line] = await carafe.waitFor(/^\{.*json=1.*\}$/m, 5000, 'stdout');
    expect(JSON.parse(line)).toMatchObject({
      remote_addr: '127.0.0.1',
      method: 'GET',
      uri: '/pid?json=1',
      status: 200,
      user_agent: 'json-ua',
    });
    await sleep(10);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });
});
