/**
 * The example's API edge (src/edge.ts): by default security headers, /docs and a generous rate
 * limit, no CORS origin and open write routes (so `npm start` needs nothing); with JWT_SECRET (or
 * JWT_JWKS_URL), CORS_ORIGINS and RATE_LIMIT set, through the real `carafe serve`, the write routes
 * need a token, the origin gets CORS and the limit holds across the workers.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../../../scripts/ferretdb.mjs';
import { startCarafe, type CarafeProcess } from '../../../test/setup/carafe.js';
import { edgeSettings } from '../src/edge.js';
import { startTestApp, type RunningApp } from './support-app.js';
import { mongodbUri, uniqueDbName } from './support.js';

describe('edgeSettings (environment variables)', () => {
  it('defaults: no CORS origin, 6000 requests a minute, any host, no JWT', () => {
    expect(edgeSettings({})).toEqual({ corsOrigins: [], rateLimit: { limit: 6000, window: 60 }, trustedHosts: undefined, jwt: undefined });
  });

  it('reads every variable, and RATE_LIMIT=0 turns the limit off', () => {
    const settings = edgeSettings({
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      RATE_LIMIT: '100',
      RATE_LIMIT_WINDOW: '10',
      TRUSTED_HOSTS: 'api.example.com,.example.org',
      JWT_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
      JWT_ISSUER: 'https://auth.example.com/',
      JWT_AUDIENCE: 'todo-api',
    });
    expect(settings).toEqual({
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      rateLimit: { limit: 100, window: 10 },
      trustedHosts: ['api.example.com', '.example.org'],
      jwt: { jwksUrl: 'https://auth.example.com/.well-known/jwks.json', issuer: 'https://auth.example.com/', audience: 'todo-api' },
    });
    expect(edgeSettings({ RATE_LIMIT: '0' }).rateLimit).toBeUndefined();
    expect(() => edgeSettings({ JWT_SECRET: 'short' })).toThrow(/32 characters/);
    expect(() => edgeSettings({ RATE_LIMIT: 'lots' })).toThrow(/RATE_LIMIT/);
  });
});

describe('the default edge (nothing configured)', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startTestApp('edge_default');
  });
  afterAll(() => running.close());

  it('sends security headers and the rate-limit fields, and leaves the write routes open', async () => {
    const res = await fetch(`${running.url}/api/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('ratelimit-policy')).toBe('"default";q=6000;w=60');
    expect((await fetch(`${running.url}/healthz`)).headers.get('ratelimit')).toBeNull();
  });

  it('grants no origin CORS, and serves /docs', async () => {
    const preflight = await fetch(`${running.url}/api/users`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const docs = await fetch(`${running.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('documents no security requirement', async () => {
    const doc = (await (await fetch(`${running.url}/openapi.json`)).json()) as { components: Record<string, unknown> };
    expect(doc.components.securitySchemes).toBeUndefined();
  });
});

describe('the configured edge through carafe serve (JWT_SECRET, CORS_ORIGINS, RATE_LIMIT)', () => {
  const SECRET = 'an-example-secret-of-at-least-32-characters';
  const ORIGIN = 'https://app.example.com';
  let server: CarafeProcess;
  let base: string;
  const token = () =>
    new SignJWT({ scope: 'todos' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ada')
      .setAudience('todo-api')
      .setExpirationTime('2m')
      .sign(new TextEncoder().encode(SECRET));

  beforeAll(async () => {
    const port = (await freePort()) as number;
    base = `http://127.0.0.1:${port}`;
    server = await startCarafe({
      args: ['examples/rest-api/dist/app.js', '--workers', '2', '--bind', `127.0.0.1:${port}`],
      env: {
        MONGODB_URI: mongodbUri(),
        MONGODB_DB: uniqueDbName('edge'),
        JWT_SECRET: SECRET,
        JWT_AUDIENCE: 'todo-api',
        CORS_ORIGINS: ORIGIN,
        RATE_LIMIT: '5',
        RATE_LIMIT_WINDOW: '60',
      },
      target: { port },
    });
  }, 60_000);
  afterAll(() => server?.stop());

  /** Each test speaks as another client (X-Forwarded-For from 127.0.0.1, a trusted proxy), so each has 5 requests. */
  const as = (client: string, init: RequestInit = {}) => ({ ...init, headers: { 'x-forwarded-for': client, ...(init.headers as object) } });
  const newUser = (client: string, headers: Record<string, string> = {}) =>
    fetch(
      `${base}/api/users`,
      as(client, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'Ada', email: `ada-${client}@example.com` }),
      }),
    );

  it('needs a JWT on write routes (401 with WWW-Authenticate without one), not on reads', async () => {
    const refused = await newUser('198.51.100.1');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    const created = await newUser('198.51.100.1', { authorization: `Bearer ${await token()}` });
    expect(created.status).toBe(201);
    expect((await fetch(`${base}/api/users`, as('198.51.100.1'))).status).toBe(200);
  });

  it('documents the bearer scheme on the write operations', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`, as('198.51.100.2'))).json()) as any;
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.paths['/api/users'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/users'].get.security).toBeUndefined();
  });

  it('answers a preflight from CORS_ORIGINS with the route’s methods', async () => {
    const res = await fetch(
      `${base}/api/users`,
      as('198.51.100.3', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, OPTIONS');
  });

  it('limits each client to RATE_LIMIT requests per window across both workers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${base}/api/users`, as('198.51.100.4'))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect((await fetch(`${base}/healthz`, as('198.51.100.4'))).status).toBe(200);
  });
});
