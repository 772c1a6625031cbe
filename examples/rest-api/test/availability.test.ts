/**
 * Health and readiness against a database that goes away and comes back: this test runs its own
 * FerretDB so it can stop it. Liveness never depends on MongoDB; readiness and the API do, and an
 * unreachable database is a 503 problem, not a 500 or a hang.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort, startFerretDB } from '../../../scripts/ferretdb.mjs';
import { startTestApp, type RunningApp } from './support-app.js';

type Ferret = { uri: string; port: number; dataDir: string; stop(): Promise<void> };

function expectUnavailable(res: request.Response) {
  expect(res.status).toBe(503);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
}

async function waitUntilReady(api: ReturnType<typeof request>): Promise<number> {
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await api.get('/readyz')).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  return status;
}

describe('when MongoDB is unreachable from the start', () => {
  let port: number;
  let running: RunningApp;
  let ferret: Ferret | undefined;
  beforeAll(async () => {
    port = (await freePort()) as number;
    running = await startTestApp('unreachable', { uri: `mongodb://127.0.0.1:${port}/`, serverSelectionTimeoutMS: 300 });
  });
  afterAll(async () => {
    await running?.close();
    await ferret?.stop();
  });

  it('still starts: /healthz is 200, /readyz and the API are 503 problems', async () => {
    const api = request(running.server);
    expect((await api.get('/healthz')).status).toBe(200);
    expectUnavailable(await api.get('/readyz'));
    expectUnavailable(await api.get('/api/users'));
    expectUnavailable(await api.post('/api/users').send({ name: 'Ada', email: 'ada@example.com' }));
  });

  it('becomes ready, with its indexes, once MongoDB is there', async () => {
    const api = request(running.server);
    ferret = (await startFerretDB({ port })) as Ferret;
    expect(await waitUntilReady(api)).toBe(200);
    expect((await api.post('/api/users').send({ name: 'Ada', email: 'ada@example.com' })).status).toBe(201);
    expect((await api.post('/api/users').send({ name: 'Ada', email: 'ADA@example.com' })).status).toBe(409);
  });
});

describe('when MongoDB goes away and comes back', () => {
  // A data directory of our own outlives a stop, so the server can come back with the same data.
  const dataDir = mkdtempSync(join(tmpdir(), 'carafe-outage-'));
  let ferret: Ferret;
  let running: RunningApp;
  beforeAll(async () => {
    ferret = (await startFerretDB({ dataDir })) as Ferret;
    running = await startTestApp('outage', { uri: ferret.uri, serverSelectionTimeoutMS: 500 });
  });
  afterAll(async () => {
    await running?.close();
    await ferret?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('turns unready during the outage and ready again after it', async () => {
    const api = request(running.server);
    expect((await api.get('/readyz')).status).toBe(200);
    const created = await api.post('/api/users').send({ name: 'Before', email: 'before@example.com' });
    expect(created.status).toBe(201);

    const { port } = ferret;
    await ferret.stop();

    expectUnavailable(await api.get('/readyz'));
    expectUnavailable(await api.get(`/api/users/${created.body.id}`));
    expect((await api.get('/healthz')).status).toBe(200);

    ferret = (await startFerretDB({ port, dataDir })) as Ferret;
    expect(await waitUntilReady(api)).toBe(200);
    expect((await api.get(`/api/users/${created.body.id}`)).body).toEqual(created.body);
  });
});
