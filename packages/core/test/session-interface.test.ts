import { describe, expect, it } from 'vitest';
import { Carafe, Session, SignedCookieSessionInterface, type Request, type SessionInterface } from '@carafe/core';
import { client } from './helpers.js';

/** Server-side sessions: the cookie holds an id, the data stays in `store`. */
function memorySessions(store: Map<string, Record<string, unknown>>, calls: string[]): SessionInterface {
  let next = 0;
  return {
    open(req: Request<any, any, any>) {
      calls.push(`open ${req.path}`);
      return new Session(store.get(req.cookies.sid ?? ''));
    },
    async save(req, response) {
      calls.push(`save ${req.path}`);
      await Promise.resolve();
      if (!req.session.modified) return;
      const sid = req.cookies.sid ?? `sid${++next}`;
      store.set(sid, req.session.toJSON());
      response.setCookie('sid', sid, { httpOnly: true, path: '/' });
    },
  };
}

describe('swappable sessions', () => {
  it('opens and saves req.session through the app’s session interface', async () => {
    const store = new Map<string, Record<string, unknown>>();
    const calls: string[] = [];
    const app = new Carafe({ sessions: memorySessions(store, calls) }); // no secretKey needed
    app.post('/login', (req) => {
      req.session.set('user', 'ada');
      return null;
    });
    app.get('/me', (req) => ({ user: req.session.get('user') ?? null }));
    app.get('/public', () => 'no session');
    const http = client(app);

    const login = await http.post('/login').expect(204);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    expect(cookie).toBe('sid=sid1');
    expect(store.get('sid1')).toEqual({ user: 'ada' });
    await http.get('/me').set('Cookie', cookie).expect(200, { user: 'ada' });
    await http.get('/public').expect(200, 'no session');
    expect(calls).toEqual(['open /login', 'save /login', 'open /me', 'save /me']);
    expect(app.sessions).toBeDefined();
  });

  it('defaults to signed-cookie sessions', () => {
    expect(new Carafe().sessions).toBeInstanceOf(SignedCookieSessionInterface);
  });

  it('answers 500 and logs when the session interface fails', async () => {
    const app = new Carafe({
      sessions: { open: () => new Session(), save: () => Promise.reject(new Error('store down')) },
    });
    app.get('/', (req) => req.session.set('x', 1) && 'ok');
    const lines: string[] = [];
    await client(app, { write: (m) => void lines.push(m) })
      .get('/')
      .expect(500);
    expect(lines.join('')).toMatch(/store down/);
  });
});
