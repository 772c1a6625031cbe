// The benchmark harness's own logic: parsing wrk, the shared route table, and judging
// targets. No load is generated here (speed is measured by `npm run bench`, never in tests).
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { parseWrkOutput } from '../bench/load.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { ECHO_BODY, ECHO_JSON, lastDynamicPath, restRoutes } from '../bench/routes.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { controlSummary, evaluateTargets, svgChart } from '../bench/report.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { WALLCLOCK_FORMAT, formatJson, roundSpread, summarizeWallclock } from '../bench/summary.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { cpuTimes, processTreeCpuSeconds, stolenShare } from '../bench/cpu.mjs';

const WRK_OUTPUT = `Running 1s test @ http://127.0.0.1:3994/hello
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.96ms    2.81ms  33.17ms   87.14%
    Req/Sec    10.36k     6.32k   19.99k    63.64%
  Latency Distribution
     50%  463.00us
     75%    2.87ms
     90%    5.48ms
     99%   11.45ms
  11383 requests in 1.10s, 1.92MB read
Requests/sec:  10319.91
Transfer/sec:      1.74MB
`;

describe('bench: wrk output', () => {
  it('reads requests/s and the p50/p99 percentiles in milliseconds', () => {
    expect(parseWrkOutput(WRK_OUTPUT)).toEqual({
      rps: 10319.91,
      p50_ms: 0.463,
      p99_ms: 11.45,
      requests: 11383,
      errors: 0,
      non2xx: 0,
    });
  });

  it('counts non-2xx answers and socket errors other than reads, with seconds as a unit', () => {
    const text = WRK_OUTPUT.replace('     99%   11.45ms', '     99%    1.20s').replace(
      'Requests/sec:',
      'Socket errors: connect 1, read 50, write 2, timeout 3\n  Non-2xx or 3xx responses: 7\nRequests/sec:',
    );
    const result = parseWrkOutput(text);
    expect(result.p99_ms).toBe(1200);
    expect(result.errors).toBe(6);
    expect(result.non2xx).toBe(7);
  });

  it('refuses output it cannot read rather than reporting zeros', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/could not parse wrk output/);
  });
});

describe('bench: shared routes', () => {
  it('builds 1000 distinct REST routes over 100 resources, the last one a dynamic GET', () => {
    const routes: Array<{ method: string; path: string }> = restRoutes(1000);
    expect(routes).toHaveLength(1000);
    expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(1000);
    expect(new Set(routes.map((r) => r.path.split('/').slice(0, 4).join('/'))).size).toBe(100);
    expect(routes.at(-1)).toEqual({ method: 'GET', path: '/api/v5/webhooks/:id/items/:itemId' });
    expect(lastDynamicPath(1000)).toBe('/api/v5/webhooks/42/items/7');
    expect(lastDynamicPath(10)).toBe('/api/v1/users/42/items/7');
  });

  it('rejects a route count that is not a multiple of the ten shapes', () => {
    expect(() => restRoutes(15)).toThrow(RangeError);
  });

  it('sends an echo body of about 1 KB', () => {
    expect(ECHO_JSON.length).toBeGreaterThan(900);
    expect(ECHO_JSON.length).toBeLessThan(1100);
    expect(JSON.parse(ECHO_JSON)).toEqual(ECHO_BODY);
  });
});

function row(scenario: string, server: string, ratio: number, rps = ratio * 10000, cpuRatio = ratio) {
  return {
    scenario,
    server,
    rps,
    p50_ms: 1,
    p99_ms: 2,
    ratio,
    cpu_us: 20 / cpuRatio,
    cpu_ratio: cpuRatio,
    rounds: [{ round: 1, rps, p50_ms: 1, p99_ms: 2, ratio, cpu_ratio: cpuRatio }],
  };
}

function report(rows: unknown[], router?: unknown) {
  return {
    machine: { cpu: 'Test <CPU> & co', cores: 2, memory_gib: 4, os: 'Linux', arch: 'x64' },
    versions: { node: '20' },
    method: { quick: true, text: 'test method' },
    servers: { node: 'node:http (raw)', carafe: 'Carafe (in-process)', 'carafe-serve': 'Carafe (serve)', fastify: 'Fastify' },
    scenarios: { hello: 'GET /hello', users: 'GET /users/:id', echo: 'POST /echo', 'routes-10': '10 routes', 'routes-1000': '1000 routes' },
    rows,
    router,
    date: '2025-01-01T00:00:00.000Z',
  };
}

describe('bench: targets', () => {
  it('judges each target from the run, and says n/a when a number is missing', () => {
    const targets = evaluateTargets(
      report(
        [
          row('hello', 'carafe', 0.9),
          row('hello', 'fastify', 0.95),
          row('hello', 'carafe-serve', 0.86),
          row('users', 'carafe', 0.8),
          row('users', 'fastify', 0.85),
          row('routes-10', 'carafe', 0.8, 20000),
          row('routes-1000', 'carafe', 0.76, 19000),
        ],
        {
          results: [
            { routes: 10, ratio: 1.2 },
            { routes: 1000, ratio: 1.6 },
          ],
        },
      ),
    );
    const status = Object.fromEntries(targets.map((t: { target: string; status: string }) => [t.target.slice(0, 12), t.status]));
    expect(status).toEqual({
      '/hello: Cara': 'FAIL', // 0.90 < 0.95 - 0.03
      'GET /users/:': 'FAIL',
      'POST /echo: ': 'n/a',
      '1000 routes:': 'pass', // 19000 / 20000 = 0.95
      'Route lookup': 'FAIL', // 1.6× at 1000 routes
      '`carafe serv': 'pass', // 0.90 - 0.86 = 0.04
    });
  });

  it('judges the same targets again on CPU-time ratios, independently of the req/s ones', () => {
    const targets = evaluateTargets(
      report([
        row('hello', 'carafe', 0.8, 8000, 0.93),
        row('hello', 'fastify', 0.82, 8200, 0.9),
        row('users', 'carafe', 0.8, 8000, 0.7),
        row('users', 'fastify', 0.7, 7000, 0.75),
        row('routes-10', 'carafe', 0.8, 8000, 0.9),
        row('routes-1000', 'carafe', 0.7, 7000, 0.88),
      ]),
    );
    const byTarget = Object.fromEntries(
      targets.map((t: { target: string; status: string; cpu_status: string; cpu_measured: string }) => [
        t.target.slice(0, 12),
        [t.status, t.cpu_status],
      ]),
    );
    expect(byTarget).toMatchObject({
      '/hello: Cara': ['FAIL', 'pass'], // 0.80 < 0.85 in req/s; 0.93 ≥ 0.85 and ≥ 0.90 − 0.03 in CPU time
      'GET /users/:': ['pass', 'FAIL'],
      '1000 routes:': ['FAIL', 'pass'], // 0.7 / 0.8 = 0.875; 0.88 / 0.9 = 0.978
    });
    expect(targets[0].cpu_measured).toBe('Carafe 0.930, Fastify 0.900');
  });

  it('reports how far the control (node:http against itself) landed from 1.00', () => {
    expect(controlSummary(report([row('hello', 'carafe', 0.9)]))).toBeNull();
    const text: string = controlSummary(
      report([row('hello', 'node-control', 0.93, 9300, 0.98), row('users', 'node-control', 1.04, 10400, 1.01)]),
    );
    expect(text).toContain('0.93–1.04 in req/s and 0.98–1.01 in CPU time');
  });

  it('measures how much per-round ratios spread, per measure', () => {
    const spread = (values: number[]) => ({
      scenario: 'hello',
      server: 'carafe',
      rounds: values.map((v, i) => ({ round: i + 1, ratio: v, cpu_ratio: 0.9 + v / 100 })),
    });
    const r = report([spread([0.6, 0.8, 0.9, 1.0, 1.2]), { ...spread([1, 1, 1, 1, 1]), server: 'node' }]);
    const summary = summarizeWallclock({ ...r, targets: [] });
    expect(roundSpread(summary, 'ratio')).toBeCloseTo(0.2); // quartiles 0.8 and 1.0; node:http's rows are left out
    expect(roundSpread(summary, 'cpu_ratio')).toBeCloseTo(0.002);
  });

  it('draws an SVG bar per measured row, with text escaped', () => {
    const svg: string = svgChart(report([row('hello', 'node', 1), row('hello', 'carafe', 0.9)]));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect /g)).toHaveLength(3); // background + two bars
    expect(svg).toContain('Test &lt;CPU&gt; &amp; co');
    expect(svg).toContain('0.90 · 9,000 req/s');
  });
});

describe('bench: the committed summary of a wall-clock run', () => {
  const raw = () => ({
    ...report([
      {
        ...row('hello', 'carafe', 0.9),
        rounds: [0.7, 0.8, 0.9, 1.0].map((ratio, i) => ({ round: i + 1, rps: 1, ratio, cpu_ratio: ratio })),
      },
      { ...row('hello', 'fastify', 0.95), note: 'unavailable: not built', rounds: [] },
    ]),
    targets: [{ target: 't', measured: 'm', status: 'pass' }],
  });

  it('keeps every median and ratio, and replaces the rounds by their number and spread', () => {
    const summary = summarizeWallclock(raw());
    expect(summary.format).toBe(WALLCLOCK_FORMAT);
    expect(summary.targets).toEqual([{ target: 't', measured: 'm', status: 'pass' }]);
    expect(summary.rows[0]).toEqual({
      scenario: 'hello',
      server: 'carafe',
      rps: 9000,
      p50_ms: 1,
      p99_ms: 2,
      ratio: 0.9,
      cpu_us: 20 / 0.9,
      cpu_ratio: 0.9,
      round_count: 4,
      ratio_iqr: 0.15,
      cpu_ratio_iqr: 0.15, // quartiles 0.775 and 0.925
    });
    expect(summary.rows[1]).toMatchObject({ round_count: 0, ratio_iqr: null, note: 'unavailable: not built' });
    expect(JSON.stringify(summary)).not.toContain('"rounds"');
  });

  it('renders the same tables from the summary as it did from every round', () => {
    const full = raw();
    const summary = summarizeWallclock(full);
    expect(controlSummary(summary)).toBe(controlSummary(full));
    expect(svgChart(summary)).toBe(svgChart(full));
  });

  it('refuses a raw report whose targets were not judged', () => {
    expect(() => summarizeWallclock({ ...raw(), targets: undefined })).toThrow(/targets/);
  });

  it('writes JSON with each short object on one line, and reads back the same value', () => {
    const value = {
      rows: [
        { a: 1, b: 'x' },
        { a: 2, b: null },
      ],
      nested: { deep: { list: [1, 2, 3] } },
      long: 'y'.repeat(40),
    };
    const text: string = formatJson(value, 30);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('\n    {"a":1,"b":"x"},\n');
  });
});

describe('bench: steal time', () => {
  const snapshot = (cpu0: [number, number], cpu1: [number, number]) => ({
    cpu: { total: cpu0[0] + cpu1[0], steal: cpu0[1] + cpu1[1] },
    cpu0: { total: cpu0[0], steal: cpu0[1] },
    cpu1: { total: cpu1[0], steal: cpu1[1] },
  });

  it('reports the worst share stolen from the cores a run used', () => {
    const before = snapshot([1000, 10], [1000, 10]);
    const after = snapshot([1200, 15], [1200, 70]); // core 1 lost 60 of its 200 jiffies
    expect(stolenShare(before, after, [0, 1])).toBeCloseTo(0.3);
    expect(stolenShare(before, after, [0])).toBeCloseTo(0.025);
    expect(stolenShare(before, after, null)).toBeCloseTo(65 / 400);
  });

  it('says null when it cannot know', () => {
    const times = snapshot([1, 0], [1, 0]);
    expect(stolenShare(null, times, [0])).toBeNull();
    expect(stolenShare(times, times, [7])).toBeNull();
  });

  it('adds up the CPU time of a process and the processes it started', async () => {
    // A shell whose child spins: the shell itself uses almost nothing, so only a sum that
    // includes the child can reach the child's own CPU time. No timing is assumed: the test
    // waits (on a loaded machine, as long as it takes) until the child has measurably worked.
    const { spawn } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const shell = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e "while (true);"; true`], { detached: true });
    const childOf = (pid: number) => Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    try {
      let child = 0;
      let childCpu = 0;
      for (let waited = 0; childCpu < 0.1 && waited < 20_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        child ||= childOf(shell.pid!) || 0;
        if (child) childCpu = processTreeCpuSeconds(child) ?? 0;
      }
      expect(childCpu).toBeGreaterThanOrEqual(0.1);
      expect(processTreeCpuSeconds(shell.pid)).toBeGreaterThanOrEqual(childCpu);
    } finally {
      process.kill(-shell.pid!, 'SIGKILL'); // the shell's process group: the spinning child too
    }
    expect(processTreeCpuSeconds(2 ** 22 + 12345)).toBeNull(); // above Linux's pid_max: no such process
  });

  it("reads this machine's /proc/stat", () => {
    const times = cpuTimes();
    expect(times.cpu.total).toBeGreaterThan(0);
    expect(times.cpu0.steal).toBeGreaterThanOrEqual(0);
  });
});
