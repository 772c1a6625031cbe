import { describe, expect, it } from 'vitest';
import {
  AUTH_KEY,
  MemoryStore,
  MongoRateLimitStore,
  clientKey,
  rateLimit,
  type CounterCollection,
  type SlotDocument,
} from '@carafe/middleware';
import type { Environ } from '@carafe/gateway';
import { caller, memoryErrors, okApp } from './helpers.js';

describe('rateLimit', () => {
  it('lets `limit` requests per window through, then answers 429 with Retry-After and the IETF fields', async () => {
    const call = caller(rateLimit({ limit: 3, window: 60 })(okApp()));
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call('/x');
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
        expect(last.headers.get('ratelimit')).toMatch(/^"default";r=2;t=(60|59)$/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(last!.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
    expect(last!.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
  });

  it('counts per client address (IPv6 by /64), and starts a new window when the old one ended', async () => {
    const store = new MemoryStore();
    const limited = rateLimit({ limit: 1, window: 0.2, store })(okApp());
    const from = (address: string) => caller(limited, { remoteAddress: address })('/x');
    expect((await from('192.0.2.1')).status).toBe(200);
    expect((await from('192.0.2.1')).status).toBe(429);
    expect((await from('192.0.2.2')).status).toBe(200);
    expect((await from('2001:db8:1:2::1')).status).toBe(200);
    expect((await from('2001:db8:1:2:ffff::9')).status).toBe(429);
    await new Promise((r) => setTimeout(r, 250));
    expect((await from('192.0.2.1')).status).toBe(200);
    expect(clientKey('2001:DB8:0001:0002:0:0:0:1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('::ffff:192.0.2.9')).toBe('192.0.2.9');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });

  it('counts by header, by authenticated subject or by a function; a request without a key is not limited', async () => {
    const byHeader = caller(rateLimit({ limit: 1, window: 60, key: { header: 'X-Api-Key' } })(okApp()));
    expect((await byHeader('/x', { headers: { 'x-api-key': 'k1' } })).status).toBe(200);
    expect((await byHeader('/x', { headers: { 'x-api-key': 'k1' } })).status).toBe(429);
    expect((await byHeader('/x', { headers: { 'x-api-key': 'k2' } })).status).toBe(200);
    expect((await byHeader('/x')).status).toBe(200);
    expect((await byHeader('/x')).status).toBe(200);
    const bySubject = rateLimit({ limit: 1, window: 60, key: 'subject' })(okApp());
    const as = (subject: string) => (environ: Environ) => {
      environ[AUTH_KEY] = { scheme: 'Bearer', subject, scopes: [] };
      return bySubject(environ);
    };
    expect((await caller(as('u1'))('/x')).status).toBe(200);
    expect((await caller(as('u1'))('/x')).status).toBe(429);
    expect((await caller(as('u2'))('/x')).status).toBe(200);
    const byPath = caller(
      rateLimit({ limit: 1, window: 60, key: (e) => e.PATH_INFO, policy: 'per-path', skip: (e) => e.PATH_INFO === '/healthz' })(okApp()),
    );
    expect((await byPath('/a')).status).toBe(200);
    expect((await byPath('/a')).headers.get('ratelimit-policy')).toBe('"per-path";q=1;w=60');
    expect((await byPath('/b')).status).toBe(200);
    expect((await byPath('/healthz')).status).toBe(200);
    expect((await byPath('/healthz')).status).toBe(200);
  });

  it('stays synchronous with the memory store, and fails open (logged) or closed when the store fails', async () => {
    const result = rateLimit({ limit: 5, window: 60 })(okApp())({ REMOTE_ADDR: '1.2.3.4', PATH_INFO: '/' } as Environ);
    expect(result).not.toBeInstanceOf(Promise);
    const broken = { hit: () => Promise.reject(new Error('store down')) };
    const errors = memoryErrors();
    expect((await caller(rateLimit({ limit: 1, window: 60, store: broken })(okApp()), { errors })('/x')).status).toBe(200);
    expect(errors.text()).toContain('store down');
    const closed = caller(rateLimit({ limit: 1, window: 60, store: broken, onStoreError: 'deny' })(okApp()));
    expect((await closed('/x')).status).toBe(503);
  });

  it('checks its options', () => {
    expect(() => rateLimit({ limit: 0, window: 60 })).toThrow(/limit/);
    expect(() => rateLimit({ limit: 1, window: 0 })).toThrow(/window/);
  });
});

/** An in-memory stand-in for a MongoDB collection: inserts fail on a duplicate `_id` (code 11000), each call takes a turn. */
function fakeCollection(): CounterCollection & { docs: Map<string, SlotDocument> } {
  const docs = new Map<string, SlotDocument>();
  const tick = () => new Promise((r) => setImmediate(r));
  return {
    docs,
    async countDocuments(filter: { w: string }) {
      await tick();
      return [...docs.values()].filter((doc) => doc.w === filter.w).length;
    },
    async insertOne(doc: SlotDocument) {
      await tick();
      if (docs.has(doc._id)) throw Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
      docs.set(doc._id, { ...doc });
    },
  };
}

describe('MongoRateLimitStore', () => {
  it('counts exactly under concurrent hits from several "hosts" sharing one collection', async () => {
    const collection = fakeCollection();
    const hosts = [new MongoRateLimitStore(collection), new MongoRateLimitStore(() => collection)];
    const hits = await Promise.all(Array.from({ length: 40 }, (_, i) => hosts[i % 2]!.hit('default:1.2.3.4', 60_000, 1)));
    expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(collection.docs.size).toBe(40);
    expect(new Set(hits.map((h) => h.resetAt)).size).toBe(1);
  });

  it('stops writing past the limit, and starts a new window when the clock enters one', async () => {
    const collection = fakeCollection();
    const store = new MongoRateLimitStore(collection);
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) counts.push((await store.hit('k', 60_000, 1, 3)).count);
    expect(counts).toEqual([1, 2, 3, 4, 4]);
    expect(collection.docs.size).toBe(3);
    const first = await store.hit('short', 50, 1);
    await new Promise((r) => setTimeout(r, 60));
    const next = await store.hit('short', 50, 1);
    expect(next.count).toBe(1);
    expect(next.resetAt).toBeGreaterThan(first.resetAt);
  });
});
