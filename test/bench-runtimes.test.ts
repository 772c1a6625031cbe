// The bench's rows of Carafe on Bun, Deno and workerd: their lineup entries (why they cannot
// run, how they start, which scenarios and meters take them), how the wall-clock report shows
// them, and the committed run of them the README links to. No load is generated here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { BENCH_DIR, LINEUP, runsScenario, SCENARIOS } from '../bench/lineup.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { parseOptions } from '../bench/options.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { readmeSection, RUNTIME_SERVERS, runtimesMarkdown, runtimesReadmeText, svgChart, wallclockMarkdown } from '../bench/report.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { README, RUNTIMES } from '../bench/readme.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { notRunRow } from '../bench/wallclock.mjs';
// @ts-expect-error -- plain ES module shared by the bench and test/runtimes/, without type declarations
import { missingRuntime, RUNTIMES_BIN, runtimeBinary, workerdConfig } from '../scripts/runtimes.mjs';

interface Server {
  id: string;
  label: string;
  package: string;
  instructions: boolean;
  scenarios?: string[];
  check(): Promise<string | null>;
  start(port: number, routes: number): { command: string; args: string[]; env: Record<string, string> };
  version(): string | undefined;
}

const server = (id: string): Server => LINEUP.find((s: Server) => s.id === id);
const ids = (list: Array<{ id: string }>) => list.map((x) => x.id);
const parse = (argv: string[]) => parseOptions(argv, { cores: 2, defaultMeterNode: '/tools/node-24/bin/node' });
const ROOT = join(BENCH_DIR, '..');
/** The runtime rows serve the built packages: `npm test` builds them first (npx tsc -b). */
function requireBuilt(): void {
  for (const file of ['packages/core/dist/index.js', 'packages/gateway/dist/fetch.js']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npx tsc -b\` first`);
  }
}

describe('bench lineup: Carafe on Bun, Deno and workerd', () => {
  afterEach(() => {
    delete process.env.CARAFE_RUNTIMES_BIN;
  });

  it('has one wall-clock-only row per runtime, on GET /hello only', () => {
    expect(RUNTIME_SERVERS).toEqual(['carafe-bun', 'carafe-deno', 'carafe-workerd']);
    expect(RUNTIME_SERVERS.map((id: string) => server(id).label)).toEqual(['Carafe on Bun 1.x', 'Carafe on Deno 2.x', 'Carafe on workerd']);
    expect(RUNTIME_SERVERS.map((id: string) => server(id).package)).toEqual(['bun', 'deno', 'workerd']);
    for (const id of RUNTIME_SERVERS) {
      const s = server(id);
      expect(s.instructions, id).toBe(false);
      expect(s.scenarios, id).toEqual(['hello']);
      expect(SCENARIOS.filter((x: { id: string }) => runsScenario(s, x.id)).map((x: { id: string }) => x.id)).toEqual(['hello']);
    }
    // Every other server takes part in every scenario.
    for (const s of LINEUP.filter((x: Server) => !RUNTIME_SERVERS.includes(x.id))) {
      expect(s.scenarios, s.id).toBeUndefined();
      for (const scenario of SCENARIOS) expect(runsScenario(s, scenario.id)).toBe(true);
    }
  });

  it('says why a runtime cannot run when its binary is missing, and how to install it', async () => {
    process.env.CARAFE_RUNTIMES_BIN = '/nonexistent/runtimes/bin';
    for (const [id, runtime] of [
      ['carafe-bun', 'bun'],
      ['carafe-deno', 'deno'],
      ['carafe-workerd', 'workerd'],
    ] as const) {
      const reason = await server(id).check();
      expect(reason, id).toBe(
        `${runtime} is not installed in /nonexistent/runtimes/bin/ (run \`bash scripts/install-runtimes.sh\`, which scripts/provision.sh runs)`,
      );
      expect(server(id).version(), id).toBeUndefined();
    }
    delete process.env.CARAFE_RUNTIMES_BIN;
    expect(missingRuntime('bun', RUNTIMES_BIN) ?? 'installed').toMatch(
      /^(installed|bun is not installed in \.tools\/runtimes\/bin\/ \(run `bash scripts\/install-runtimes\.sh`)/,
    );
  });

  it('runs here: the runtimes the project installs, on the built packages', async () => {
    requireBuilt();
    for (const id of RUNTIME_SERVERS) {
      const runtime = server(id).package;
      // npm test installs them (scripts/provision.sh runs scripts/install-runtimes.sh).
      expect(runtimeBinary(runtime), `${runtime} is not installed: run \`bash scripts/install-runtimes.sh\``).not.toBeNull();
      expect(await server(id).check(), id).toBeNull();
      expect(server(id).version(), id).toMatch(runtime === 'workerd' ? /^\d{4}-\d{2}-\d{2}$/ : /^\d+\.\d+\.\d+/);
    }
  });

  it('starts Bun and Deno on the entry files of bench/servers/, with the port and route count', () => {
    process.env.CARAFE_RUNTIMES_BIN = '/opt/runtimes';
    expect(server('carafe-bun').start(6123, 10)).toEqual({
      command: '/opt/runtimes/bun',
      args: [join(BENCH_DIR, 'servers', 'carafe-bun.mjs')],
      env: { PORT: '6123', ROUTES: '10' },
    });
    expect(server('carafe-deno').start(6124, 10)).toEqual({
      command: '/opt/runtimes/deno',
      args: ['run', '--allow-net', '--allow-env', '--allow-read', join(BENCH_DIR, 'servers', 'carafe-deno.mjs')],
      env: { PORT: '6124', ROUTES: '10', NO_COLOR: '1' },
    });
    for (const file of ['carafe-bun.mjs', 'carafe-deno.mjs', 'carafe-workerd.mjs']) {
      const source = readFileSync(join(BENCH_DIR, 'servers', file), 'utf8');
      expect(source, file).toContain("import { toFetchHandler } from '@carafe/gateway/fetch';");
      expect(source, file).toContain("import { app } from './carafe-app.mjs';");
    }
  });

  it('starts workerd on a bundle of the worker module and a config listening on the port', () => {
    requireBuilt();
    process.env.CARAFE_RUNTIMES_BIN = '/opt/runtimes';
    const spec = server('carafe-workerd').start(6125, 10);
    expect(spec.command).toBe('/opt/runtimes/workerd');
    expect(spec.args[0]).toBe('serve');
    const config = readFileSync(spec.args[1]!, 'utf8');
    expect(config).toBe(workerdConfig({ bundle: 'worker.bundle.js', address: '127.0.0.1:6125' }));
    expect(config).toContain('compatibilityFlags = ["no_nodejs_compat", "enable_request_signal"]');
    const bundle = readFileSync(join(spec.args[1]!, '..', 'worker.bundle.js'), 'utf8');
    expect(bundle).toContain('{ ROUTES: "10" }'); // process.env, defined: a Worker has none
    expect(bundle).not.toMatch(/from\s*["']node:/);
  });

  it("serves workerd with the README's config, but for the port", () => {
    const readme = readFileSync(README, 'utf8');
    const block = /```capnp\n# config\.capnp\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(workerdConfig({ bundle: 'worker.bundle.js', address: '127.0.0.1:8000' }));
  });
});

describe('bench options: which meters take the runtime rows', () => {
  it('the wall-clock meter runs them by default and on request', () => {
    expect(ids(parse([]).servers)).toEqual(ids(LINEUP));
    expect(ids(parse(['--only', 'carafe,carafe-bun,carafe-deno,carafe-workerd', '--scenarios', 'hello']).servers)).toEqual([
      'node',
      'carafe',
      'carafe-bun',
      'carafe-deno',
      'carafe-workerd',
    ]);
  });

  it('the instruction meter never does', () => {
    expect(ids(parse(['--meter', 'instructions']).servers)).not.toContain('carafe-bun');
    for (const id of RUNTIME_SERVERS) {
      expect(() => parse(['--meter', 'instructions', '--only', id])).toThrow(`${id} not measured by the instructions meter`);
    }
  });

  it('the costs meter, which measures GET /users/:id, does not either', () => {
    const servers = ids(parse(['--meter', 'costs']).servers);
    for (const id of RUNTIME_SERVERS) expect(servers).not.toContain(id);
    expect(() => parse(['--meter', 'costs', '--only', 'carafe-deno'])).toThrow('carafe-deno not measured by the costs meter');
  });
});

/** A wall-clock summary with every scenario, and the runtime rows measured on GET /hello only. */
function summaryWithRuntimes() {
  const servers = Object.fromEntries(LINEUP.map((s: Server) => [s.id, s.label]));
  const scenarios = Object.fromEntries(SCENARIOS.map((s: { id: string; label: string }) => [s.id, s.label]));
  const measured = (scenario: string, id: string, ratio: number) => ({
    scenario,
    server: id,
    rps: 20_000 * ratio,
    p50_ms: 4,
    p99_ms: 12,
    ratio,
    cpu_us: 16 / ratio,
    cpu_ratio: ratio,
    round_count: 12,
    ratio_iqr: 0.1,
    cpu_ratio_iqr: 0.1,
  });
  const ratios: Record<string, number> = {
    node: 1,
    'node-control': 0.97,
    carafe: 0.8,
    'carafe-bun': 1.25,
    'carafe-deno': 0.7,
    'carafe-workerd': 0.15,
  };
  const rows = [];
  for (const scenario of Object.keys(scenarios)) {
    for (const s of LINEUP as Server[]) {
      if (!runsScenario(s, scenario)) {
        const { rounds, ...row } = notRunRow(scenario, s);
        rows.push({ ...row, round_count: rounds.length, ratio_iqr: null, cpu_ratio_iqr: null });
      } else rows.push(measured(scenario, s.id, ratios[s.id] ?? 0.6));
    }
  }
  return {
    format: 'carafe-bench/wallclock-summary@1',
    date: '2026-12-01T18:00:00.000Z',
    machine: { cpu: 'AMD EPYC', cores: 2, memory_gib: 23.5, os: 'Debian', arch: 'x64' },
    versions: { node: '24.22.3', wrk: '4.1.0', bun: '1.4.5', deno: '2.9.6', workerd: '2026-11-17' },
    method: { quick: false, rounds: 12, duration_s: 1, pinning: 'server processes on core 1', text: 'The method.' },
    servers,
    scenarios,
    rows,
    router: null,
    targets: [],
  };
}

describe('bench report: the runtime rows', () => {
  it('marks a server in a scenario it does not take part in as not run', () => {
    expect(notRunRow('users', server('carafe-deno'))).toEqual({
      scenario: 'users',
      server: 'carafe-deno',
      rps: null,
      p50_ms: null,
      p99_ms: null,
      ratio: null,
      cpu_us: null,
      cpu_ratio: null,
      rounds: [],
      note: 'not run: GET /hello only',
    });
  });

  it('shows them where measured and — elsewhere, in the README part, the table and the chart', () => {
    const summary = summaryWithRuntimes();
    const section: string = readmeSection(summary);
    const header = section.split('\n').find((line) => line.startsWith('| scenario |'))!;
    expect(header).toContain('| Carafe on Bun | Carafe on Deno | Carafe on workerd |');
    const hello = section.split('\n').find((line) => line.startsWith('| GET /hello |'))!;
    expect(hello.endsWith('| 1.25 | 0.70 | 0.15 |')).toBe(true);
    const users = section.split('\n').find((line) => line.startsWith('| GET /users/:id |'))!;
    expect(users.endsWith('| 0.60 | — | — | — |')).toBe(true);
    const md: string = wallclockMarkdown(summary, 'latest');
    expect(md).toContain('| GET /users/:id | Carafe on workerd | — | — | — | not run: GET /hello only | — | — |');
    expect(md).toContain('| GET /hello | Carafe on Bun 1.x | 25,000 |');
    expect(svgChart(summary)).toContain('not run: GET /hello only');
  });

  it('renders the runtimes table and the README sentence from one summary', () => {
    const summary = summaryWithRuntimes();
    const md: string = runtimesMarkdown(summary);
    expect(md).toContain('--only node-control,carafe,carafe-serve,fastify,hono,koa,express,flask,carafe-bun,carafe-deno,carafe-workerd');
    expect(md).toContain('| Carafe on Deno 2.x | 14,000 | 4.00 | 12.00 | 0.700 | 22.9 | 0.700 | 12 |');
    expect(md).not.toContain('GET /users/:id');
    expect(md).toContain('**Control.** node:http measured against itself');
    expect(runtimesReadmeText(summary)).toContain(
      "1.25 on Bun 1.4.5, 0.70 on Deno 2.9.6 and 0.15 on workerd 2026-11-17 of node:http's requests/s, against 0.80 for Carafe on Node",
    );
    expect(runtimesReadmeText(summary)).toContain('the node:http control came out at 0.97');
  });
});

describe('README: the committed run of the runtime rows', () => {
  const committed = () => JSON.parse(readFileSync(RUNTIMES.json, 'utf8'));

  it('is a wall-clock run of GET /hello with a measured row for each runtime, node:http and its control', () => {
    const summary = committed();
    expect(summary.format).toBe('carafe-bench/wallclock-summary@1');
    expect(summary.method.quick).toBe(false);
    for (const id of ['node', 'node-control', 'carafe', ...RUNTIME_SERVERS]) {
      const row = summary.rows.find((r: { scenario: string; server: string }) => r.scenario === 'hello' && r.server === id);
      expect(row?.ratio, id).toBeGreaterThan(0);
    }
  });

  it('is what bench/results/runtimes.md and the README quote', () => {
    const summary = committed();
    expect(readFileSync(RUNTIMES.md, 'utf8')).toBe(runtimesMarkdown(summary));
    // The README wraps the sentence over lines.
    const readme = readFileSync(README, 'utf8').replace(/[ \n]+/g, ' ');
    expect(readme).toContain(runtimesReadmeText(summary));
    // After the wall-clock part and the paragraph following it, outside every marker block.
    const at = readme.indexOf(runtimesReadmeText(summary));
    expect(at).toBeGreaterThan(readme.indexOf('<!-- bench:end -->'));
    const between = readme.slice(readme.indexOf('<!-- bench:end -->') + '<!-- bench:end -->'.length, at);
    expect(between).not.toContain('<!--');
  });
});
