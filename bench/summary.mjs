// @ts-check
// The committed results are summaries: per scenario and server the medians, ratios and
// spreads, the run's metadata and its judged targets — all that latest.md, latest.svg and
// the README's Performance section are rendered from. A run's full per-round data goes to
// bench/results/raw/ (git-ignored), from which `node bench/readme.mjs --from-raw` rebuilds
// the summaries and everything rendered from them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './lineup.mjs';
import { median, quantile } from './stats.mjs';

export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const RAW_DIR = join(RESULTS_DIR, 'raw');

/** Marks a wall-clock summary, so that a raw report is never mistaken for one. */
export const WALLCLOCK_FORMAT = 'carafe-bench/wallclock-summary@1';

/**
 * @typedef {{round: number, ratio: number | null, cpu_ratio: number | null} & Record<string, unknown>} RawRound
 * @typedef {{scenario: string, server: string, rps: number | null, p50_ms: number | null, p99_ms: number | null,
 *   ratio: number | null, cpu_us: number | null, cpu_ratio: number | null, rounds: RawRound[], note?: string}} RawRow
 * @typedef {{scenario: string, server: string, rps: number | null, p50_ms: number | null, p99_ms: number | null,
 *   ratio: number | null, cpu_us: number | null, cpu_ratio: number | null, round_count: number,
 *   ratio_iqr: number | null, cpu_ratio_iqr: number | null, note?: string}} SummaryRow
 */

/**
 * Interquartile range of a row's per-round `key` ratios, or null with fewer than 4 of them.
 * @param {RawRow} row @param {'ratio' | 'cpu_ratio'} key
 */
export function roundIqr(row, key) {
  const values = row.rounds
    .map((r) => r[key])
    .filter((v) => typeof v === 'number')
    .sort((a, b) => a - b);
  return values.length >= 4 ? quantile(values, 0.75) - quantile(values, 0.25) : null;
}

/**
 * The summary of a raw wall-clock report (which must already carry its `targets`): every
 * row without its rounds, which it replaces by their number and the interquartile range of
 * their ratios.
 * @param {any} raw
 */
export function summarizeWallclock(raw) {
  if (!raw.targets) throw new Error('the raw report has no judged targets');
  /** @type {SummaryRow[]} */
  const rows = raw.rows.map((/** @type {RawRow} */ row) => {
    const { rounds, note, ...medians } = row;
    return {
      ...medians,
      round_count: rounds.length,
      ratio_iqr: roundTo(roundIqr(row, 'ratio'), 4),
      cpu_ratio_iqr: roundTo(roundIqr(row, 'cpu_ratio'), 4),
      ...(note !== undefined && { note }),
    };
  });
  return {
    format: WALLCLOCK_FORMAT,
    date: raw.date,
    machine: raw.machine,
    versions: raw.versions,
    method: raw.method,
    servers: raw.servers,
    scenarios: raw.scenarios,
    rows,
    router: raw.router,
    targets: raw.targets,
  };
}

/**
 * The median over the rows measured against node:http of the interquartile range of their
 * per-round `key` ratios (from a summary's `<key>_iqr`), or null.
 * @param {{rows: SummaryRow[]}} summary @param {'ratio' | 'cpu_ratio'} key
 */
export function roundSpread(summary, key) {
  return median(summary.rows.filter((row) => row.server !== 'node').map((row) => row[`${key}_iqr`]));
}

/** @param {number | null} value @param {number} digits */
function roundTo(value, digits) {
  return value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits;
}

/**
 * JSON that stays readable in a diff: indented, but every object or array that fits on a
 * line of `width` characters written on one.
 * @param {unknown} value @param {number} [width]
 */
export function formatJson(value, width = 250) {
  /** @param {unknown} v @param {string} indent @returns {string} */
  const format = (v, indent) => {
    const flat = JSON.stringify(v);
    if (flat === undefined || v === null || typeof v !== 'object' || indent.length + flat.length <= width) return flat;
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      return v.length === 0 ? '[]' : `[\n${v.map((item) => inner + format(item, inner)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v).filter(([, item]) => item !== undefined);
    return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${format(item, inner)}`).join(',\n')}\n${indent}}`;
  };
  return `${format(value, '')}\n`;
}

/** @param {string} name e.g. `latest` @param {unknown} raw */
export function writeRaw(name, raw) {
  mkdirSync(RAW_DIR, { recursive: true });
  const path = join(RAW_DIR, `${name}.json`);
  writeFileSync(path, formatJson(raw, 160));
  return path;
}

/**
 * Writes a run of any meter: the raw measurements to `bench/results/raw/<name>.json` (unless they
 * were read from there), the summary to `bench/results/<name>.json` and its Markdown to
 * `<name>.md`; returns both.
 * @param {any} raw @param {string} name
 * @param {(raw: any) => any} summarize @param {(summary: any) => string} render
 * @param {{writeRawCopy?: boolean}} [o]
 */
export function writeSummary(raw, name, summarize, render, { writeRawCopy = true } = {}) {
  if (writeRawCopy) writeRaw(name, raw);
  const summary = summarize(raw);
  const md = render(summary);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), formatJson(summary));
  writeFileSync(join(RESULTS_DIR, `${name}.md`), md);
  return { summary, md };
}

/**
 * The machine and versions lines every report's header has.
 * @param {{machine: any, versions: Record<string, string>}} summary
 */
export function machineLines({ machine, versions }) {
  return [
    `- **Machine:** ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.os} (${machine.arch})`,
    `- **Versions:** ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ];
}

/** @param {string} path */
export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
