import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type RunningApp } from './support-app.js';

let running: RunningApp;
beforeAll(async () => {
  // This file is about integrity under load, not latency: a budget far above what 1000
  // concurrent creates can take on a busy machine, so none of them is cut off with a 503.
  running = await startTestApp('concurrency', { requestTimeoutMS: 60_000 });
});
afterAll(async () => {
  await running?.close();
});

describe('under concurrent load', () => {
  it('lets exactly one of 50 concurrent sign-ups with one email through', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        request(running.server)
          .post('/api/users')
          .send({ name: `Racer ${i}`, email: i % 2 ? 'race@example.com' : 'Race@Example.com' }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of responses.filter((r) => r.status === 409)) expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const users = running.client.db(running.dbName).collection('users');
    expect(await users.countDocuments({ emailKey: 'race@example.com' })).toBe(1);
  });

  it('stores exactly 1000 users from 1000 concurrent creates', async () => {
    const users = running.client.db(running.dbName).collection('users');
    const before = await users.countDocuments();
    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        request(running.server)
          .post('/api/users')
          .send({ name: `Bulk ${i}`, email: `bulk${i}@example.com` }),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1000);
    const ids = new Set(responses.map((r) => r.body.id as string));
    expect(ids.size).toBe(1000);
    expect(await users.countDocuments()).toBe(before + 1000);
    expect(await users.countDocuments({ email: /^bulk\d+@example\.com$/ })).toBe(1000);
  }, 120_000);
});
