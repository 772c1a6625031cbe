// @ts-check
// Turns an instruction-meter run into its summary (bench/results/instructions.json: per
// scenario and server the median instructions per request over the repeats, the ratio to
// node:http, the spread, the collections in the window), the Markdown table
// (instructions.md) and the README's part. Pure functions but for writeInstructionsReport.
import { README_LABELS } from './lineup.mjs';
import { median } from './stats.mjs';
import { machineLines, writeSummary } from './summary.mjs';

export const INSTRUCTIONS_FORMAT = 'carafe-bench/instructions-summary@1';

/**
 * @typedef {import('./instructions.mjs').Measurement} Measurement
 * @typedef {object} InstructionRow
 * @property {string} scenario
 * @property {string} server
 * @property {number | null} ir_per_request median over the repeats
 * @property {number | null} ratio node:http's median instructions per request over this server's: higher is better
 * @property {number | null} spread (largest − smallest) ÷ median of the repeats
 * @property {number[]} repeats instructions per request of each repeat that counted, in repeat order
 * @property {number | null} requests median requests per counted window
 * @property {number | null} gc_minor median scavenges per window
 * @property {number | null} gc_major median mark-compacts per window
 * @property {number | null} gc_share median share of the window's instructions in the collections' pauses
 * @property {number | null} jit_share median share of the window's instructions in V8's compilers (not in ir_per_request)
 * @property {string} [note] why repeats are missing or suspect
 */

const fmt = (/** @type {number | null | undefined} */ value, /** @type {number} */ digits) =>
  value === null || value === undefined ? '—' : value.toFixed(digits);
const fmtInt = (/** @type {number | null | undefined} */ value) =>
  value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en-US');
const pct = (/** @type {number | null | undefined} */ value, /** @type {number} */ digits) =>
  value === null || value === undefined ? '—' : `${(100 * value).toFixed(digits)} %`;

/**
 * The summary rows of a run's measurements: one per scenario and server, in the order given.
 * A measurement with a note (failed, or a connection reopened inside the window) does not
 * count; its note is kept.
 * @param {Measurement[]} measurements @param {string[]} scenarios @param {string[]} servers
 * @returns {InstructionRow[]}
 */
export function instructionRows(measurements, scenarios, servers) {
  /** @type {InstructionRow[]} */
  const rows = [];
  for (const scenario of scenarios) {
    for (const server of servers) {
      const all = measurements.filter((m) => m.scenario === scenario && m.server === server).sort((a, b) => a.repeat - b.repeat);
      if (all.length === 0) continue;
      const good = all.filter((m) => m.note === undefined && m.ir_per_request !== null);
      const perRequest = good.map((m) => /** @type {number} */ (m.ir_per_request));
      const mid = median(perRequest);
      /** @type {InstructionRow} */
      const row = {
        scenario,
        server,
        ir_per_request: round(mid, 0),
        ratio: null,
        spread: mid === null || perRequest.length < 2 ? null : round((Math.max(...perRequest) - Math.min(...perRequest)) / mid, 5),
        repeats: perRequest.map((v) => Math.round(v)),
        requests: median(good.map((m) => m.requests)),
        gc_minor: median(good.map((m) => m.gc_minor)),
        gc_major: median(good.map((m) => m.gc_major)),
        gc_share: round(median(good.map((m) => (m.gc_ir !== null && m.ir ? m.gc_ir / m.ir : null))), 4),
        jit_share: round(median(good.map((m) => (m.jit_ir !== null && m.ir ? m.jit_ir / m.ir : null))), 4),
      };
      const notes = [...new Set(all.filter((m) => m.note !== undefined).map((m) => m.note))];
      if (notes.length) row.note = `${all.length - good.length} of ${all.length} repeats left out: ${notes.join('; ')}`;
      rows.push(row);
    }
  }
  for (const row of rows) {
    const base = rows.find((r) => r.scenario === row.scenario && r.server === 'node')?.ir_per_request ?? null;
    row.ratio = base === null || row.ir_per_request === null ? null : round(base / row.ir_per_request, 4);
  }
  return rows;
}

/**
 * The summary of a raw instruction run (`{date, machine, versions, method, servers,
 * scenarios, measurements}`), targets judged.
 * @param {any} raw
 */
export function summarizeInstructions(raw) {
  const rows = instructionRows(raw.measurements, Object.keys(raw.scenarios), Object.keys(raw.servers));
  return {
    format: INSTRUCTIONS_FORMAT,
    date: raw.date,
    machine: raw.machine,
    versions: raw.versions,
    method: raw.method,
    servers: raw.servers,
    scenarios: raw.scenarios,
    rows,
    targets: instructionTargets(rows, raw.scenarios),
  };
}

/**
 * The performance issue's targets, judged on instruction ratios in one run:
 * - every scenario: Carafe ≥ Fastify + 0.03, or ≥ max(Fastify, 1.00) where Fastify is already
 *   above 0.97 of node:http;
 * - GET /hello: Carafe ≥ 0.95 of node:http;
 * - `carafe serve --workers 1` within 0.02 of in-process, every scenario;
 * - 1000 routes: Carafe ≥ 0.97 of its own 10-route figure (its 10-route instructions per request
 *   over its 1000-route ones: 1 when the bigger table costs nothing).
 * A target with a figure missing is `n/a`.
 * @param {InstructionRow[]} rows @param {Record<string, string>} scenarios
 */
export function instructionTargets(rows, scenarios) {
  const row = (/** @type {string} */ scenario, /** @type {string} */ server) =>
    rows.find((r) => r.scenario === scenario && r.server === server);
  const ratio = (/** @type {string} */ scenario, /** @type {string} */ server) => row(scenario, server)?.ratio ?? null;
  const judge = (/** @type {boolean | null} */ ok) => (ok === null ? 'n/a' : ok ? 'pass' : 'FAIL');
  const targets = [];
  for (const [scenario, label] of Object.entries(scenarios)) {
    const carafe = ratio(scenario, 'carafe');
    const fastify = ratio(scenario, 'fastify');
    const needed = fastify === null ? null : fastify > 0.97 ? Math.max(fastify, 1) : fastify + 0.03;
    targets.push({
      target: `${label}: Carafe ≥ Fastify + 0.03 (≥ max(Fastify, 1.00) where Fastify > 0.97)`,
      measured: `Carafe ${fmt(carafe, 3)}, Fastify ${fmt(fastify, 3)}, needed ${fmt(needed, 3)}`,
      status: judge(carafe === null || needed === null ? null : carafe >= needed),
    });
  }
  const hello = ratio('hello', 'carafe');
  targets.push({
    target: 'GET /hello: Carafe ≥ 0.95 of node:http',
    measured: `Carafe ${fmt(hello, 3)}`,
    status: judge(hello === null ? null : hello >= 0.95),
  });
  const gaps = Object.keys(scenarios)
    .map((scenario) => {
      const inProcess = ratio(scenario, 'carafe');
      const served = ratio(scenario, 'carafe-serve');
      return inProcess === null || served === null ? null : { scenario, gap: inProcess - served };
    })
    .filter((gap) => gap !== null);
  targets.push({
    target: '`carafe serve --workers 1` within 0.02 of in-process (every scenario)',
    measured: gaps.length ? gaps.map((g) => `${g.scenario} ${g.gap >= 0 ? '−' : '+'}${fmt(Math.abs(g.gap), 3)}`).join(', ') : '—',
    status: judge(gaps.length === 0 ? null : gaps.every((g) => g.gap <= 0.02)),
  });
  const ten = row('routes-10', 'carafe')?.ir_per_request ?? null;
  const thousand = row('routes-1000', 'carafe')?.ir_per_request ?? null;
  const scale = ten === null || thousand === null ? null : ten / thousand;
  targets.push({
    target: '1000 routes: Carafe ≥ 0.97 of its own 10-route figure',
    measured: `10-route over 1000-route instructions per request ${fmt(scale, 3)}`,
    status: judge(scale === null ? null : scale >= 0.97),
  });
  return targets;
}

/** @param {any} summary */
function methodLine(summary) {
  const { method } = summary;
  return method.text;
}

/** The Markdown report of a summary. @param {any} summary */
export function instructionsMarkdown(summary) {
  const { method } = summary;
  const lines = ['# Carafe instruction counts', ''];
  lines.push(`${method.quick ? '**Quick run (development only: too few repeats to quote).** ' : ''}Run on ${summary.date}.`, '');
  lines.push(
    ...machineLines(summary),
    `- **Method:** ${methodLine(summary)}`,
    '',
    '## Instructions per request',
    '',
    '| Scenario | Server | instructions/request | ratio to node:http | spread | windows | requests per window | GCs per window (minor + major) | in GC pauses | compiling (left out) |',
    '|---|---|--:|--:|--:|---|--:|--:|--:|--:|',
  );
  for (const row of summary.rows) {
    const label = summary.servers[row.server] ?? row.server;
    const flag = row.note ? ` ⚠ ${row.note}` : '';
    lines.push(
      `| ${summary.scenarios[row.scenario]} | ${label} | ${fmtInt(row.ir_per_request)} | ${fmt(row.ratio, 3)}${flag} | ${pct(row.spread, 2)} | ` +
        `${row.repeats.map((/** @type {number} */ v) => fmtInt(v)).join(', ') || '—'} | ${fmtInt(row.requests)} | ${row.gc_minor === null ? '—' : `${row.gc_minor} + ${row.gc_major}`} | ${pct(row.gc_share, 1)} | ${pct(row.jit_share, 1)} |`,
    );
  }
  lines.push('', '## Targets, on instruction ratios', '');
  lines.push('| Target | Measured | |', '|---|---|---|');
  for (const t of summary.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.status} |`);
  lines.push('');
  return lines.join('\n');
}

/** The README's instruction part, rendered from a complete run's summary. @param {any} summary */
export function instructionsReadmeSection(summary) {
  const { versions, method } = summary;
  const servers = Object.keys(summary.servers);
  const spreads = summary.rows
    .map((/** @type {InstructionRow} */ r) => r.spread)
    .filter((/** @type {unknown} */ v) => typeof v === 'number');
  const lines = [
    '**Instructions per request**, the deciding measure: the instructions a server process executes per',
    "request, counted by valgrind's callgrind (`npm run bench -- --meter instructions`), a figure that does",
    "not depend on what else the machine is doing. The ratio is node:http's count over the server's, so",
    `higher is better, as in the wall-clock tables below. Node ${versions.node} (\`${method.node_flags.join(' ')}\`),`,
    `${summary.date.slice(0, 10)}: one process per server and scenario, warmed up with ${fmtInt(method.warmup_requests)} requests, then ${method.repeats} windows`,
    `of ${windowText(method.window)} counted one after the other, V8's compiling left out;`,
    `a row's windows differ by at most ${pct(spreads.length ? Math.max(...spreads) : null, 1)} (median ${pct(median(spreads), 2)}). Full table: [bench/results/instructions.md](bench/results/instructions.md);`,
    'method and repeatability: [bench/README.md](bench/README.md#the-instruction-meter).',
    '',
    ...readmeTable(summary, servers, (row) => fmt(row?.ratio, 2)),
    '',
    'Thousands of instructions per request:',
    '',
    ...readmeTable(summary, servers, (row) => (row?.ir_per_request == null ? '—' : (row.ir_per_request / 1000).toFixed(1))),
    '',
    '| target, on instruction ratios | measured | |',
    '|---|---|---|',
    ...summary.targets.map((/** @type {any} */ t) => `| ${t.target} | ${t.measured} | ${t.status} |`),
    '',
  ];
  return lines.join('\n');
}

/** @param {{requests: number | null, instructions: number, min: number, max: number}} w */
function windowText(w) {
  return w.requests === null
    ? `about ${fmtInt(w.instructions / 1e6)} million instructions' worth of requests (${fmtInt(w.min)}–${fmtInt(w.max)})`
    : `${fmtInt(w.requests)} requests`;
}

/**
 * @param {any} summary @param {string[]} servers
 * @param {(row: InstructionRow | undefined) => string} cell
 */
function readmeTable(summary, servers, cell) {
  const lines = [
    `| scenario | ${servers.map((id) => README_LABELS[id] ?? id).join(' | ')} |`,
    `|---|${servers.map(() => '--:').join('|')}|`,
  ];
  for (const [id, label] of Object.entries(summary.scenarios)) {
    lines.push(
      `| ${label} | ${servers.map((server) => cell(summary.rows.find((/** @type {InstructionRow} */ r) => r.scenario === id && r.server === server))).join(' | ')} |`,
    );
  }
  return lines;
}

/**
 * Writes an instruction run: raw measurements to `bench/results/raw/<name>.json`, the
 * summary to `bench/results/<name>.json` and its table to `<name>.md`; returns the summary
 * and the Markdown. A complete run is `instructions`, anything less `partial.instructions`.
 * @param {any} raw @param {string} name @param {{writeRawCopy?: boolean}} [options] `writeRawCopy` false when `raw` was read from there
 */
export function writeInstructionsReport(raw, name, options = {}) {
  return writeSummary(raw, name, summarizeInstructions, instructionsMarkdown, options);
}

/** @param {number | null} value @param {number} digits */
function round(value, digits) {
  return value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits;
}
