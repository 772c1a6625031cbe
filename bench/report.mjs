// Turns one wall-clock run into bench/results/latest.{json,md,svg}: the targets are judged
// on the raw report (every round), everything else is rendered from its summary
// (summary.mjs). The chart is plain hand-written SVG: no charting dependency.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { README_LABELS } from './lineup.mjs';
import { median } from './stats.mjs';
import { machineLines, RESULTS_DIR, roundSpread, summarizeWallclock, writeSummary } from './summary.mjs';

export { RESULTS_DIR, roundSpread };

const fmt = (value, digits) => (value === null || value === undefined ? '—' : value.toFixed(digits));
const fmtInt = (value) => (value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en-US'));

function rowOf(report, scenario, server) {
  return report.rows.find((r) => r.scenario === scenario && r.server === server && r.note === undefined);
}

/**
 * Median over rounds of a's `key` ratio over b's in the same round (null without common rounds).
 * Each run's ratio to the node:http runs beside it is compared, which cancels the machine's
 * drift between the two runs.
 */
function sameRoundMedian(a, b, key) {
  if (!a || !b) return null;
  const ratios = a.rounds
    .map((run) => ({ run, base: b.rounds.find((r) => r.round === run.round) }))
    .filter(({ run, base }) => base && base[key] > 0 && run[key] != null)
    .map(({ run, base }) => run[key] / base[key]);
  return median(ratios);
}

/** The two measures the targets are judged on: the issue's requests/s ratio, and CPU time per request. */
const MEASURES = [
  { key: 'ratio', unit: 'req/s' },
  { key: 'cpu_ratio', unit: 'CPU-time' },
];

/**
 * The issue's targets, each judged on this run: `pass`, `FAIL`, or `n/a` when the run
 * lacks a number it needs (a server or scenario left out, or not built). `status` judges
 * the requests/s ratios the issue defines; `cpu_status` the same targets on CPU-time ratios,
 * which time stolen by the host does not lower.
 */
export function evaluateTargets(report) {
  const [byRate, byCpu] = MEASURES.map(({ key, unit }) =>
    judgeTargets({
      ratio: (scenario, server) => rowOf(report, scenario, server)?.[key] ?? null,
      scale: sameRoundMedian(rowOf(report, 'routes-1000', 'carafe'), rowOf(report, 'routes-10', 'carafe'), key),
      scaleText: (scale) => `median of same-round ${unit} ratios ${fmt(scale, 3)}`,
      scenarios: report.scenarios,
      router: report.router,
    }),
  );
  return byRate.map((t, i) => ({ ...t, cpu_measured: byCpu[i].measured, cpu_status: byCpu[i].status }));
}

/**
 * The targets judged on one measure (the wall clock's req/s or CPU-time ratios, or the
 * instruction meter's ratios).
 * @param {object} o
 * @param {(scenario: string, server: string) => number | null} o.ratio a server's ratio to node:http (higher is better)
 * @param {number | null} o.scale Carafe's 1000-route figure over its 10-route one (1 = no slower)
 * @param {(scale: number | null) => string} o.scaleText how that scale was measured
 * @param {Record<string, string>} o.scenarios labels
 * @param {any} [o.router] the router micro-benchmark's results (null: not run); undefined leaves the lookup target out
 */
export function judgeTargets({ ratio, scale, scaleText, scenarios, router }) {
  const judge = (ok) => (ok === null ? 'n/a' : ok ? 'pass' : 'FAIL');
  const targets = [];

  const hello = ratio('hello', 'carafe');
  const helloFastify = ratio('hello', 'fastify');
  targets.push({
    target: '/hello: Carafe ≥ 0.85 of node:http, and ≥ Fastify − 0.03',
    measured: `Carafe ${fmt(hello, 3)}, Fastify ${fmt(helloFastify, 3)}`,
    status: judge(hello === null || helloFastify === null ? null : hello >= 0.85 && hello >= helloFastify - 0.03),
  });
  for (const scenario of ['users', 'echo']) {
    const c = ratio(scenario, 'carafe');
    const f = ratio(scenario, 'fastify');
    targets.push({
      target: `${scenarios[scenario]}: Carafe ≥ Fastify`,
      measured: `Carafe ${fmt(c, 3)}, Fastify ${fmt(f, 3)}`,
      status: judge(c === null || f === null ? null : c >= f),
    });
  }
  targets.push({
    target: '1000 routes: Carafe ≥ 0.9 of its own 10-route rate',
    measured: scaleText(scale),
    status: judge(scale === null ? null : scale >= 0.9),
  });
  if (router !== undefined) {
    // Measured in CPU time alone: the same under both wall-clock measures.
    const lookups = router?.results ?? [];
    const slowest = lookups.length ? Math.max(...lookups.map((l) => l.ratio)) : null;
    targets.push({
      target: 'Route lookup: Carafe within 1.5× of find-my-way (10, 100, 1000 routes)',
      measured: lookups.length ? lookups.map((l) => `${l.routes}: ${fmt(l.ratio, 2)}×`).join(', ') : 'not run',
      status: judge(slowest === null ? null : slowest <= 1.5),
    });
  }
  const gaps = Object.keys(scenarios)
    .map((scenario) => {
      const inProcess = ratio(scenario, 'carafe');
      const served = ratio(scenario, 'carafe-serve');
      return inProcess === null || served === null ? null : { scenario, gap: inProcess - served };
    })
    .filter(Boolean);
  targets.push({
    target: '`carafe serve --workers 1` within 0.05 of in-process (every scenario)',
    measured: gaps.length ? gaps.map((g) => `${g.scenario} ${g.gap >= 0 ? '−' : '+'}${fmt(Math.abs(g.gap), 3)}`).join(', ') : '—',
    status: judge(gaps.length === 0 ? null : gaps.every((g) => g.gap <= 0.05)),
  });
  return targets;
}

/** The targets judged both ways: on requests/s ratios (the issue's definition) and on CPU-time ratios. */
export function targetTable(targets, heading) {
  const lines = [`| ${heading} | on req/s ratios | | on CPU-time ratios | |`, '|---|---|---|---|---|'];
  for (const t of targets) lines.push(`| ${t.target} | ${t.measured} | ${t.status} | ${t.cpu_measured ?? '—'} | ${t.cpu_status ?? '—'} |`);
  return lines;
}

/** The Markdown report (latest.md) of a wall-clock summary. */
export function wallclockMarkdown(report, name) {
  const { method } = report;
  const lines = [];
  lines.push('# Carafe benchmark results', '');
  lines.push(`${method.quick ? '**Quick run (development only: too short to quote).** ' : ''}Run on ${report.date}.`, '');
  lines.push(...machineLines(report), `- **Method:** ${method.text}`, '');
  lines.push('## Throughput and latency', '');
  lines.push('| Scenario | Server | req/s | p50 ms | p99 ms | ratio to node:http | CPU µs/req | CPU ratio |');
  lines.push('|---|---|--:|--:|--:|--:|--:|--:|');
  for (const row of report.rows) {
    const label = report.servers[row.server] ?? row.server;
    if (row.rps === null) {
      lines.push(`| ${report.scenarios[row.scenario]} | ${label} | — | — | — | ${row.note ?? '—'} | — | — |`);
      continue;
    }
    const flag = row.note ? ` ⚠ ${row.note}` : '';
    lines.push(
      `| ${report.scenarios[row.scenario]} | ${label} | ${fmtInt(row.rps)} | ${fmt(row.p50_ms, 2)} | ${fmt(row.p99_ms, 2)} | ${fmt(row.ratio, 3)}${flag} | ` +
        `${fmt(row.cpu_us, 1)} | ${fmt(row.cpu_ratio, 3)} |`,
    );
  }
  lines.push('');
  const control = controlSummary(report);
  if (control) lines.push(control, '');
  if (report.router) {
    lines.push('## Route lookup micro-benchmark', '');
    if (report.router.error) {
      lines.push(`Not measured: ${report.router.error}`, '');
    } else {
      lines.push(report.router.method, '');
      lines.push('| Routes | Path looked up | Carafe ns/lookup | find-my-way ns/lookup | Carafe ÷ find-my-way |');
      lines.push('|--:|---|--:|--:|--:|');
      for (const l of report.router.results) {
        lines.push(`| ${l.routes} | \`${l.path}\` | ${fmt(l.carafe_ns, 1)} | ${fmt(l.findmyway_ns, 1)} | ${fmt(l.ratio, 2)}× |`);
      }
      lines.push('');
    }
  }
  lines.push('## Targets', '');
  lines.push(...targetTable(report.targets, 'Target'));
  lines.push('', `![Ratios to raw node:http](${name}.svg)`, '');
  return lines.join('\n');
}

const escapeXml = (text) =>
  String(text).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);

function wrap(text, width) {
  const out = [];
  let line = '';
  for (const word of String(text).split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

const COLORS = { node: '#4b5563', 'node-control': '#9ca3af', carafe: '#8e2c48', 'carafe-serve': '#c0587a' };
const PEER_COLOR = '#7a9cc6';

/** Horizontal bar chart of each server's ratio to raw node:http, one group per scenario. */
export function svgChart(report) {
  const width = 960;
  const labelWidth = 250;
  const plotWidth = 540;
  const bar = 16;
  const gap = 4;
  const groupGap = 18;
  const measured = report.rows.filter((r) => r.ratio !== null);
  const maxRatio = Math.max(1.1, ...measured.map((r) => r.ratio));
  const x = (ratio) => labelWidth + (ratio / maxRatio) * plotWidth;
  const parts = [];
  let y = 58;
  const scenarios = [...new Set(report.rows.map((r) => r.scenario))];
  const top = y;
  for (const scenario of scenarios) {
    parts.push(`<text x="12" y="${y + 12}" class="group">${escapeXml(report.scenarios[scenario] ?? scenario)}</text>`);
    y += 20;
    for (const row of report.rows.filter((r) => r.scenario === scenario)) {
      const label = report.servers[row.server] ?? row.server;
      parts.push(`<text x="${labelWidth - 8}" y="${y + bar - 4}" text-anchor="end">${escapeXml(label)}</text>`);
      if (row.ratio === null) {
        parts.push(`<text x="${labelWidth + 4}" y="${y + bar - 4}" class="muted">${escapeXml(row.note ?? 'not measured')}</text>`);
      } else {
        const w = Math.max(1, x(row.ratio) - labelWidth);
        const color = COLORS[row.server] ?? PEER_COLOR;
        parts.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${color}"/>`);
        const note = row.note ? ' ⚠' : '';
        parts.push(
          `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + bar - 4}">${row.ratio.toFixed(2)} · ${Math.round(row.rps).toLocaleString('en-US')} req/s${note}</text>`,
        );
      }
      y += bar + gap;
    }
    y += groupGap;
  }
  const bottom = y - groupGap;
  const axis = [];
  for (let tick = 0; tick <= maxRatio + 1e-9; tick += 0.25) {
    const tx = x(tick).toFixed(1);
    axis.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" class="${Math.abs(tick - 1) < 1e-9 ? 'one' : 'grid'}"/>`);
    axis.push(`<text x="${tx}" y="${top - 10}" text-anchor="middle" class="muted">${tick.toFixed(2)}</text>`);
  }
  const { machine, versions, method } = report;
  const footer = [
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.os}`,
    ...wrap(
      `Versions: ${Object.entries(versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      150,
    ),
    ...wrap(`Method: ${method.text}`, 150),
    `Run: ${report.date}${method.quick ? ' (quick run — development only)' : ''}`,
  ];
  let fy = bottom + 24;
  const footerText = footer.map((line) => {
    const t = `<text x="12" y="${fy}" class="foot">${escapeXml(line)}</text>`;
    fy += 14;
    return t;
  });
  const height = fy + 6;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    '<style>text{fill:#1f2937}.group{font-weight:600;font-size:13px}.muted{fill:#6b7280}.foot{fill:#4b5563;font-size:10.5px}' +
      '.grid{stroke:#e5e7eb}.one{stroke:#111827;stroke-dasharray:4 3}</style>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="700">Requests/s relative to raw node:http (1.00 = node:http in the same round)</text>`,
    ...axis,
    ...parts,
    ...footerText,
    '</svg>',
    '',
  ].join('\n');
}

/** The Performance section of the root README, rendered from a complete run's report. */
export function readmeSection(report) {
  const { machine, versions, method } = report;
  const servers = Object.keys(report.servers);
  const lines = [];
  lines.push(
    'Median ratios of requests/s to raw `node:http` (higher is better), each run against node:http runs',
    `just before and after it, from \`npm run bench\` on ${machine.cpu} (${machine.cores} cores;`,
    `${method.pinning === 'none' ? 'not pinned' : 'server and wrk pinned to one core each'}), Node ${versions.node}, ${report.date.slice(0, 10)}: ${method.rounds} rounds of ${method.duration_s} s per`,
    'server and scenario. Full table with req/s and p50/p99 latency:',
    '[bench/results/latest.md](bench/results/latest.md); method: [bench/README.md](bench/README.md).',
    '',
  );
  lines.push(...ratioTable(report, servers, 'ratio'), '');
  const rateSpread = roundSpread(report, 'ratio');
  const cpuSpread = roundSpread(report, 'cpu_ratio');
  lines.push(
    "The same runs measured in CPU time per request (node:http's over the server's, from `/proc`: the",
    "server's processes' user + system time over the requests served). Time the host steals from the",
    "VM is not charged to the server's processes, but a core the host slows down still is: in this run,",
    `the typical interquartile range of one server's per-round ratios was ${fmt(rateSpread, 2)} in req/s and`,
    `${fmt(cpuSpread, 2)} in CPU time.`,
    '',
    ...ratioTable(report, servers, 'cpu_ratio'),
    '',
  );
  const control = controlSummary(report);
  if (control) lines.push(control, '');
  if (report.router?.results) {
    const parts = report.router.results.map(
      (l) => `${l.routes} routes ${fmt(l.carafe_ns, 0)} ns vs find-my-way ${fmt(l.findmyway_ns, 0)} ns (${fmt(l.ratio, 2)}×)`,
    );
    lines.push(`Route lookup alone (tinybench): ${parts.join('; ')}.`, '');
  }
  lines.push(...targetTable(report.targets, 'target'));
  lines.push('', '![Requests/s relative to raw node:http](bench/results/latest.svg)', '');
  return lines.join('\n');
}

/**
 * What the control (node:http measured against itself, in a second process) says about the
 * run's resolution, or null when it was not run.
 */
export function controlSummary(report) {
  const rows = report.rows.filter((r) => r.server === 'node-control' && r.ratio !== null);
  if (rows.length === 0) return null;
  const range = (key) => {
    const values = rows.map((r) => r[key]).filter((v) => typeof v === 'number');
    if (values.length === 0) return '—';
    const [low, high] = [fmt(Math.min(...values), 2), fmt(Math.max(...values), 2)];
    return low === high ? low : `${low}–${high}`;
  };
  return (
    `**Control.** node:http measured against itself (a second process, run like any other server) came out at ` +
    `${range('ratio')} in req/s and ${range('cpu_ratio')} in CPU time across the scenarios, where a machine without noise ` +
    'would give 1.00: differences between servers smaller than that gap are within the noise of this run.'
  );
}

function ratioTable(report, servers, key) {
  const lines = [`| scenario | ${servers.map((id) => README_LABELS[id] ?? id).join(' | ')} |`];
  lines.push(`|---|${servers.map(() => '--:').join('|')}|`);
  for (const [id, label] of Object.entries(report.scenarios)) {
    const cells = servers.map((server) => {
      const value = report.rows.find((r) => r.scenario === id && r.server === server)?.[key];
      return value === null || value === undefined ? '—' : value.toFixed(2);
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The rows of Carafe on the other runtimes (the lineup's GET /hello-only servers). */
export const RUNTIME_SERVERS = ['carafe-bun', 'carafe-deno', 'carafe-workerd'];

/** The runtime of each of those rows, as the versions name it. */
const RUNTIME_PACKAGES = { 'carafe-bun': ['Bun', 'bun'], 'carafe-deno': ['Deno', 'deno'], 'carafe-workerd': ['workerd', 'workerd'] };

/**
 * bench/results/runtimes.md: the GET /hello rows of a wall-clock run of Carafe on Bun, Deno and
 * workerd (a partial run, kept as bench/results/runtimes.json), with node:http, its control and
 * Carafe on Node measured in the same rounds.
 * @param {any} summary a wall-clock summary
 */
export function runtimesMarkdown(summary) {
  const { machine, versions, method } = summary;
  const rows = summary.rows.filter((r) => r.scenario === 'hello');
  const lines = ['# Carafe on Bun, Deno and workerd: GET /hello, wall clock', ''];
  lines.push(
    `Run on ${summary.date}${method.quick ? ' (quick run: development only, too short to quote)' : ''}, ` +
      `${method.rounds} rounds of ${method.duration_s} s per server, with \`npm run bench -- --only ${rows
        .filter((r) => r.server !== 'node')
        .map((r) => r.server)
        .join(',')} --scenarios hello\` (node:http is always included). ` +
      "Carafe serves the bench's app (bench/servers/carafe-app.mjs) through the gateway's fetch binding (`toFetchHandler`) " +
      'on each runtime, as in the README\'s "Runs on" section; Carafe (in-process) is the same app on Node\'s `node:http` binding.',
    '',
    `- **Machine:** ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.os} (${machine.arch}): a shared VM, ` +
      'whose host takes CPU away at times (steal time) and slows it down at others.',
    `- **Versions:** ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `- **Method:** ${method.text}`,
    '',
    '| Server | req/s | p50 ms | p99 ms | ratio to node:http | CPU µs/req | CPU ratio | rounds |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const row of rows) {
    const label = summary.servers[row.server] ?? row.server;
    const ratio = row.rps === null ? (row.note ?? '—') : `${fmt(row.ratio, 3)}${row.note ? ` ⚠ ${row.note}` : ''}`;
    lines.push(
      `| ${label} | ${fmtInt(row.rps)} | ${fmt(row.p50_ms, 2)} | ${fmt(row.p99_ms, 2)} | ${ratio} | ${fmt(row.cpu_us, 1)} | ${fmt(row.cpu_ratio, 3)} | ${row.round_count ?? '—'} |`,
    );
  }
  lines.push('');
  const control = controlSummary(summary);
  lines.push(
    control ?? '**Control.** Not run: without node:http measured against itself there is no telling how much of a difference is noise.',
    '',
  );
  return lines.join('\n');
}

/**
 * The README's sentence on the runtime rows (in the Performance section, after the wall-clock
 * part), rendered from the same summary as bench/results/runtimes.md.
 * @param {any} summary a wall-clock summary
 */
export function runtimesReadmeText(summary) {
  const ratio = (server) => summary.rows.find((r) => r.scenario === 'hello' && r.server === server)?.ratio ?? null;
  const runtimes = RUNTIME_SERVERS.map((id) => {
    const [name, pkg] = RUNTIME_PACKAGES[id];
    return `${fmt(ratio(id), 2)} on ${name} ${summary.versions[pkg] ?? ''}`.trim();
  });
  return (
    `**Other runtimes.** Carafe on Bun, Deno and workerd (the same app through \`toFetchHandler\`) is measured on GET /hello only, ` +
    `in a separate wall-clock run (${summary.date.slice(0, 10)}, ${summary.method.rounds} rounds): ` +
    `${runtimes.slice(0, -1).join(', ')} and ${runtimes.at(-1)} of node:http's requests/s, against ${fmt(ratio('carafe'), 2)} for Carafe on Node ` +
    `in the same rounds; on this noisy shared 2-core VM the node:http control came out at ${fmt(ratio('node-control'), 2)} in that run, ` +
    'so read differences smaller than its distance from 1.00 as noise. Table: [bench/results/runtimes.md](bench/results/runtimes.md).'
  );
}

/**
 * Writes a wall-clock run: the raw report (every round) to `bench/results/raw/<name>.json`,
 * its summary to `bench/results/<name>.json`, and `<name>.{md,svg}` rendered from the
 * summary; returns the Markdown. A complete run is written as `latest` (what the README
 * quotes), anything less as `partial`.
 * @param {any} raw @param {string} [name] @param {{writeRawCopy?: boolean}} [options] `writeRawCopy` false when `raw` was read from there
 */
export function writeReport(raw, name = 'latest', options = {}) {
  raw.targets = evaluateTargets(raw);
  const { summary, md } = writeSummary(raw, name, summarizeWallclock, (s) => wallclockMarkdown(s, name), options);
  writeFileSync(join(RESULTS_DIR, `${name}.svg`), svgChart(summary));
  return md;
}
