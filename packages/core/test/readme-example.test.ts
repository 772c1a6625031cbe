/**
 * Runs the quick-start example of the root README exactly as written: its `app.ts` and `app.test.ts`
 * blocks are written into a scratch directory inside the repository (so `@carafe/*` resolve) and the
 * example's own tests are imported here, so they register and run as part of this file. The gateway's
 * `toNodeListener` is wrapped so the example app also runs under the TSGI compliance validator.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, vi } from 'vitest';

vi.mock('@carafe/gateway', async (importOriginal) => {
  const gateway = await importOriginal<typeof import('@carafe/gateway')>();
  return {
    ...gateway,
    toNodeListener: (app: Parameters<typeof gateway.toNodeListener>[0], options?: Parameters<typeof gateway.toNodeListener>[1]) =>
      gateway.toNodeListener(gateway.validator(app), options),
  };
});

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const section = /<!-- example:quickstart:start -->([\s\S]*?)<!-- example:quickstart:end -->/.exec(readme)?.[1];
if (!section) throw new Error('README.md has no <!-- example:quickstart:start/end --> section');
const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
if (blocks.length !== 2) throw new Error(`the quick-start section must hold 2 ts blocks (app.ts, app.test.ts), found ${blocks.length}`);

const dir = fileURLToPath(new URL(`../.readme-example-${process.pid}/`, import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}app.ts`, blocks[0]!);
writeFileSync(`${dir}app.test.ts`, blocks[1]!);
const cleanUp = () => rmSync(dir, { recursive: true, force: true });
afterAll(cleanUp);

try {
  await import(/* @vite-ignore */ `${dir}app.test.ts`);
} catch (error) {
  cleanUp(); // afterAll does not run when collecting the file fails
  throw error;
}
