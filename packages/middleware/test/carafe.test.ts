/**
 * The middleware attached to a Carafe app, a blueprint and a route: preflights answered before
 * routing with the route's real methods, the identity on `req.auth`, OpenAPI security generated.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Blueprint, Carafe } from '@carafe/core';
import { cors, jwtAuth, rateLimit, securityHeaders } from '@carafe/middleware';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const token = (scope = 'notes:write') =>
  new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('ada')
    .setAudience('notes')
    .setExpirationTime('1m')
    .sign(new TextEncoder().encode(SECRET));
const ORIGIN = 'https://app.example.com';

function notesApp() {
  const app = new Carafe();
  app.use(securityHeaders(), cors({ origin: [ORIGIN], exposedHeaders: ['RateLimit', 'RateLimit-Policy'] }));
  const notes = new Blueprint('notes', { urlPrefix: '/notes' });
  notes.use(rateLimit({ limit: 100, window: 60 }));
  const auth = jwtAuth({ secret: SECRET, audience: 'notes', scopes: ['notes:write'] });
  notes.get('/', { name: 'list' }, () => [{ id: 1 }]);
  notes.post('/', { name: 'create', middleware: [auth] }, (req) => ({ by: req.auth?.subject, scopes: req.auth?.scopes }));
  notes.delete('/:id', { name: 'remove', middleware: [auth] }, () => null);
  app.register(notes);
  app.get('/healthz', () => ({ ok: true }));
  return app;
}

describe('@carafe/middleware on a Carafe app', () => {
  it('answers a preflight before routing, with the methods the path really has', async () => {
    const app = notesApp();
    const res = await app.request('/notes/', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, OPTIONS');
    const item = await app.request('/notes/7', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'DELETE' },
    });
    expect(item.headers.get('access-control-allow-methods')).toBe('DELETE, OPTIONS');
    // Without the CORS middleware the same request is the router's automatic OPTIONS.
    const plain = new Carafe();
    plain.post('/notes/', () => null);
    expect((await plain.request('/notes/', { method: 'OPTIONS' })).status).toBe(200);
  });

  it('runs route middleware only on its route, with the identity on req.auth', async () => {
    const app = notesApp();
    expect((await app.request('/notes/')).status).toBe(200);
    const refused = await app.request('/notes/', { method: 'POST' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    // The app's middleware wraps the route's answer too.
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    const created = await app.request('/notes/', { method: 'POST', headers: { authorization: `Bearer ${await token()}`, origin: ORIGIN } });
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ by: 'ada', scopes: ['notes:write'] });
    expect(created.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(created.headers.get('ratelimit-policy')).toBe('"default";q=100;w=60');
    const weak = await app.request('/notes/', { method: 'POST', headers: { authorization: `Bearer ${await token('notes:read')}` } });
    expect(weak.status).toBe(403);
    // Blueprint middleware does not reach the app's own routes.
    expect((await app.request('/healthz')).headers.get('ratelimit')).toBeNull();
  });

  it('generates securitySchemes and per-operation security in OpenAPI', () => {
    const doc = notesApp().openapi({ title: 'notes', version: '1' }) as any;
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
    expect(doc.paths['/notes/'].post.security).toEqual([{ bearerAuth: ['notes:write'] }]);
    expect(doc.paths['/notes/{id}'].delete.security).toEqual([{ bearerAuth: ['notes:write'] }]);
    expect(doc.paths['/notes/'].get.security).toBeUndefined();
    expect(Object.keys(doc.paths['/notes/'].post.responses)).toEqual(['200', '401', '403', '429', 'default']);
    expect(doc.paths['/healthz'].get.responses['429']).toBeUndefined();
  });
});
