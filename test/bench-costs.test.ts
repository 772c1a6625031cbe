// The costs meter's own logic: the open-loop schedule and its percentiles, the open-loop client
// against a local server (a stall shows in the requests it delayed), the cold-start poll,
// /proc's VmRSS, the options, and the summary and tables rendered from synthetic measurements.
// Nothing here starts a bench server (`npm run bench -- --meter costs` does).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { openLoopSchedule, percentile, runOpenLoop, summarizeOpenLoop } from '../bench/open-loop.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { COSTS_LINEUP, disturbance, firstOk, parseCpuLine, parseVmRss, residentKib } from '../bench/costs.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { COSTS_FORMAT, costRows, costsMarkdown, costsReadmeSection, summarizeCosts } from '../bench/costs-report.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { UsageError, parseOptions } from '../bench/options.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { requestBytes } from '../bench/client.mjs';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server on a free port; `handle` gets the 1-based number of each request it sees. */
async function listen(handle: (n: number, req: http.IncomingMessage, res: http.ServerResponse) => void) {
  let n = 0;
  const server = http.createServer((req, res) => handle(++n, req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('bench costs: the open-loop schedule', () => {
  it('sends rate × duration requests, evenly spaced, round-robin over the connections', () => {
    const s = openLoopSchedule({ rate: 500, duration: 10, connections: 8 });
    expect(s.count).toBe(5000);
    expect([0, 1, 2, 4999].map(s.at)).toEqual([0, 2, 4, 9998]);
    expect([0, 1, 7, 8, 9, 4999].map(s.connection)).toEqual([0, 1, 7, 0, 1, 7]);
    // Each connection carries one request every connections ÷ rate seconds.
    expect(s.at(8) - s.at(0)).toBe(16);
    expect(openLoopSchedule({ rate: 3, duration: 0.5, connections: 2 }).count).toBe(1);
  });

  it('takes nearest-rank percentiles: a value that was measured, the maximum at 1', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 0.999)).toBe(100);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });

  it('summarizes latencies in any order, with the failures and the client lag', () => {
    const latencies = [3, 1, 2, 100, ...Array.from({ length: 96 }, () => 0.25)];
    const summary = summarizeOpenLoop({
      latencies,
      lags: [0.01, 0.02, 0.5],
      scheduled: 103,
      failed: 2,
      unanswered: 1,
      connects: 9,
      seconds: 1.234,
    });
    expect(summary).toEqual({
      scheduled: 103,
      answered: 100,
      failed: 2,
      unanswered: 1,
      p50_ms: 0.25,
      p90_ms: 0.25,
      p99_ms: 3,
      p999_ms: 100,
      max_ms: 100,
      client_lag_p99_ms: 0.5,
      client_lag_max_ms: 0.5,
      connects: 9,
      seconds: 1.23,
    });
    expect(summarizeOpenLoop({ latencies: [], lags: [], scheduled: 5, failed: 0, unanswered: 5, connects: 1, seconds: 0 })).toMatchObject({
      answered: 0,
      p50_ms: null,
      max_ms: null,
    });
  });
});

describe('bench costs: the open-loop client', () => {
  it('keeps to the schedule through a stall, and counts the wait of every request it delayed', async () => {
    // Request 5 takes 150 ms. Its connection carries a request every 10 ms: the ~14 due during
    // the stall wait for it, and a latency taken from the scheduled time shows each wait. A
    // closed-loop client would have sent them after the stall and seen ~0 ms.
    const port = await listen((n, _req, res) => {
      if (n === 5) setTimeout(() => res.end('late'), 150);
      else res.end('ok');
    });
    const result = await runOpenLoop({ port, request: { method: 'GET', path: '/' }, rate: 200, duration: 0.5, connections: 2 });
    expect(result).toMatchObject({ scheduled: 100, answered: 100, failed: 0, unanswered: 0, connects: 2 });
    expect(result.max_ms).toBeGreaterThanOrEqual(145);
    expect(result.p90_ms).toBeGreaterThan(20);
    expect(result.p50_ms).toBeLessThan(result.p90_ms);
    expect(result.seconds).toBeGreaterThanOrEqual(0.495);
  });

  it('counts non-2xx answers and lost connections as failed, and reconnects', async () => {
    const port = await listen((n, req, res) => {
      if (n === 3) req.socket.destroy();
      else if (n === 6) {
        res.statusCode = 503;
        res.end('busy');
      } else res.end('ok');
    });
    const result = await runOpenLoop({ port, request: { method: 'GET', path: '/' }, rate: 100, duration: 0.2, connections: 2 });
    expect(result).toMatchObject({ scheduled: 20, answered: 18, failed: 2, unanswered: 0, connects: 3 });
  });

  it('gives up on a request never answered after the drain time, with those queued behind it', async () => {
    // The 4th request hangs: its connection's 8 later requests queue behind it.
    const port = await listen((n, _req, res) => {
      if (n !== 4) res.end('ok');
    });
    const result = await runOpenLoop({
      port,
      request: { method: 'GET', path: '/' },
      rate: 100,
      duration: 0.2,
      connections: 2,
      drainMs: 200,
    });
    expect(result).toMatchObject({ scheduled: 20, answered: 11, failed: 0, unanswered: 9 });
  });
});

describe('bench costs: cold start and memory', () => {
  it('polls until the server answers 200, through refused connections and other statuses', async () => {
    const port = await listen((n, _req, res) => {
      res.statusCode = n < 3 ? 503 : 200;
      res.end();
    });
    await expect(firstOk(port, requestBytes({ host: '127.0.0.1', port, method: 'GET', path: '/hello' }), 5000)).resolves.toBeUndefined();
    // Nothing listens on the port once that server is closed.
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    await expect(firstOk(port, requestBytes({ host: '127.0.0.1', port, method: 'GET', path: '/' }), 50)).rejects.toThrow(/no 200/);
  });

  it("reads a process's resident memory from /proc/<pid>/status", () => {
    expect(parseVmRss('Name:\tnode\nVmPeak:\t 1000 kB\nVmRSS:\t   51251 kB\nRssAnon:\t 1 kB\n')).toBe(51_251);
    expect(parseVmRss('Name:\tkthreadd\n')).toBeNull();
    const own = residentKib(process.pid);
    if (own !== null) expect(own).toBeGreaterThan(10_000); // a Node.js process holds more than 10 MiB
    expect(residentKib(2 ** 30)).toBeNull();
  });

  it("tells how much of the machine's CPU others used, and the host stole, during a run", () => {
    // user nice system idle iowait irq softirq steal, in ticks of 1/100 s
    const before = parseCpuLine('cpu  1000 0 500 8000 100 0 0 50 0 0\ncpu0 1 2 3\n', 100);
    expect(before).toEqual({ total: 96.5, idle: 81, steal: 0.5 });
    // 20 s of machine time: 2 idle, 1 stolen, 17 busy, of which 12 were the server's and the bench's.
    const after = { total: 116.5, idle: 83, steal: 1.5 };
    expect(disturbance(before, after, 12)).toEqual({ other: 0.25, steal: 0.05 });
    expect(disturbance(before, after, 30)).toEqual({ other: 0, steal: 0.05 });
    expect(disturbance(null, after, 1)).toBeNull();
    expect(parseCpuLine('intr 1 2\n', 100)).toBeNull();
  });
});

describe('bench costs: options', () => {
  const parse = (argv: string[]) => parseOptions(argv, { cores: 2, defaultMeterNode: '/tools/node-24/bin/node' });
  const ids = (list: Array<{ id: string }>) => list.map((x) => x.id);

  it('runs every server but the control, on Node 24: 5 starts, 20,000 requests, 500 requests/s for 10 s on 8 connections', () => {
    const o = parse(['--meter', 'costs']);
    expect(o).toMatchObject({
      meter: 'costs',
      quick: false,
      starts: 5,
      warmupRequests: 20_000,
      rate: 500,
      duration: 10,
      connections: 8,
      node: '/tools/node-24/bin/node',
      pin: true,
    });
    expect(o).not.toHaveProperty('scenarios');
    expect(ids(o.servers)).toEqual(['node', 'carafe', 'carafe-serve', 'fastify', 'hono', 'koa', 'express', 'flask']);
    expect(ids(o.servers)).toEqual(ids(COSTS_LINEUP));
  });

  it('takes the rate, duration, starts and warm-up, and a quick run is shorter', () => {
    expect(parse(['--meter', 'costs', '--rate', '250', '--duration', '4', '--starts', '3', '--warmup-requests', '1000'])).toMatchObject({
      rate: 250,
      duration: 4,
      starts: 3,
      warmupRequests: 1000,
    });
    const quick = parse(['--meter', 'costs', '--quick']);
    expect(quick).toMatchObject({ starts: 2, warmupRequests: 5000, duration: 3, rate: 500 });
    expect(ids(quick.servers)).toEqual(['node', 'carafe', 'carafe-serve', 'fastify']);
    expect(ids(parse(['--meter', 'costs', '--only', 'flask']).servers)).toEqual(['node', 'flask']);
  });

  it('refuses what the costs meter does not take, and its flags in other meters', () => {
    expect(() => parse(['--meter', 'costs', '--rate', '0'])).toThrow(/--rate must be a number ≥ 1/);
    expect(() => parse(['--meter', 'costs', '--starts', '1.5'])).toThrow(/whole number/);
    expect(() => parse(['--meter', 'costs', '--scenarios', 'hello'])).toThrow(/--scenarios: not an option of the costs meter/);
    expect(() => parse(['--meter', 'costs', '--rounds', '3'])).toThrow(UsageError);
    expect(() => parse(['--meter', 'costs', '--only', 'node-control'])).toThrow(/node-control not measured by the costs meter/);
    expect(() => parse(['--rate', '100'])).toThrow(/--rate: not an option of the wallclock meter/);
    expect(() => parse(['--meter', 'instructions', '--starts', '2'])).toThrow(/not an option of the instructions meter/);
    // --duration is the wall-clock meter's too; --warmup-requests the instruction meter's.
    expect(parse(['--duration', '2']).duration).toBe(2);
    expect(parse(['--meter', 'instructions', '--warmup-requests', '100']).warmupRequests).toBe(100);
  });
});

describe('bench costs: summary and tables', () => {
  const openLoop = (p50: number, failed = 0, unanswered = 0) => ({
    scheduled: 5000,
    answered: 5000 - failed - unanswered,
    failed,
    unanswered,
    p50_ms: p50,
    p90_ms: p50 * 2,
    p99_ms: p50 * 5,
    p999_ms: p50 * 8,
    max_ms: p50 * 10,
    client_lag_p99_ms: 0.01,
    client_lag_max_ms: 0.2,
    connects: 8,
    seconds: 10.01,
  });
  const raw = {
    meter: 'costs',
    date: '2026-12-01T17:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, memory_gib: 4, os: 'TestOS', arch: 'x64' },
    versions: { node: '24.22.3', '@carafe/server': '0.2.0' },
    method: { quick: false, starts: 5, warmup_requests: 20_000, rate: 500, duration_s: 10, connections: 8, text: 'How it was measured.' },
    servers: { node: 'node:http (raw)', 'carafe-serve': 'Carafe (carafe serve --workers 1)', flask: 'Flask on Gunicorn' },
    measurements: [
      // Out of order: rows follow the servers.
      {
        server: 'flask',
        starts_ms: [],
        rss_kib: null,
        parent_rss_kib: null,
        rss_after_kib: null,
        warmup: null,
        open_loop: null,
        disturbance: null,
        note: 'unavailable: no python3',
      },
      {
        server: 'node',
        starts_ms: [52.1, 48.7, 61.3, 50.2, 49.9],
        rss_kib: 51_251,
        parent_rss_kib: null,
        rss_after_kib: 52_000,
        warmup: { requests: 20_000, non2xx: 0, errors: 0, seconds: 2 },
        open_loop: openLoop(0.123),
        disturbance: { other: 0.004, steal: 0 },
      },
      {
        server: 'carafe-serve',
        starts_ms: [120.4, 118, 131.9, 1001.5],
        rss_kib: 61_440,
        parent_rss_kib: 45_000,
        rss_after_kib: 62_000,
        warmup: { requests: 20_000, non2xx: 0, errors: 0, seconds: 2 },
        open_loop: openLoop(0.2, 3, 1),
        disturbance: { other: 0.31, steal: 0.02 },
      },
    ],
  };

  it('keeps per server the median start and its range, MiB with one decimal, and the open-loop figures', () => {
    const rows = costRows(raw.measurements, Object.keys(raw.servers));
    expect(rows.map((r: { server: string }) => r.server)).toEqual(['node', 'carafe-serve', 'flask']);
    expect(rows[0]).toEqual({
      server: 'node',
      cold_start_ms: 50.2,
      cold_start_min_ms: 48.7,
      cold_start_max_ms: 61.3,
      starts: 5,
      rss_mib: 50.0,
      parent_rss_mib: null,
      p50_ms: 0.123,
      p99_ms: 0.615,
      max_ms: 1.23,
      requests: 5000,
      failed: 0,
      unanswered: 0,
      other_cpu: 0.004,
      steal: 0,
    });
    expect(rows[1]).toMatchObject({
      cold_start_ms: 126.2,
      cold_start_max_ms: 1001.5,
      starts: 4,
      rss_mib: 60,
      parent_rss_mib: 43.9,
      failed: 3,
      unanswered: 1,
    });
    expect(rows[2]).toMatchObject({ cold_start_ms: null, rss_mib: null, p50_ms: null, requests: null, note: 'unavailable: no python3' });
    const summary = summarizeCosts(raw);
    expect(summary).toMatchObject({ format: COSTS_FORMAT, date: raw.date, method: raw.method, servers: raw.servers });
    expect(summary.rows).toEqual(rows);
  });

  it('renders the Markdown table, with the machine, versions and method, and why a server was not measured', () => {
    const md: string = costsMarkdown(summarizeCosts(raw));
    expect(md).toContain('- **Machine:** Test CPU, 2 cores, 4 GiB, TestOS (x64)');
    expect(md).toContain('- **Versions:** node 24.22.3, @carafe/server 0.2.0');
    expect(md).toContain('- **Method:** How it was measured.');
    expect(md).toContain('failed / unanswered (of 5,000) | other CPU / steal during it |');
    expect(md).toContain('| node:http (raw) | 50 (49–61) | 50.0 | — | 0.12 | 0.61 | 1.23 | 0 / 0 | 0 % / 0 % |');
    expect(md).toContain('| Carafe (carafe serve --workers 1) | 126 (118–1,002) | 60.0 | 43.9 | 0.20 | 1.00 | 2.00 | 3 / 1 | 31 % / 2 % |');
    expect(md).toContain('| Flask on Gunicorn ⚠ unavailable: no python3 | — | — | — | — | — | — | — | — |');
    expect(md).not.toContain('Quick run');
    expect(costsMarkdown(summarizeCosts({ ...raw, method: { ...raw.method, quick: true } }))).toContain('**Quick run');
  });

  it("renders the README's part: one sentence of method and a row per server", () => {
    const section: string = costsReadmeSection(summarizeCosts(raw));
    expect(section).toContain('`npm run bench -- --meter costs`, Node 24.22.3, 2026-12-01');
    expect(section).toContain('GET /users/:id at 500 requests/s for 10 s over 8 keep-alive connections');
    expect(section).toContain('| node:http | 50 | 50.0 | 0.12 | 0.61 | 1.23 | 0 |');
    expect(section).toContain('| carafe serve -w 1 | 126 | 60.0 | 0.20 | 1.00 | 2.00 | 4 |');
    expect(section).toContain('| Flask/Gunicorn | — | — | — | — | — | not measured |');
    expect(section).toContain('(bench/README.md#the-costs-meter)');
    expect(section).toContain("up to 31 % of the machine's CPU during the latency runs of carafe serve -w 1 (last column");
    const quiet = {
      ...raw,
      measurements: raw.measurements.map((m) => ({ ...m, disturbance: m.disturbance && { other: 0.01, steal: 0 } })),
    };
    expect(costsReadmeSection(summarizeCosts(quiet))).not.toContain('Other processes');
  });
});
