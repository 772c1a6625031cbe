import { describe, expect, it } from 'vitest';
import { ALLOWED_METHODS_KEY, cors } from '@carafe/middleware';
import { caller, okApp } from './helpers.js';

const ORIGIN = 'https://app.example.com';
const preflight = (origin: string, extra: Record<string, string> = {}) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', ...extra },
});

describe('cors', () => {
  it('answers a preflight from an allowed origin with 204 and the CORS headers, without calling the app', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const call = caller(cors({ origin: [ORIGIN], credentials: true, maxAge: 300 })(okApp(seen)));
    const res = await call('/things', preflight(ORIGIN, { 'access-control-request-headers': 'content-type, authorization' }));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, PUT, PATCH, POST, DELETE');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(res.headers.get('access-control-max-age')).toBe('300');
    expect(res.headers.get('vary')).toBe('Origin, Access-Control-Request-Headers');
    expect(seen).toHaveLength(0);
  });

  it('gives a preflight from another origin no CORS header at all', async () => {
    const call = caller(cors({ origin: [ORIGIN] })(okApp()));
    const res = await call('/things', preflight('https://evil.example'));
    expect(res.status).toBe(204);
    const names = [...res.headers.keys()].filter((name) => name.startsWith('access-control-'));
    expect(names).toEqual([]);
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('lists the route’s real methods when the app says which (environ resolver or the app’s own allowedMethods)', async () => {
    const app = okApp();
    const viaEnviron = caller((environ) => {
      environ[ALLOWED_METHODS_KEY] = (path: string) => (path === '/things' ? ['GET', 'HEAD', 'POST', 'OPTIONS'] : undefined);
      return cors({ origin: ORIGIN })(app)(environ);
    });
    expect((await viaEnviron('/things', preflight(ORIGIN))).headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, OPTIONS');
    const described = Object.assign(okApp(), { allowedMethods: () => ['GET', 'HEAD', 'OPTIONS'] });
    const viaApp = caller(cors({ origin: ORIGIN, methods: ['GET', 'POST'] })(described));
    expect((await viaApp('/x', preflight(ORIGIN))).headers.get('access-control-allow-methods')).toBe('GET');
  });

  it('adds Allow-Origin, credentials and exposed headers to actual responses, and Vary: Origin', async () => {
    const call = caller(cors({ origin: ORIGIN, credentials: true, exposedHeaders: ['RateLimit', 'RateLimit-Policy'] })(okApp()));
    const res = await call('/x', { headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-expose-headers')).toBe('RateLimit, RateLimit-Policy');
    expect(res.headers.get('vary')).toBe('Origin');
    const other = await call('/x', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toBe('Origin');
  });

  it('sends Vary: Origin on responses to requests without Origin when the answer depends on it, merging an existing Vary', async () => {
    const app = () => ({ status: 200, headers: [['Vary', 'Accept-Encoding']] as Array<[string, string]>, body: ['x'] });
    const res = await caller(cors({ origin: ORIGIN })(app))('/x');
    expect(res.headers.get('vary')).toBe('Accept-Encoding, Origin');
    const star = await caller(cors({ origin: '*' })(app))('/x');
    expect(star.headers.get('vary')).toBe('Accept-Encoding');
  });

  it("answers '*' for any origin without credentials, and refuses '*' with credentials", async () => {
    const res = await caller(cors({ origin: '*' })(okApp()))('/x', { headers: { origin: 'https://anything.test' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(() => cors({ origin: '*', credentials: true })).toThrow(/credentials/);
  });

  it('matches patterns with * for a host label, regular expressions and functions', async () => {
    const patterns = caller(cors({ origin: ['https://*.example.org', /^http:\/\/localhost:\d+$/] })(okApp()));
    const allow = async (origin: string) => (await patterns('/x', { headers: { origin } })).headers.get('access-control-allow-origin');
    expect(await allow('https://a.example.org')).toBe('https://a.example.org');
    expect(await allow('https://a.b.example.org')).toBeNull();
    expect(await allow('https://example.org.evil.test')).toBeNull();
    expect(await allow('http://localhost:5173')).toBe('http://localhost:5173');
    const fn = caller(cors({ origin: (origin) => origin.endsWith('.internal') })(okApp()));
    expect((await fn('/x', { headers: { origin: 'http://tool.internal' } })).headers.get('access-control-allow-origin')).toBe(
      'http://tool.internal',
    );
    expect((await patterns('/x', { headers: { origin: 'null' } })).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers Private Network Access preflights when configured', async () => {
    const pna = { 'access-control-request-private-network': 'true' };
    const on = await caller(cors({ origin: ORIGIN, privateNetwork: true })(okApp()))('/x', preflight(ORIGIN, pna));
    expect(on.headers.get('access-control-allow-private-network')).toBe('true');
    expect(on.headers.get('vary')).toContain('Access-Control-Request-Private-Network');
    const off = await caller(cors({ origin: ORIGIN })(okApp()))('/x', preflight(ORIGIN, pna));
    expect(off.headers.get('access-control-allow-private-network')).toBeNull();
  });

  it('passes an OPTIONS request that is not a preflight to the app, and keeps a synchronous app synchronous', () => {
    const app = cors({ origin: ORIGIN })(okApp());
    const environ = {
      REQUEST_METHOD: 'OPTIONS',
      PATH_INFO: '/x',
      HTTP_ORIGIN: ORIGIN,
      SCRIPT_NAME: '',
      QUERY_STRING: '',
    } as never;
    const result = app(environ);
    expect(result).not.toBeInstanceOf(Promise);
    expect((result as { status: number }).status).toBe(200);
  });
});
