// @ts-check
// Turns a costs-meter run into its summary (bench/results/costs.json: per server the median
// cold start and its range, the resident memory after the warm-up, the open-loop latencies
// and failures), the Markdown table (costs.md) and the README's part. Pure functions but for
// writeCostsReport.
import { README_LABELS } from './lineup.mjs';
import { median } from './stats.mjs';
import { machineLines, writeSummary } from './summary.mjs';

export const COSTS_FORMAT = 'carafe-bench/costs-summary@1';

/**
 * @typedef {import('./costs.mjs').CostMeasurement} CostMeasurement
 * @typedef {object} CostRow
 * @property {string} server
 * @property {number | null} cold_start_ms median of the starts
 * @property {number | null} cold_start_min_ms
 * @property {number | null} cold_start_max_ms
 * @property {number} starts how many starts succeeded
 * @property {number | null} rss_mib the serving process's resident memory after the warm-up
 * @property {number | null} parent_rss_mib the arbiter's or master's, for a server that forks its worker
 * @property {number | null} p50_ms open-loop latency, from the scheduled send time
 * @property {number | null} p99_ms
 * @property {number | null} max_ms
 * @property {number | null} requests requests scheduled in the open-loop run
 * @property {number | null} failed
 * @property {number | null} unanswered
 * @property {number | null} other_cpu share of the machine's CPU time other processes used during the latency run
 * @property {number | null} steal share the host stole during it
 * @property {string} [note] why something was not measured
 */

/** @param {number | null | undefined} value @param {number} digits */
const fmt = (value, digits) => (value === null || value === undefined ? '—' : value.toFixed(digits));
/** @param {number | null | undefined} value */
const fmtInt = (value) => (value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en-US'));
/** @param {number | null} kib */
const mib = (kib) => (kib === null ? null : Math.round((kib / 1024) * 10) / 10);

/**
 * The summary rows, one per server measured, in the order of `servers`.
 * @param {CostMeasurement[]} measurements @param {string[]} servers
 * @returns {CostRow[]}
 */
export function costRows(measurements, servers) {
  /** @type {CostRow[]} */
  const rows = [];
  for (const server of servers) {
    const m = measurements.find((x) => x.server === server);
    if (m === undefined) continue;
    const starts = m.starts_ms;
    const o = m.open_loop;
    /** @type {CostRow} */
    const row = {
      server,
      cold_start_ms: round(median(starts), 1),
      cold_start_min_ms: starts.length ? Math.min(...starts) : null,
      cold_start_max_ms: starts.length ? Math.max(...starts) : null,
      starts: starts.length,
      rss_mib: mib(m.rss_kib),
      parent_rss_mib: mib(m.parent_rss_kib),
      p50_ms: o?.p50_ms ?? null,
      p99_ms: o?.p99_ms ?? null,
      max_ms: o?.max_ms ?? null,
      requests: o?.scheduled ?? null,
      failed: o?.failed ?? null,
      unanswered: o?.unanswered ?? null,
      other_cpu: m.disturbance?.other ?? null,
      steal: m.disturbance?.steal ?? null,
    };
    if (m.note !== undefined) row.note = m.note;
    rows.push(row);
  }
  return rows;
}

/** The summary of a raw costs run (`{date, machine, versions, method, servers, measurements}`). @param {any} raw */
export function summarizeCosts(raw) {
  return {
    format: COSTS_FORMAT,
    date: raw.date,
    machine: raw.machine,
    versions: raw.versions,
    method: raw.method,
    servers: raw.servers,
    rows: costRows(raw.measurements, Object.keys(raw.servers)),
  };
}

/** @param {CostRow} row */
const coldCell = (row) =>
  row.cold_start_ms === null ? '—' : `${fmtInt(row.cold_start_ms)} (${fmtInt(row.cold_start_min_ms)}–${fmtInt(row.cold_start_max_ms)})`;
/** @param {number | null} value */
const pct = (value) => (value === null ? '—' : `${(100 * value).toFixed(0)} %`);
/** @param {CostRow} row */
const failureCell = (row) => (row.requests === null ? '—' : `${fmtInt(row.failed)} / ${fmtInt(row.unanswered)}`);

/** The Markdown report of a summary. @param {any} summary */
export function costsMarkdown(summary) {
  const { method } = summary;
  const lines = ['# Carafe costs: cold start, memory, latency at a fixed rate', ''];
  lines.push(
    `${method.quick ? '**Quick run (development only: too few starts and too short to quote).** ' : ''}Run on ${summary.date}.`,
    '',
  );
  lines.push(
    ...machineLines(summary),
    `- **Method:** ${method.text}`,
    '',
    "The last column is the share of the machine's CPU time (both cores) that other processes used, and that the host stole, during the latency run: on a quiet machine both are near 0 %.",
    '',
    `| Server | cold start ms, median (min–max) | RSS MiB after warm-up | arbiter / master RSS MiB | p50 ms | p99 ms | max ms | failed / unanswered (of ${fmtInt(summary.rows.find((/** @type {CostRow} */ r) => r.requests !== null)?.requests ?? null)}) | other CPU / steal during it |`,
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const row of summary.rows) {
    const label = summary.servers[row.server] ?? row.server;
    const flag = row.note ? ` ⚠ ${row.note}` : '';
    lines.push(
      `| ${label}${flag} | ${coldCell(row)} | ${fmt(row.rss_mib, 1)} | ${fmt(row.parent_rss_mib, 1)} | ${fmt(row.p50_ms, 2)} | ${fmt(row.p99_ms, 2)} | ${fmt(row.max_ms, 2)} | ${failureCell(row)} | ${row.other_cpu === null ? '—' : `${pct(row.other_cpu)} / ${pct(row.steal)}`} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** The README's costs part, rendered from a complete run's summary. @param {any} summary */
export function costsReadmeSection(summary) {
  const { versions, method } = summary;
  const lines = [
    `**Costs beyond throughput** (\`npm run bench -- --meter costs\`, Node ${versions.node}, ${summary.date.slice(0, 10)}): cold start is the`,
    `median of ${method.starts} times from spawning the server to its first 200 on GET /hello; RSS is the serving process's`,
    `(carafe serve's and Gunicorn's worker) after ${fmtInt(method.warmup_requests)} requests; latency is measured open-loop from each request's`,
    `scheduled send time, GET /users/:id at ${fmtInt(method.rate)} requests/s for ${method.duration_s} s over ${method.connections} keep-alive connections.`,
    'Full table: [bench/results/costs.md](bench/results/costs.md); method: [bench/README.md](bench/README.md#the-costs-meter).',
    '',
    '| server | cold start ms | RSS MiB | p50 ms | p99 ms | max ms | failed |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of summary.rows) {
    const label = README_LABELS[row.server] ?? row.server;
    const failed = row.requests === null ? (row.note ? 'not measured' : '—') : fmtInt((row.failed ?? 0) + (row.unanswered ?? 0));
    lines.push(
      `| ${label} | ${fmtInt(row.cold_start_ms)} | ${fmt(row.rss_mib, 1)} | ${fmt(row.p50_ms, 2)} | ${fmt(row.p99_ms, 2)} | ${fmt(row.max_ms, 2)} | ${failed} |`,
    );
  }
  // A latency run that shared the machine is said so where the figures are quoted.
  const disturbed = summary.rows.filter((/** @type {CostRow} */ r) => (r.other_cpu ?? 0) > 0.05 || (r.steal ?? 0) > 0.05);
  if (disturbed.length) {
    const worst = Math.max(...disturbed.map((/** @type {CostRow} */ r) => Math.max(r.other_cpu ?? 0, r.steal ?? 0)));
    lines.push(
      '',
      `Other processes (or the host) took up to ${pct(worst)} of the machine's CPU during the latency runs of ` +
        `${disturbed.map((/** @type {CostRow} */ r) => README_LABELS[r.server] ?? r.server).join(', ')} (last column of costs.md): ` +
        "their p99 and max are not a quiet machine's.",
    );
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Writes a costs run: raw measurements to `bench/results/raw/<name>.json`, the summary to
 * `bench/results/<name>.json` and its table to `<name>.md`; returns the summary and the
 * Markdown. A complete run is `costs`, anything less `partial.costs`.
 * @param {any} raw @param {string} name @param {{writeRawCopy?: boolean}} [options] `writeRawCopy` false when `raw` was read from there
 */
export function writeCostsReport(raw, name, options = {}) {
  return writeSummary(raw, name, summarizeCosts, costsMarkdown, options);
}

/** @param {number | null} value @param {number} digits */
function round(value, digits) {
  return value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits;
}
