/**
 * The API edge of @carafe/middleware through the real `carafe serve` (4 workers): CORS preflights,
 * security headers after the proxy fix, JWT auth against a JWKS this test serves (and rotates),
 * CSRF on a cookie session, a rate limit that holds across all workers (in the app and from the
 * config file), trusted hosts and content negotiation; and the MongoDB rate-limit store on the
 * run's real MongoDB-compatible server, shared by two "hosts".
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MongoRateLimitStore, type CounterCollection } from '@carafe/middleware';
import { Carafe, FIXTURES, ROOT, freePort, request, stopAll, type Reply } from './fixtures/server/harness.js';

const ORIGIN = 'https://app.example.com';
let jwksServer: Server;
let jwks: { keys: JWK[] } = { keys: [] };
const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {};
let port: number;

beforeAll(async () => {
  for (const kid of ['key-1', 'key-2', 'forger']) {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    keys[kid] = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  }
  jwks = { keys: [keys['key-1']!.jwk] };
  jwksServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  port = await freePort();
  const carafe = new Carafe(['serve', 'edge-app.mjs', '--bind', `127.0.0.1:${port}`, '--workers', '4'], {
    env: { EDGE_JWKS_URL: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`, EDGE_RATE_LIMIT: '10' },
  });
  await carafe.ready(30_000);
});

afterAll(async () => {
  await stopAll();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

const token = (kid: string, claims: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'ada', iss: 'https://auth.test/', aud: 'edge', iat: now, exp: now + 120, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: kid === 'forger' ? 'key-1' : kid })
    .sign(keys[kid]!.privateKey);
};
const authorized = (jwt: string) => ({ method: 'POST', headers: { authorization: `Bearer ${jwt}` } });

describe('CORS through carafe serve', () => {
  it('answers a preflight from an allowed origin with 204 and the route’s real methods, before routing', async () => {
    const reply = await request(port, '/notes', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers).toMatchObject({
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
    });
    expect(reply.headers.vary).toContain('Origin');
  });

  it('gives a preflight from another origin none of the CORS headers', async () => {
    const reply = await request(port, '/notes', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    expect(reply.status).toBe(204);
    expect(Object.keys(reply.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('lets an allowed origin read an answer (and the rate-limit fields), and varies on Origin everywhere', async () => {
    const reply = await request(port, '/notes', { headers: { origin: ORIGIN } });
    expect(reply.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(reply.headers['access-control-expose-headers']).toBe('RateLimit, RateLimit-Policy');
    expect((await request(port, '/notes')).headers.vary).toBe('Origin');
  });
});

describe('security headers and trusted hosts through carafe serve', () => {
  it('sets the API defaults, and HSTS only when the proxy fix says the request was https', async () => {
    const plain = await request(port, '/notes');
    expect(plain.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    // 127.0.0.1 is a trusted proxy by default (--forwarded-allow-ips).
    const https = await request(port, '/notes', { headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('answers 400 to a Host it does not serve', async () => {
    const reply = await request(port, '/notes', { headers: { host: 'evil.test' } });
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/problem+json');
  });

  it('answers 406 where a route declares what it produces and the client accepts none of it', async () => {
    expect((await request(port, '/report', { headers: { accept: 'image/png' } })).status).toBe(406);
    const csv = await request(port, '/report', { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.body).toBe('a,b\n');
  });
});

describe('JWT authentication through carafe serve', () => {
  const expectChallenge = (reply: Reply, description: string) => {
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description=${JSON.stringify(description)}`,
    );
    expect(reply.headers['content-type']).toBe('application/problem+json');
  };

  it('accepts a token signed by the JWKS’s key, and puts the subject on req.auth', async () => {
    const reply = await request(port, '/notes', authorized(await token('key-1')));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).by).toBe('ada');
  });

  it('answers 401 with WWW-Authenticate to a missing, forged, expired or wrong-audience token', async () => {
    const none = await request(port, '/notes', { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="api"');
    expectChallenge(await request(port, '/notes', authorized(await token('forger'))), 'The access token is not valid.');
    expectChallenge(
      await request(port, '/notes', authorized(await token('key-1', { exp: Math.floor(Date.now() / 1000) - 60 }))),
      'The access token expired.',
    );
    expectChallenge(
      await request(port, '/notes', authorized(await token('key-1', { aud: 'another-api' }))),
      'The access token\'s "aud" claim is not valid.',
    );
  });

  it('picks up a rotated key in every worker, and then refuses the retired one', async () => {
    // One connection per worker: each worker's own cached key set is put to the test.
    const agents = await connectionPerWorker(port, 4, '/pid');
    try {
      expect((await call(port, '/notes', agents[0]!, authorized(await token('key-1')))).status).toBe(200);
      jwks = { keys: [keys['key-2']!.jwk] };
      const pids = new Set<number>();
      for (const agent of agents) {
        const reply = await call(port, '/notes', agent, authorized(await token('key-2')));
        expect(reply.status).toBe(200);
        pids.add(JSON.parse(reply.body).pid);
      }
      expect(pids.size).toBe(4);
      // Having fetched the set again for key-2, no worker has key-1 any more.
      for (const agent of agents) {
        expectChallenge(await call(port, '/notes', agent, authorized(await token('key-1'))), 'No known key signed the access token.');
      }
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });
});

describe('CSRF through carafe serve', () => {
  it('refuses a cross-site POST that carries the session cookie, and accepts a same-origin one', async () => {
    const login = await request(port, '/session', { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^session=/);
    const forged = await request(port, '/transfer', {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
    });
    expect(forged.status).toBe(403);
    expect(forged.headers['content-type']).toBe('application/problem+json');
    const oldBrowser = await request(port, '/transfer', { method: 'POST', headers: { cookie, origin: 'https://evil.test' } });
    expect(oldBrowser.status).toBe(403);
    const same = await request(port, '/transfer', {
      method: 'POST',
      headers: { cookie, origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(same.status).toBe(200);
    expect(JSON.parse(same.body)).toEqual({ user: 'ada' });
  });
});

/** One request (GET unless said) on a kept-alive connection of `agent`. */
function call(
  target: number,
  path: string,
  agent: http.Agent,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: target, path, agent, method: init.method ?? 'GET', headers: init.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${init.method ?? 'GET'} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * One kept-alive connection to each of the server's `workers` worker processes (found by asking
 * `pidPath`, whose answer holds the worker's pid, on new connections until each worker answered
 * one — each time as another client, through X-Forwarded-For from the trusted 127.0.0.1, so the
 * search counts against nobody's limit), so that a burst can be spread over all of them for
 * certain, not as the kernel happens to hand out connections.
 */
async function connectionPerWorker(target: number, workers: number, pidPath: string): Promise<http.Agent[]> {
  const byPid = new Map<number, http.Agent>();
  for (let attempt = 0; attempt < 200 && byPid.size < workers; attempt++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const client = `198.18.${attempt >> 8}.${attempt & 255}`;
    const pid = Number(/\d+/.exec((await call(target, pidPath, agent, { headers: { 'x-forwarded-for': client } })).body)![0]);
    if (byPid.has(pid)) agent.destroy();
    else byPid.set(pid, agent);
  }
  expect(byPid.size).toBe(workers);
  return [...byPid.values()];
}

/** 40 requests from one client, 10 on each worker's connection, all at once. */
async function burst(target: number, path: string, agents: http.Agent[]): Promise<Reply[]> {
  try {
    return await Promise.all(Array.from({ length: 40 }, (_, i) => call(target, path, agents[i % agents.length]!)));
  } finally {
    for (const agent of agents) agent.destroy();
  }
}

function expectExactlyTen(replies: Reply[]) {
  const passed = replies.filter((r) => r.status === 200);
  const limited = replies.filter((r) => r.status === 429);
  expect(passed).toHaveLength(10);
  expect(limited).toHaveLength(30);
  for (const reply of limited) {
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(reply.headers['ratelimit-policy']).toBe('"default";q=10;w=60');
    expect(reply.headers.ratelimit).toMatch(/^"default";r=0;t=\d+$/);
    expect(reply.headers['content-type']).toBe('application/problem+json');
  }
  const remaining = passed.map((r) => Number(/r=(\d+)/.exec(String(r.headers.ratelimit))![1])).sort((a, b) => a - b);
  expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  return passed;
}

describe('rate limiting across the workers of carafe serve', () => {
  it('with --workers 4 and 10/min, lets exactly 10 of 40 requests from one client through (limit on a blueprint)', async () => {
    // Each worker gets 10 of the 40: with a counter per worker, all 40 would pass.
    const replies = await burst(port, '/limited/ping', await connectionPerWorker(port, 4, '/pid'));
    expectExactlyTen(replies);
  });

  it('does the same with the limit in the config file around any TSGI app (packages/server/README.md’s example, as written)', async () => {
    const readme = readFileSync(`${ROOT}packages/server/README.md`, 'utf8');
    const block = /<!-- test:readme-server-rate-limit -->\n```js\n([\s\S]*?)```/.exec(readme);
    expect(block, 'the marked config example in packages/server/README.md').not.toBeNull();
    const config = `.readme-rate-limit-${process.pid}.config.mjs`;
    writeFileSync(`${FIXTURES}${config}`, block![1]!);
    const configPort = await freePort();
    const carafe = new Carafe(['serve', 'hello.mjs', '--bind', `127.0.0.1:${configPort}`, '--config', config]);
    try {
      await carafe.ready(30_000);
    } finally {
      rmSync(`${FIXTURES}${config}`, { force: true });
    }
    const replies = await burst(configPort, '/', await connectionPerWorker(configPort, 4, '/'));
    expectExactlyTen(replies);
    // Another client has its own count (X-Forwarded-For from the trusted proxy 127.0.0.1).
    const other = await request(configPort, '/', { headers: { 'x-forwarded-for': '198.51.100.4' } });
    expect(other.status).toBe(200);
    carafe.signal('SIGTERM');
    await carafe.waitExit();
  });
});

describe('MongoRateLimitStore on a real MongoDB-compatible server', () => {
  it('shares one limit between two hosts (two clients), counting concurrent hits exactly', async () => {
    const uri = inject('mongodbUri') ?? process.env.MONGODB_URI!;
    const dbName = `test_rate_limit_${process.pid}`;
    const clients = [await MongoClient.connect(uri), await MongoClient.connect(uri)];
    try {
      const stores = clients.map(
        (client) => new MongoRateLimitStore(client.db(dbName).collection('rate_limits') as unknown as CounterCollection),
      );
      // FerretDB has no TTL indexes (a real MongoDB has): then purge() cleans up.
      const { ttl } = await stores[0]!.ensureIndexes();
      expect(typeof ttl).toBe('boolean');
      // A window of an hour, so the burst cannot straddle two clock-aligned windows.
      const hits = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 2]!.hit('default:203.0.113.9', 3_600_000, 1)));
      expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(new Set(hits.map((h) => h.resetAt)).size).toBe(1);
      // Past the limit nothing more is stored.
      expect((await stores[1]!.hit('default:203.0.113.9', 3_600_000, 1, 10)).count).toBe(31);
      const collection = clients[0]!.db(dbName).collection('rate_limits');
      expect(await collection.countDocuments({})).toBe(30);
      await stores[0]!.hit('default:short', 50, 1);
      await new Promise((r) => setTimeout(r, 60));
      await stores[0]!.purge();
      expect(await collection.countDocuments({})).toBe(30);
    } finally {
      await clients[0]!
        .db(dbName)
        .dropDatabase()
        .catch(() => {});
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
