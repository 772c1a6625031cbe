// Every performance claim in the README comes from a bench run: each part of the Performance
// section must be exactly what the committed summary of the latest complete run renders to,
// and so must the committed tables (bench/results/latest.{md,svg}, instructions.md, costs.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { README, committedSummary, quotedSection } from '../bench/readme.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { readmeSection, svgChart, wallclockMarkdown } from '../bench/report.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { INSTRUCTIONS_FORMAT, instructionsMarkdown, instructionsReadmeSection } from '../bench/instructions-report.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { RESULTS_DIR, WALLCLOCK_FORMAT } from '../bench/summary.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { COSTS_FORMAT, costsMarkdown, costsReadmeSection } from '../bench/costs-report.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { COSTS_LINEUP } from '../bench/costs.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { LINEUP } from '../bench/lineup.mjs';

const committed = (file: string) => readFileSync(join(RESULTS_DIR, file), 'utf8');

describe('README performance section: wall clock', () => {
  it('is the rendering of the latest complete wall-clock run', () => {
    const summary = committedSummary('wallclock');
    expect(summary.format).toBe(WALLCLOCK_FORMAT);
    expect(summary.method.quick).toBe(false);
    expect(quotedSection(readFileSync(README, 'utf8'), 'wallclock')).toBe(readmeSection(summary).trim());
  });

  it('quotes every scenario and every server of that run', () => {
    const summary = committedSummary('wallclock');
    const section: string = readmeSection(summary);
    for (const label of Object.values(summary.scenarios) as string[]) expect(section).toContain(`| ${label} |`);
    expect(summary.rows.length).toBe(Object.keys(summary.scenarios).length * Object.keys(summary.servers).length);
    expect(summary.targets.length).toBeGreaterThanOrEqual(6);
  });

  it('commits a summary, not every round, and the tables rendered from it', () => {
    const summary = committedSummary('wallclock');
    for (const row of summary.rows) expect(row).not.toHaveProperty('rounds');
    expect(committed('latest.md')).toBe(wallclockMarkdown(summary, 'latest'));
    expect(committed('latest.svg')).toBe(svgChart(summary));
  });
});

describe('README performance section: instructions per request', () => {
  it('is the rendering of the latest complete instruction run', () => {
    const summary = committedSummary('instructions');
    expect(summary.format).toBe(INSTRUCTIONS_FORMAT);
    expect(summary.method.quick).toBe(false);
    expect(summary.method.repeats).toBeGreaterThanOrEqual(3);
    expect(quotedSection(readFileSync(README, 'utf8'), 'instructions')).toBe(instructionsReadmeSection(summary).trim());
    expect(committed('instructions.md')).toBe(instructionsMarkdown(summary));
  });

  it('has a row for every scenario and every server the meter runs', () => {
    const summary = committedSummary('instructions');
    const servers = LINEUP.filter((s: { instructions: boolean }) => s.instructions).map((s: { id: string }) => s.id);
    expect(Object.keys(summary.servers)).toEqual(servers);
    for (const scenario of Object.keys(summary.scenarios)) {
      for (const server of servers) {
        expect(
          summary.rows.find((r: { scenario: string; server: string }) => r.scenario === scenario && r.server === server),
          `${scenario} ${server}`,
        ).toBeDefined();
      }
    }
  });
});

describe('README performance section: costs', () => {
  it('is the rendering of the latest complete costs run', () => {
    const summary = committedSummary('costs');
    expect(summary.format).toBe(COSTS_FORMAT);
    expect(summary.method.quick).toBe(false);
    expect(quotedSection(readFileSync(README, 'utf8'), 'costs')).toBe(costsReadmeSection(summary).trim());
    expect(committed('costs.md')).toBe(costsMarkdown(summary));
  });

  it('has a row for every server the meter runs, measured or saying why not', () => {
    const summary = committedSummary('costs');
    const servers = COSTS_LINEUP.map((s: { id: string }) => s.id);
    expect(Object.keys(summary.servers)).toEqual(servers);
    expect(summary.rows.map((r: { server: string }) => r.server)).toEqual(servers);
    for (const row of summary.rows) {
      if (row.note === undefined) {
        expect(row.cold_start_ms, row.server).toBeGreaterThan(0);
        expect(row.rss_mib, row.server).toBeGreaterThan(0);
        expect(row.p99_ms, row.server).toBeGreaterThanOrEqual(row.p50_ms);
      } else expect(row.note, row.server).not.toBe('');
    }
  });
});
