/**
 * Runs the examples of packages/middleware/README.md marked `<!-- test:readme-middleware -->`, as
 * written: each ```ts block is written into a scratch directory inside the package (so the packages
 * it imports resolve) and imported; its `node:assert` checks must hold.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const blocks = [...readme.matchAll(/<!-- test:readme-middleware -->\n```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = fileURLToPath(new URL(`../.readme-middleware-${process.pid}/`, import.meta.url));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packages/middleware/README.md examples', () => {
  it('has an example for each piece', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7);
  });

  blocks.forEach((code, index) => {
    const first = code.split('\n').find((line) => line.startsWith('app.use') || line.startsWith('app.post')) ?? '';
    it(`runs example ${index + 1}: ${first.slice(0, 70)}`, async () => {
      mkdirSync(dir, { recursive: true });
      const file = `${dir}example-${index + 1}.ts`;
      writeFileSync(file, code);
      await import(/* @vite-ignore */ file);
    });
  });
});
