// Every performance claim in the README comes from a bench run: the Performance section
// must be exactly what bench/results/latest.json renders to.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { README, latestReport, quotedSection } from '../bench/readme.mjs';
// @ts-expect-error -- plain ES module of the bench tool, without type declarations
import { readmeSection } from '../bench/report.mjs';

describe('README performance section', () => {
  it('is the rendering of the latest complete bench run', () => {
    const report = latestReport();
    expect(report.method.quick).toBe(false);
    expect(quotedSection(readFileSync(README, 'utf8'))).toBe(readmeSection(report).trim());
  });

  it('quotes every scenario and every server of that run', () => {
    const report = latestReport();
    const section: string = readmeSection(report);
    for (const label of Object.values(report.scenarios) as string[]) expect(section).toContain(`| ${label} |`);
    expect(report.rows.length).toBe(Object.keys(report.scenarios).length * Object.keys(report.servers).length);
    expect(report.targets.length).toBeGreaterThanOrEqual(6);
  });
});
