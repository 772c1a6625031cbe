import { afterAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { Carafe } from '@carafe/core';

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

  it('is a callable TSGI application', () => {
    const app = new Carafe();
    expect(typeof app).toBe('function');
    expect(app).toBeInstanceOf(Carafe);
    app.get('/', () => 'hi');
    let status = '';
    const body = app({
      REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', QUERY_STRING: '', SERVER_NAME: 'x', SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '1.2.3.4', REMOTE_PORT: '1', RAW_URI: '/',
      'tsgi.version': [1, 0], 'tsgi.url_scheme': 'http', 'tsgi.input': (async function* () {})(),
      'tsgi.errors': process.stderr, 'tsgi.multithread': false, 'tsgi.multiprocess': false, 'tsgi.run_once': false,
      'tsgi.signal': new AbortController().signal,
    }, (s) => {
      status = s;
      return async () => {};
    });
    expect(status).toBe('200 OK');
    expect(body).toEqual(['hi']);
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
