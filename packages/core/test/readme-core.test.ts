/**
 * Runs the examples of packages/core/README.md marked `<!-- test:readme-core -->`, as written: each
 * such ```ts block is written into a scratch directory inside the package (so `@carafe/core` and
 * the packages it imports resolve) and imported; its `node:assert` checks must hold. Every feature
 * the README documents with such a block is thereby run.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const blocks = [...readme.matchAll(/<!-- test:readme-core -->\n```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = fileURLToPath(new URL(`../.readme-core-${process.pid}/`, import.meta.url));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packages/core/README.md examples', () => {
  it('has the marked examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  blocks.forEach((code, index) => {
    const first = code.split('\n').find((line) => line.startsWith('app.')) ?? '';
    it(`runs example ${index + 1}: ${first.slice(0, 70)}`, async () => {
      mkdirSync(dir, { recursive: true });
      const file = `${dir}example-${index + 1}.ts`;
      writeFileSync(file, code);
      await import(/* @vite-ignore */ file);
    });
  });
});
