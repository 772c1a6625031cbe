/**
 * The README's curl walkthrough, run for real: every `<!-- curl-test -->` block is executed in
 * order by one bash process (so variables like USER_ID carry over) against `carafe serve` on a
 * free port and a fresh database, and each output must match the answer the README shows.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../../../scripts/ferretdb.mjs';
import { startCarafe, type CarafeProcess } from '../../../test/setup/carafe.js';
import { AnswerChecker, examplesOf } from './readme-blocks.js';
import { mongodbUri, uniqueDbName } from './support.js';

const README = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8');
const DOCUMENTED_BASE = 'http://127.0.0.1:8000';
const examples = examplesOf(README);

let server: CarafeProcess | undefined;
let outputs: string[] = [];

beforeAll(async () => {
  const port = (await freePort()) as number;
  server = await startCarafe({
    args: ['examples/rest-api/dist/app.js', '--workers', '2', '--bind', `127.0.0.1:${port}`],
    env: { MONGODB_URI: mongodbUri(), MONGODB_DB: uniqueDbName('readme') },
    target: { port },
  });
  const marker = (i: number) => `@@carafe-readme-example-${i}@@`;
  const script = examples
    .map((example, i) => `echo '${marker(i)}'\n${example.script.replaceAll(DOCUMENTED_BASE, `http://127.0.0.1:${port}`)}`)
    .join('\n');
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { timeout: 60_000 });
  outputs = examples.map((_, i) => {
    const start = stdout.indexOf(marker(i));
    const end = i + 1 < examples.length ? stdout.indexOf(marker(i + 1)) : stdout.length;
    return start === -1 ? '' : stdout.slice(start + marker(i).length + 1, end);
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe('README curl walkthrough', () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
  });

  // One checker for all blocks: a README id must stand for the same real id throughout.
  const checker = new AnswerChecker();
  examples.forEach((example, i) => {
    const first = example.script.split('\n').find((l) => l.startsWith('curl')) ?? example.script.split('\n')[0];
    it(`README line ${example.line}: ${first}`, () => {
      expect(checker.check(example.expected, outputs[i] ?? ''), `output was:\n${outputs[i]}`).toEqual([]);
    });
  });
});
