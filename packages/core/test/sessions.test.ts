import { describe, expect, it } from 'vitest';
import { Carafe, SessionSigner } from '@carafe/core';
import { client, memoryErrors } from './helpers.js';

function counterApp(secretKey: string | string[]) {
  const app = new Carafe({ secretKey });
  app.get('/count', (req) => {
    const count = (req.session.get<number>('count') ?? 0) + 1;
    req.session.set('count', count);
    return { count };
  });
  app.get('/peek', (req) => ({ count: req.session.get('count') ?? null }));
  app.post('/logout', (req) => {
    req.session.clear();
    return null;
  });
  return app;
}

function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return cookies.find((c) => c.startsWith('session='));
}

describe('signed-cookie sessions', () => {
  it('keeps data across requests in a signed, HttpOnly cookie', async () => {
    const http = client(counterApp('s3cret'));
    const first = await http.get('/count').expect(200, { count: 1 });
    const cookie = sessionCookie(first)!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(first.headers.vary).toMatch(/Cookie/);
    const value = cookie.split(';')[0]!;
    const second = await http.get('/count').set('Cookie', value).expect(200, { count: 2 });
    const third = sessionCookie(second)!.split(';')[0]!;
    await http.get('/peek').set('Cookie', third).expect(200, { count: 2 });
  });

  it('does not set a cookie when the session was only read', async () => {
    const res = await client(counterApp('k')).get('/peek').expect(200, { count: null });
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('ignores a tampered cookie', async () => {
    const http = client(counterApp('k'));
    const value = sessionCookie(await http.get('/count'))!.split(';')[0]!;
    const forged = new SessionSigner(['other']).sign({ count: 100 });
    await http.get('/peek').set('Cookie', `session=${forged}`).expect(200, { count: null });
    await http
      .get('/peek')
      .set('Cookie', `${value.slice(0, -2)}xx`)
      .expect(200, { count: null });
  });

  it('accepts cookies signed with an old key after rotation and re-signs with the new one', async () => {
    const old = sessionCookie(await client(counterApp('old-key')).get('/count'))!.split(';')[0]!;
    const rotated = client(counterApp(['new-key', 'old-key']));
    const res = await rotated.get('/count').set('Cookie', old).expect(200, { count: 2 });
    const renewed = sessionCookie(res)!.split(';')[0]!;
    await client(counterApp('new-key')).get('/peek').set('Cookie', renewed).expect(200, { count: 2 });
    await client(counterApp('new-key')).get('/peek').set('Cookie', old).expect(200, { count: null });
  });

  it('clears the cookie when the session is emptied', async () => {
    const http = client(counterApp('k'));
    const value = sessionCookie(await http.get('/count'))!.split(';')[0]!;
    const res = await http.post('/logout').set('Cookie', value).expect(204);
    expect(sessionCookie(res)).toMatch(/^session=;.*Max-Age=0/i);
  });

  it("reads as empty without a secret key, and refuses a change with a 500 that says why (Flask's NullSession)", async () => {
    const app = new Carafe();
    app.get('/', (req) => ({ x: req.session.get('x') ?? null, size: req.session.size, permanent: req.session.permanent }));
    app.post('/', (req) => {
      req.session.set('x', 1);
      return null;
    });
    const errors = memoryErrors();
    const http = client(app, errors);
    const read = await http.get('/').set('Cookie', 'session=whatever').expect(200, { x: null, size: 0, permanent: false });
    expect(sessionCookie(read)).toBeUndefined();
    expect(read.headers.vary).toBeUndefined();
    expect(errors.text()).toBe('');
    await http.post('/').expect(500);
    expect(errors.text()).toMatch(/session is unavailable because no secret key was set.*config\.secretKey/);
  });
});
