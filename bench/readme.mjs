// The root README's Performance section is rendered from bench/results/latest.json, so that
// every number it quotes comes from one complete `npm run bench` (test/bench-readme.test.ts
// checks that they agree). `node bench/readme.mjs` re-renders it from the saved results.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, readmeSection } from './report.mjs';

export const README = join(fileURLToPath(new URL('..', import.meta.url)), 'README.md');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** The README text between the bench markers. */
export function quotedSection(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return readme.slice(start + START.length, end).trim();
}

/** Replaces the README's Performance section with one rendered from `report`. */
export function updateReadme(report) {
  const readme = readFileSync(README, 'utf8');
  quotedSection(readme); // throws when the markers are missing
  const start = readme.indexOf(START) + START.length;
  const end = readme.indexOf(END);
  writeFileSync(README, `${readme.slice(0, start)}\n${readmeSection(report).trim()}\n${readme.slice(end)}`);
}

export function latestReport() {
  return JSON.parse(readFileSync(join(RESULTS_DIR, 'latest.json'), 'utf8'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) updateReadme(latestReport());
