/**
 * The raw-request conformance suite (test/conformance/corpus.ts) against the real `carafe serve`:
 * each case's bytes on a fresh connection, and exactly the expected responses back — what the
 * app saw, or a problem+json refusal — then the close or the open connection the case expects,
 * and nothing more. No case may get a 5xx other than the 501/505 it expects, hang past 5 s, or
 * get a second response for smuggled bytes.
 *
 * Also here: static files through carafe serve's `staticFiles` middleware (dotfiles hidden,
 * Range), which the corpus's echo app does not serve.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, utf8, type RawResponse } from './conformance/client.js';
import { CORPUS, type Case, type Expected } from './conformance/corpus.js';
import { Carafe, ROOT, freePort, stopAll } from './fixtures/server/harness.js';

/** How long a connection that should close may take to; the keep-alive timeout (5 s) is longer. */
const CLOSE_WITHIN_MS = 2500;
/** How long an open connection is watched for anything more after the expected responses. */
const SETTLE_MS = 150;

const dir = mkdtempSync(join(tmpdir(), 'carafe-conformance-'));

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function checkResponse(response: RawResponse, expected: Expected, index: number): void {
  const where = `response ${index + 1}`;
  expect(response.status, `${where}: ${response.body.slice(0, 300)}`).toBe(expected.status);
  if ('seen' in expected) {
    const seen = JSON.parse(utf8(response)) as Record<string, string>;
    for (const [key, value] of Object.entries(expected.seen)) {
      if (value === null) expect(seen, `${where}: ${key} should be absent`).not.toHaveProperty([key]);
      else expect(seen[key], `${where}: ${key}`).toBe(value);
    }
    return;
  }
  // Every refusal is an RFC 9457 problem and closes the connection.
  expect(response.headers['content-type'], where).toBe('application/problem+json');
  expect(response.headers.connection?.toLowerCase(), where).toBe('close');
  const problem = JSON.parse(utf8(response)) as { status: number; title: string; detail?: string };
  expect(problem.status, where).toBe(expected.status);
  expect(problem.title, where).toEqual(expect.any(String));
  if (expected.detail) expect(problem.detail, where).toMatch(expected.detail);
}

describe('the corpus itself', () => {
  it('has unique ids, a source for each case, and refusals only as the last response of a closing case', () => {
    expect(new Set(CORPUS.map((c) => c.id)).size).toBe(CORPUS.length);
    for (const c of CORPUS) {
      expect(c.from, c.id).not.toBe('');
      for (const [i, e] of c.expect.entries()) {
        if (e.status >= 400) expect(i === c.expect.length - 1 && c.after === 'close', c.id).toBe(true);
      }
    }
    // What the suite covers, by outcome.
    const refusals = CORPUS.filter((c) => c.expect.some((e) => e.status >= 400));
    expect(refusals.length).toBeGreaterThan(60);
    expect(CORPUS.length - refusals.length).toBeGreaterThan(40);
  });
});

describe.concurrent('raw requests to carafe serve (test/conformance/corpus.ts)', () => {
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    const carafe = new Carafe([
      'serve',
      'echo.mjs',
      '-b',
      `127.0.0.1:${port}`,
      '--workers',
      '2',
      '--limit-request-body',
      '4096',
      '--keep-alive',
      '5',
    ]);
    await carafe.ready();
  });

  it.each(CORPUS.map((c) => [c.id, c] as const))('%s', async (_id: string, c: Case) => {
    const settle = c.after === 'close' ? CLOSE_WITHIN_MS : SETTLE_MS;
    const result = await exchange(port, c.send, c.expect.length, settle);
    expect(
      result.responses.length,
      `responses: ${JSON.stringify(result.responses.map((r) => r.status))}, then ${JSON.stringify(result.rest.slice(0, 200))}`,
    ).toBe(c.expect.length);
    for (const [i, response] of result.responses.entries()) checkResponse(response, c.expect[i]!, i);
    expect(result.rest, 'bytes after the expected responses').toBe('');
    if (c.after === 'close') expect(result.closed, `closed within ${CLOSE_WITHIN_MS} ms`).toBe(true);
    else expect(result.closed, 'the connection stays open').toBe(false);
  });
});

describe('static files through carafe serve', () => {
  let port: number;

  beforeAll(async () => {
    const root = join(dir, 'public');
    mkdirSync(root);
    writeFileSync(join(root, '.env'), 'SECRET=do-not-serve\n');
    writeFileSync(join(root, 'data.txt'), Buffer.from(Array.from({ length: 1000 }, (_, i) => 48 + (i % 10))));
    const config = join(dir, 'static.config.mjs');
    const server = pathToFileURL(join(ROOT, 'packages/server/dist/index.js')).href;
    writeFileSync(
      config,
      `import { staticFiles } from ${JSON.stringify(server)};\nexport default { middleware: [staticFiles({ root: ${JSON.stringify(root)}, prefix: '/static' })] };\n`,
    );
    port = await freePort();
    // hello.mjs answers 404 for any path it does not know, as an app behind static files would.
    const carafe = new Carafe(['serve', 'hello.mjs', '-b', `127.0.0.1:${port}`, '--config', config]);
    await carafe.ready();
  });

  it('answers a dotfile 404: it is not served, and the app has nothing there', async () => {
    const { responses } = await exchange(port, 'GET /static/.env HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1, CLOSE_WITHIN_MS);
    expect(responses[0]!.status).toBe(404);
    expect(responses[0]!.body).not.toContain('SECRET');
    // The same file under a name without the dot would be served: the 404 is the dotfile rule.
    const { responses: plain } = await exchange(
      port,
      'GET /static/data.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      1,
      CLOSE_WITHIN_MS,
    );
    expect(plain[0]!.status).toBe(200);
  });

  it('answers Range: bytes=0-99 with 206 and exactly 100 bytes', async () => {
    const { responses } = await exchange(port, 'GET /static/data.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n', 1, SETTLE_MS);
    expect(responses[0]!.status).toBe(206);
    expect(responses[0]!.headers['content-range']).toBe('bytes 0-99/1000');
    expect(responses[0]!.body).toHaveLength(100);
    expect(responses[0]!.body).toBe('0123456789'.repeat(10));
  });
});
