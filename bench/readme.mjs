// @ts-check
// The root README's Performance section is rendered from the committed summaries of the
// latest complete runs — the instruction meter's from bench/results/instructions.json, the
// wall-clock one from bench/results/latest.json, the costs meter's from bench/results/costs.json —
// so that every number it quotes comes from a run (test/bench-readme.test.ts checks that they agree).
//   node bench/readme.mjs             re-renders every part from the committed summaries
//   node bench/readme.mjs --from-raw  first rebuilds the summaries and the files rendered from
//                                     them (latest.{json,md,svg}, instructions.{json,md}, costs.{json,md}) from
//                                     the raw results in bench/results/raw/ (git-ignored), e.g.
//                                     after a change to what a summary keeps or how it is rendered
//   node bench/readme.mjs --runtimes  only keeps the partial wall-clock run just made of Carafe on
//                                     Bun, Deno and workerd (bench/results/partial.json) as
//                                     bench/results/runtimes.json, and renders runtimes.md from it
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { costsReadmeSection, writeCostsReport } from './costs-report.mjs';
import { instructionsReadmeSection, writeInstructionsReport } from './instructions-report.mjs';
import { readmeSection, RUNTIME_SERVERS, runtimesMarkdown, writeReport } from './report.mjs';
import { RAW_DIR, RESULTS_DIR, readJson } from './summary.mjs';

export const README = join(fileURLToPath(new URL('..', import.meta.url)), 'README.md');

/** The README's rendered parts: marker name, summary file, renderer. */
export const SECTIONS = {
  wallclock: { marker: 'bench', file: 'latest.json', render: readmeSection },
  instructions: { marker: 'bench-instructions', file: 'instructions.json', render: instructionsReadmeSection },
  costs: { marker: 'bench-costs', file: 'costs.json', render: costsReadmeSection },
};

/** @param {keyof typeof SECTIONS} part */
function markers(part) {
  const { marker } = SECTIONS[part];
  return { start: `<!-- ${marker}:start -->`, end: `<!-- ${marker}:end -->` };
}

/**
 * The README text between one part's markers.
 * @param {string} readme @param {keyof typeof SECTIONS} [part]
 */
export function quotedSection(readme, part = 'wallclock') {
  const { start, end } = markers(part);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  return readme.slice(from + start.length, to).trim();
}

/**
 * Replaces the README's rendered parts with those rendered from the summaries given, or,
 * for a part not given, from the committed one (a part without a summary is left as it is).
 * @param {{wallclock?: any, instructions?: any, costs?: any}} [summaries]
 */
export function updateReadme(summaries = {}) {
  let readme = readFileSync(README, 'utf8');
  for (const part of /** @type {Array<keyof typeof SECTIONS>} */ (Object.keys(SECTIONS))) {
    const summary = summaries[part] ?? committedSummary(part);
    if (summary === null) continue;
    quotedSection(readme, part); // throws when the markers are missing
    const { start, end } = markers(part);
    const from = readme.indexOf(start) + start.length;
    const to = readme.indexOf(end);
    readme = `${readme.slice(0, from)}\n${SECTIONS[part].render(summary).trim()}\n${readme.slice(to)}`;
  }
  writeFileSync(README, readme);
}

/**
 * The committed summary of the latest complete run of one meter, or null when there is none.
 * @param {keyof typeof SECTIONS} part
 */
export function committedSummary(part) {
  const path = join(RESULTS_DIR, SECTIONS[part].file);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
}

/** The wall-clock run of Carafe on Bun, Deno and workerd (GET /hello), and its table, linked from the README. */
export const RUNTIMES = { json: join(RESULTS_DIR, 'runtimes.json'), md: join(RESULTS_DIR, 'runtimes.md') };

/**
 * Keeps a partial wall-clock summary (by default the run just made) as bench/results/runtimes.json,
 * once it is seen to hold a measured GET /hello row of each runtime, and renders runtimes.md.
 * @param {string} [from]
 */
export function keepRuntimesRun(from = join(RESULTS_DIR, 'partial.json')) {
  const summary = JSON.parse(readFileSync(from, 'utf8'));
  const missing = RUNTIME_SERVERS.filter(
    (id) => !summary.rows?.some((/** @type {any} */ r) => r.scenario === 'hello' && r.server === id && r.ratio !== null),
  );
  if (missing.length) throw new Error(`${from} has no measured GET /hello row of ${missing.join(', ')}`);
  writeFileSync(RUNTIMES.json, readFileSync(from, 'utf8'));
  writeRuntimesTable();
}

/** Renders bench/results/runtimes.md from runtimes.json, when there is one. */
export function writeRuntimesTable() {
  if (existsSync(RUNTIMES.json)) writeFileSync(RUNTIMES.md, runtimesMarkdown(JSON.parse(readFileSync(RUNTIMES.json, 'utf8'))));
}

/** Rebuilds each summary, and what is rendered from it, from its raw results where they exist; returns the ones rebuilt. */
export function rebuildFromRaw() {
  const rebuilt = [];
  const wallclock = join(RAW_DIR, 'latest.json');
  if (existsSync(wallclock)) {
    writeReport(readJson(wallclock), 'latest', { writeRawCopy: false });
    rebuilt.push('latest.{json,md,svg}');
  }
  const instructions = join(RAW_DIR, 'instructions.json');
  if (existsSync(instructions)) {
    writeInstructionsReport(readJson(instructions), 'instructions', { writeRawCopy: false });
    rebuilt.push('instructions.{json,md}');
  }
  const costs = join(RAW_DIR, 'costs.json');
  if (existsSync(costs)) {
    writeCostsReport(readJson(costs), 'costs', { writeRawCopy: false });
    rebuilt.push('costs.{json,md}');
  }
  return rebuilt;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--from-raw')) {
    const rebuilt = rebuildFromRaw();
    process.stderr.write(
      rebuilt.length
        ? `Rebuilt bench/results/${rebuilt.join(' and ')} from bench/results/raw/.\n`
        : 'Nothing in bench/results/raw/ to rebuild from.\n',
    );
  }
  if (process.argv.includes('--runtimes')) keepRuntimesRun();
  else {
    writeRuntimesTable();
    updateReadme();
  }
}
