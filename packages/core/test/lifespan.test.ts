import { afterAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { Carafe } from '@carafe/core';
import { makeEnviron } from './helpers.js';

describe('lifespan and run', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('exposes startup and shutdown hooks as the TSGI lifespan', async () => {
    const calls: string[] = [];
    const app = new Carafe();
    app.onStartup(async () => void calls.push('open db'));
    app.onStartup(() => void calls.push('warm cache'));
    app.onShutdown(() => void calls.push('drop cache'));
    app.onShutdown(async () => void calls.push('close db'));
    await app.lifespan.startup();
    expect(calls).toEqual(['open db', 'warm cache']);
    await app.lifespan.shutdown();
    expect(calls).toEqual(['open db', 'warm cache', 'close db', 'drop cache']);
  });

  it('is a callable TSGI application, answering a plain route synchronously', () => {
    const app = new Carafe();
    expect(typeof app).toBe('function');
    expect(app).toBeInstanceOf(Carafe);
    app.get('/', () => 'hi');
    app.get('/none', () => null);
    const response = app(makeEnviron());
    expect(response).not.toBeInstanceOf(Promise);
    // A body of one known chunk: the server measures it (docs/tsgi.md §3.7); HEAD declares the GET's length.
    expect(response).toEqual({ status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], body: ['hi'] });
    expect(app(makeEnviron({ REQUEST_METHOD: 'HEAD' }))).toEqual({
      status: 200,
      headers: [
        ['content-type', 'text/plain; charset=utf-8'],
        ['content-length', '2'],
      ],
      body: [],
    });
    expect(app(makeEnviron({ PATH_INFO: '/none' }))).toEqual({ status: 204, headers: [], body: [] });
    expect(app(makeEnviron({ REQUEST_METHOD: 'HEAD' }))).toMatchObject({ status: 200, body: [] });
  });

  it('answers a route with hooks through a promise of the same response', async () => {
    const app = new Carafe();
    app.beforeRequest(() => undefined);
    app.get('/', () => ({ ok: true }));
    const result = app(makeEnviron());
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toEqual({
      status: 200,
      headers: [
        ['content-type', 'application/json'],
        ['content-length', '11'],
      ],
      body: ['{"ok":true}'],
    });
  });

  it('runs a development server with app.run()', async () => {
    const calls: string[] = [];
    const app = new Carafe();
    app.onStartup(() => void calls.push('startup'));
    app.get('/ping', () => ({ pong: true }));
    const server = await app.run({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    expect(calls).toEqual(['startup']);
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('server has no address');
    const res = await fetch(`http://127.0.0.1:${address.port}/ping`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ pong: true });
  });
});
