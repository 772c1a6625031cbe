/**
 * A worker must be ready within --timeout of its fork: a reload whose new workers' startup never
 * finishes does not stall. They are killed, the failure is logged, the old workers keep serving,
 * and the next reload still runs.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Carafe, FIXTURES, freePort, request, stopAll, until } from './fixtures/server/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'carafe-boot-timeout-'));

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const NEVER_STARTS = `export function app() {
  return { status: 200, headers: [['Content-Type', 'text/plain']], body: ['never served'] };
}
// The event loop stays free (the worker keeps heartbeating), but startup never finishes.
app.lifespan = { startup: () => new Promise(() => {}) };
`;

describe('a reload whose new workers never finish starting', () => {
  it('gives up after --timeout, logs it, and keeps the old workers serving', async () => {
    const cwd = mkdtempSync(join(dir, 'app-'));
    const file = join(cwd, 'app.mjs');
    copyFileSync(join(FIXTURES, 'hello.mjs'), file);
    const original = readFileSync(file, 'utf8');
    const port = await freePort();
    const carafe = new Carafe(['serve', 'app.mjs', '-b', `127.0.0.1:${port}`, '--workers', '1', '--timeout', '2'], { cwd });
    await carafe.ready();
    const before = carafe.workerPids();
    expect(before).toHaveLength(1);

    writeFileSync(file, NEVER_STARTS);
    carafe.signal('SIGHUP');
    await until('a second worker booting', () => carafe.workerPids().length === 2, 5000);
    // While the new worker hangs in its startup, the old one answers.
    expect((await request(port, '/')).body).toMatch(/^hello from \d+ version=v1$/);
    await carafe.waitFor(/did not finish booting within --timeout \(2s\); killing it/, 6000);
    await carafe.waitFor(/reload failed, keeping the running workers/, 3000);
    await until('the hung worker to be gone', () => carafe.workerPids().length === 1, 3000);
    expect(carafe.workerPids()).toEqual(before);
    expect((await request(port, '/')).body).toMatch(/version=v1/);

    // Reloads are not stuck behind the failed one.
    writeFileSync(file, original.replace(/version=\$\{[^}]*\}/, 'version=v2'));
    carafe.signal('SIGHUP');
    await until('the next reload to serve the new code', async () => (await request(port, '/')).body.includes('version=v2'), 8000);
    carafe.signal('SIGTERM');
    expect(await carafe.waitExit()).toBe(0);
  });
});
