import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
const project = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url));

describe('types', () => {
  it('types route params, schema values, handler return types and urlFor names (fixtures compiled with tsc; each @ts-expect-error must fail)', async () => {
    const result = await run(process.execPath, [tsc, '-p', project], { timeout: 120_000 }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? String(error) }),
    );
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
