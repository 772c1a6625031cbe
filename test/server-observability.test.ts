/**
 * Issue 16's "done when", against the real `carafe serve` (two workers):
 * - `GET /metrics` on `--metrics-bind` counts the requests both workers served together, per
 *   route template (a scrape of one worker would see only its share);
 * - with JSON logging, one failing request yields an access line, an error record with the stack
 *   and the handler's `req.log` line, all with the same request id and trace id.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Carafe, freePort, request, stopAll, until } from './fixtures/server/harness.js';

afterAll(stopAll);

/** The value of the series of `metric` whose labels include every `labels` pair (0 when absent). */
function sample(text: string, metric: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const body = line.slice(metric.length + 1, line.lastIndexOf('}'));
    if (
      Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`)) &&
      (labels.http_route !== undefined || !body.includes('http_route='))
    ) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return 0;
}

describe('GET /metrics on carafe serve --workers 2', () => {
  it('reports the requests of both workers together, per route template', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const carafe = new Carafe([
      'serve',
      'observed-app.mjs',
      '-b',
      `127.0.0.1:${port}`,
      '--workers',
      '2',
      '--metrics-bind',
      `127.0.0.1:${metricsPort}`,
    ]);
    await carafe.ready(30_000);
    // Fresh connections until both workers have answered (the kernel spreads accepts between them).
    const pids = new Map<number, number>();
    let pidRequests = 0;
    while (pids.size < 2 || pidRequests < 20) {
      const pid = JSON.parse((await request(port, '/pid')).body).pid as number;
      pids.set(pid, (pids.get(pid) ?? 0) + 1);
      if (++pidRequests > 400) throw new Error(`only worker ${[...pids.keys()]} answered ${pidRequests} requests`);
    }
    const sent = { users: 23, items: 11, boom: 5, missing: 4 };
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < sent.users; i++) all.push(request(port, `/users/${i}`));
    for (let i = 0; i < sent.items; i++) all.push(request(port, `/admin/items/${i}`));
    for (let i = 0; i < sent.boom; i++) all.push(request(port, '/boom'));
    for (let i = 0; i < sent.missing; i++) all.push(request(port, `/missing/${i}`));
    await Promise.all(all);

    const scrape = await request(metricsPort, '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = scrape.body;
    const count = (labels: Record<string, string>) =>
      sample(text, 'http_server_request_duration_seconds_count', { http_request_method: 'GET', ...labels });
    expect(count({ http_route: '/pid', http_response_status_code: '200' })).toBe(pidRequests);
    expect(count({ http_route: '/users/{id}', http_response_status_code: '200' })).toBe(sent.users);
    expect(count({ http_route: '/admin/items/{item}', http_response_status_code: '200' })).toBe(sent.items);
    expect(count({ http_route: '/boom', http_response_status_code: '500', error_type: 'TypeError' })).toBe(sent.boom);
    expect(count({ http_response_status_code: '404' })).toBe(sent.missing);
    expect(sample(text, 'http_server_active_requests', { http_request_method: 'GET', url_scheme: 'http' })).toBe(0);
    expect(sample(text, 'carafe_workers', { state: 'ready' })).toBe(2);
    expect(sample(text, 'carafe_worker_starts_total', { purpose: 'initial' })).toBe(2);
    // Both workers' counts are in the sum: neither one alone served every /pid request.
    expect(Math.max(...pids.values())).toBeLessThan(pidRequests);

    // A worker killed outright: its requests stay counted (its last snapshot), its replacement is counted.
    const [victim] = carafe.workerPids();
    process.kill(victim!, 'SIGKILL');
    await until('a replacement worker', () => carafe.workerPids().length === 2 && !carafe.workerPids().includes(victim!), 30_000);
    await until(
      'the replacement to serve',
      async () => sample((await request(metricsPort, '/metrics')).body, 'carafe_workers', { state: 'ready' }) === 2,
      30_000,
    );
    const after = (await request(metricsPort, '/metrics')).body;
    expect(sample(after, 'carafe_worker_exits_total', { reason: 'crashed' })).toBe(1);
    expect(sample(after, 'carafe_worker_starts_total', { purpose: 'replace' })).toBe(1);
    expect(
      sample(after, 'http_server_request_duration_seconds_count', {
        http_request_method: 'GET',
        http_route: '/users/{id}',
        http_response_status_code: '200',
      }),
    ).toBe(sent.users);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit(20_000)).toBe(0);
  }, 120_000);
});

describe('JSON logging of a failing request', () => {
  it('writes an access line, an error record with the stack and the req.log line, joined by request id and trace id', async () => {
    const port = await freePort();
    const carafe = new Carafe(
      [
        'serve',
        'observed-app.mjs',
        '-b',
        `127.0.0.1:${port}`,
        '--workers',
        '2',
        '-c',
        'observed.config.mjs',
        '--log-format',
        'json',
        '--access-log',
        '-',
        '--access-log-format',
        'json',
        '--tracing',
      ],
      // Spans are made (ids for the logs) but exported nowhere.
      { env: { OTEL_TRACES_EXPORTER: 'none' } },
    );
    await carafe.ready(30_000);
    const reply = await request(port, '/boom', {
      headers: { 'x-request-id': 'req-boom-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(reply.status).toBe(500);
    expect(reply.headers['x-request-id']).toBe('req-boom-1');
    const records = () =>
      `${carafe.stdout}\n${carafe.stderr}`
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, any>);
    const ours = await until('the three records of the request', () => {
      const found = records().filter((r) => r.request_id === 'req-boom-1');
      return found.length >= 3 ? found : undefined;
    });
    const access = ours.filter((r) => r.name === 'carafe.access');
    const errors = ours.filter((r) => r.level === 'error');
    const appLines = ours.filter((r) => r.name === 'app' && r.level === 'warn');
    expect(access).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(appLines).toHaveLength(1);
    expect(access[0]).toMatchObject({ status: 500, uri: '/boom', route: '/boom', level: 'info' });
    expect(errors[0]).toMatchObject({ msg: 'Exception on GET /boom', err: { type: 'TypeError', message: 'the handler broke' } });
    expect(errors[0]!.err.stack).toMatch(/TypeError: the handler broke\n\s+at .*observed-app\.mjs/);
    expect(appLines[0]).toMatchObject({ msg: 'about to fail' });
    // One trace (the caller's), one server span: every record carries both ids.
    for (const record of ours) {
      expect(record.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(record.span_id).toBe(access[0]!.span_id);
      expect(record.pid).toBe(access[0]!.pid);
    }
    expect(access[0]!.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(access[0]!.span_id).not.toBe('00f067aa0ba902b7');
    // The server's own error-log lines are JSON records of the same shape.
    expect(records().some((r) => r.name === 'carafe' && /^Listening at: /.test(r.msg))).toBe(true);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit(20_000)).toBe(0);
  }, 60_000);
});
