/**
 * A Hono app mounted through `fromFetchHandler` beside a Carafe app, under the real `carafe serve`
 * (test/fixtures/runtimes/mounted.mjs: `dispatcher({ '/legacy': fromFetchHandler(hono.fetch) })`).
 * Runs the build: `npx tsc -b` first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCarafe, type CarafeProcess } from '../setup/carafe.js';
import { freePort } from './harness.js';

const FIXTURE = 'test/fixtures/runtimes/mounted.mjs';

describe('a Hono app mounted under /legacy beside a Carafe app, under carafe serve', () => {
  let carafe: CarafeProcess;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    carafe = await startCarafe({ args: [FIXTURE, '--bind', `127.0.0.1:${port}`, '--workers', '1'], target: { port } });
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await carafe?.stop();
  });

  it('answers Hono routes under the mount, with their params', async () => {
    const response = await fetch(`${base}/legacy/hello/J%C3%BCrgen`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Hello, Jürgen, from Hono');
  });

  it('leaves every other path to the Carafe app', async () => {
    expect(await (await fetch(`${base}/hello`)).text()).toBe('Hello from Carafe');
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    await missing.text();
  });

  it('passes a JSON request body through, and gives Hono the URL the client asked for', async () => {
    const response = await fetch(`${base}/legacy/echo?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tea: 'green' }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ received: { tea: 'green' }, url: `${base}/legacy/echo?x=1` });
  });

  it('answers Hono’s own 404 for unknown paths under the mount', async () => {
    const response = await fetch(`${base}/legacy/nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('404 Not Found');
  });

  it('keeps each Set-Cookie apart and streams Hono’s body', async () => {
    const cookies = await fetch(`${base}/legacy/cookies`);
    expect(cookies.headers.getSetCookie()).toEqual(['a=1; Path=/legacy', 'b=2; Path=/legacy']);
    await cookies.text();
    const streamed = await fetch(`${base}/legacy/stream`);
    expect(streamed.headers.get('content-length')).toBeNull();
    expect(await streamed.text()).toBe('part 1\npart 2\npart 3\n');
  });
});
