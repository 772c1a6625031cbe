/** The in-process test client: `app.request()` (Hono's) and `app.testClient()` (Flask's), no socket. */
import { createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { Carafe, json } from '@carafe/core';
import { memoryErrors } from './helpers.js';

function app() {
  const app = new Carafe({ secretKey: 'test-secret' });
  app.get('/hello/:name', (req) => ({ greeting: `Hello, ${req.params.name}!`, query: req.query, host: req.host }));
  app.post('/echo', async (req) => json({ got: await req.json(), type: req.contentType }, { status: 201, headers: { 'x-a': '1' } }));
  app.post('/login', (req) => {
    req.session.set('user', 'ada');
    return null;
  });
  app.get('/me', (req) => ({ user: req.session.get('user') ?? null }));
  app.post('/logout', (req) => {
    req.session.clear();
    return null;
  });
  app.get('/boom', () => {
    throw new Error('kaboom');
  });
  return app;
}

describe('app.request', () => {
  it('answers a path with a web Response, without opening a socket', async () => {
    const listen = vi.spyOn(createServer().constructor.prototype, 'listen');
    const res = await app().request('/hello/w%C3%B6rld?x=1&x=2');
    expect(res).toBeInstanceOf(globalThis.Response);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ greeting: 'Hello, wörld!', query: { x: ['1', '2'] }, host: 'localhost' });
    expect(listen).not.toHaveBeenCalled();
  });

  it('takes a Request or init, and a JSON body', async () => {
    const a = app();
    const viaInit = await a.request('/echo', { method: 'POST', json: { n: 1 } });
    expect(viaInit.status).toBe(201);
    expect(viaInit.headers.get('x-a')).toBe('1');
    expect(await viaInit.json()).toEqual({ got: { n: 1 }, type: 'application/json' });
    const viaRequest = await a.request(
      new Request('http://example.test/echo', { method: 'POST', body: '[1]', headers: { 'content-type': 'application/json' } }),
    );
    expect(await viaRequest.json()).toEqual({ got: [1], type: 'application/json' });
    expect((await a.request('/nope')).status).toBe(404);
  });

  it('logs to the errors stream it is given', async () => {
    const errors = memoryErrors();
    const res = await app().request('/boom', undefined, { errors });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(errors.text()).toMatch(/kaboom/);
  });
});

describe('app.testClient', () => {
  it('keeps the session cookie between requests, under the TSGI validator', async () => {
    const client = app().testClient({ validate: true });
    expect(await (await client.get('/me')).json()).toEqual({ user: null });
    const login = await client.post('/login');
    expect(login.status).toBe(204);
    expect(Object.keys(client.cookies())).toEqual(['session']);
    expect(await (await client.get('/me')).json()).toEqual({ user: 'ada' });
    await client.post('/logout');
    expect(client.cookies()).toEqual({});
    expect(await (await client.get('/me')).json()).toEqual({ user: null });
  });

  it('honours cookie paths and lets a test set and clear cookies', async () => {
    const a = new Carafe();
    a.get('/set', () => json(null).setCookie('scoped', '1', { path: '/admin' }).setCookie('all', '2', { path: '/' }));
    a.get('/admin/echo', (req) => req.cookies);
    a.get('/echo', (req) => req.cookies);
    const client = a.testClient();
    await client.get('/set');
    expect(await (await client.get('/admin/echo')).json()).toEqual({ scoped: '1', all: '2' });
    expect(await (await client.get('/echo')).json()).toEqual({ all: '2' });
    client.setCookie('extra', '3').clearCookies('all');
    expect(await (await client.get('/echo')).json()).toEqual({ extra: '3' });
  });
});
