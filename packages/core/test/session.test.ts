import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Session, SessionSigner } from '../src/session.js';

// Observe the comparison primitive while keeping its real behaviour.
const compare = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../src/hmac.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/hmac.js')>();
  return {
    ...actual,
    timingSafeEqual: (a: Uint8Array, b: Uint8Array) => {
      compare.calls++;
      return actual.timingSafeEqual(a, b);
    },
  };
});

afterEach(() => {
  vi.useRealTimers();
});

/** Replaces one character of a base64url segment by a different one. */
function flip(segment: string, index = 0): string {
  const c = segment[index] === 'A' ? 'B' : 'A';
  return segment.slice(0, index) + c + segment.slice(index + 1);
}

describe('Session', () => {
  it('starts new and empty without data', () => {
    const session = new Session();
    expect(session.isNew).toBe(true);
    expect(session.modified).toBe(false);
    expect(session.size).toBe(0);
    expect(session.toJSON()).toEqual({});
  });

  it('wraps decoded data without counting as modified', () => {
    const session = new Session({ user: 'ann', cart: [1, 2] });
    expect(session.isNew).toBe(false);
    expect(session.get('user')).toBe('ann');
    expect(session.get<number[]>('cart')).toEqual([1, 2]);
    expect(session.has('cart')).toBe(true);
    expect(session.has('missing')).toBe(false);
    expect(session.modified).toBe(false);
  });

  it('tracks set, delete and clear as modifications', () => {
    const a = new Session({ x: 1 });
    a.set('y', 2);
    expect(a.modified).toBe(true);
    expect(a.toJSON()).toEqual({ x: 1, y: 2 });

    const b = new Session({ x: 1 });
    expect(b.delete('nope')).toBe(false);
    expect(b.modified).toBe(false);
    expect(b.delete('x')).toBe(true);
    expect(b.modified).toBe(true);

    const c = new Session();
    c.clear();
    expect(c.modified).toBe(false);
    const d = new Session({ x: 1 });
    d.clear();
    expect(d.modified).toBe(true);
    expect(d.size).toBe(0);
  });

  it('treats setting undefined as delete, and markModified flags in-place changes', () => {
    const session = new Session({ x: 1, list: [] as number[] });
    session.set('x', undefined);
    expect(session.has('x')).toBe(false);
    const other = new Session({ list: [] as number[] });
    other.get<number[]>('list')!.push(1);
    expect(other.modified).toBe(false);
    other.markModified();
    expect(other.modified).toBe(true);
    expect(JSON.parse(JSON.stringify(other))).toEqual({ list: [1] });
  });

  it('starts a new session for decoded data that is not a plain object', () => {
    for (const data of [null, [1, 2], 'text', 3]) {
      const session = new Session(data);
      expect(session.isNew).toBe(true);
      expect(session.size).toBe(0);
    }
    expect(new Session({}).isNew).toBe(false);
  });

  it('lists keys and entries', () => {
    const session = new Session({ a: 1, b: 'two' });
    expect([...session.keys()]).toEqual(['a', 'b']);
    expect([...session.entries()]).toEqual([
      ['a', 1],
      ['b', 'two'],
    ]);
  });
});

describe('SessionSigner', () => {
  it('needs at least one non-empty key', () => {
    expect(() => new SessionSigner([])).toThrow(TypeError);
    expect(() => new SessionSigner([''])).toThrow(TypeError);
  });

  it('round-trips JSON data in a payload.timestamp.signature value', () => {
    const signer = new SessionSigner(['s3cret']);
    const data = { user: 'ann', n: 3, nested: { ok: true, list: [1, null, 'ü'] } };
    const value = signer.sign(data);
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString())).toEqual(data);
    expect(signer.unsign(value)).toEqual(data);
  });

  it('refuses values that cannot be serialized', () => {
    expect(() => new SessionSigner(['k']).sign(undefined)).toThrow(TypeError);
  });

  it('uses a key derived from the secret and salt, not the raw secret', () => {
    const value = new SessionSigner(['s3cret']).sign({ a: 1 });
    const [payload, timestamp, signature] = value.split('.') as [string, string, string];
    const rawMac = createHmac('sha256', 's3cret').update(`${payload}.${timestamp}`).digest('base64url');
    expect(signature).not.toBe(rawMac);
    const derived = createHmac('sha256', 's3cret').update('carafe.session').digest();
    expect(signature).toBe(createHmac('sha256', derived).update(`${payload}.${timestamp}`).digest('base64url'));
    // Another purpose (salt) does not accept it.
    expect(new SessionSigner(['s3cret'], { salt: 'other' }).unsign(value)).toBeUndefined();
  });

  it('rejects tampered payloads, timestamps and signatures', () => {
    const signer = new SessionSigner(['s3cret']);
    const value = signer.sign({ admin: false });
    const [payload, timestamp, signature] = value.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ admin: true })).toString('base64url');
    expect(signer.unsign(`${forged}.${timestamp}.${signature}`)).toBeUndefined();
    expect(signer.unsign(`${flip(payload, 2)}.${timestamp}.${signature}`)).toBeUndefined();
    expect(signer.unsign(`${payload}.${(parseInt(timestamp, 36) + 1).toString(36)}.${signature}`)).toBeUndefined();
    expect(signer.unsign(`${payload}.${timestamp}.${flip(signature, 5)}`)).toBeUndefined();
  });

  it('rejects malformed values without throwing', () => {
    const signer = new SessionSigner(['s3cret']);
    const good = signer.sign({ a: 1 });
    const [payload, timestamp, signature] = good.split('.') as [string, string, string];
    for (const bad of [
      '',
      'abc',
      'a.b',
      `${good}.extra`,
      `${payload}.${timestamp}.`,
      `${payload}..${signature}`,
      `${payload}.${timestamp}.${signature.slice(0, 20)}`,
      `${payload}.${timestamp}.${signature}AA`,
      `${payload}.TS.${signature}`,
      `p@yload.${timestamp}.${signature}`,
      42 as unknown as string,
    ]) {
      expect(signer.unsign(bad), String(bad)).toBeUndefined();
    }
  });

  it('accepts only the canonical spelling of a signature', () => {
    const signer = new SessionSigner(['s3cret']);
    const value = signer.sign({ a: 1 });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last of 43 characters carries 4 bits; its 2 low bits are padding that decoders ignore.
    const last = alphabet.indexOf(value.at(-1)!);
    const variant = value.slice(0, -1) + alphabet[last + 1];
    expect(Buffer.from(variant.split('.')[2]!, 'base64url')).toEqual(Buffer.from(value.split('.')[2]!, 'base64url'));
    expect(signer.unsign(variant)).toBeUndefined();
  });

  it('rejects a correctly signed payload that is not JSON', () => {
    const secret = 'k';
    const derived = createHmac('sha256', secret).update('carafe.session').digest();
    const payload = Buffer.from('{not json').toString('base64url');
    const signed = `${payload}.${(1).toString(36)}`;
    const value = `${signed}.${createHmac('sha256', derived).update(signed).digest('base64url')}`;
    expect(new SessionSigner([secret]).unsign(value)).toBeUndefined();
  });

  it('rotates keys: signs with the first, accepts old keys, rejects unknown ones', () => {
    const old = new SessionSigner(['old-key']);
    const oldValue = old.sign({ v: 'old' });
    const rotated = new SessionSigner(['new-key', 'old-key']);
    expect(rotated.unsign(oldValue)).toEqual({ v: 'old' });

    const newValue = rotated.sign({ v: 'new' });
    expect(new SessionSigner(['new-key']).unsign(newValue)).toEqual({ v: 'new' });
    expect(old.unsign(newValue)).toBeUndefined();
    expect(new SessionSigner(['other']).unsign(oldValue)).toBeUndefined();
    // Once the old key is dropped, its values stop working.
    expect(new SessionSigner(['new-key']).unsign(oldValue)).toBeUndefined();
  });

  it('expires values older than maxAgeSeconds', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    const signer = new SessionSigner(['s3cret']);
    const value = signer.sign({ a: 1 });
    vi.setSystemTime(new Date('2025-01-01T00:59:59Z'));
    expect(signer.unsign(value, { maxAgeSeconds: 3600 })).toEqual({ a: 1 });
    vi.setSystemTime(new Date('2025-01-01T01:00:01Z'));
    expect(signer.unsign(value, { maxAgeSeconds: 3600 })).toBeUndefined();
    expect(signer.unsign(value)).toEqual({ a: 1 });
  });

  it('compares signatures with timingSafeEqual, once per key, even after a match', () => {
    const signer = new SessionSigner(['current', 'old-1', 'old-2']);
    const value = signer.sign({ a: 1 });
    compare.calls = 0;
    expect(signer.unsign(value)).toEqual({ a: 1 });
    expect(compare.calls).toBe(3);
    compare.calls = 0;
    expect(signer.unsign(value.slice(0, -2) + (value.endsWith('AA') ? 'BA' : 'AA'))).toBeUndefined();
    expect(compare.calls).toBe(3);
  });
});

describe('cookies signed by the node:crypto signer (before core ran on fetch runtimes)', () => {
  // Made by SessionSigner as it was with node:crypto (createHmac, Buffer base64url), at 2026-01-15T12:00:00Z.
  const SIGNED_BY_NODE_CRYPTO = {
    current:
      'eyJ1c2VyIjoiYWRhIiwicm9sZXMiOlsiYWRtaW4iXSwiY2FydCI6WzEsMi41LG51bGxdLCJub3RlIjoiSsO8cmdlbiDimJUg8J-YgCIsIl9wZXJtYW5lbnQiOnRydWV9.t8wmo0.bOONM05w8ZDP71pGhArnf-9XdDljAXGskvK3ZW-eerM',
    old: 'eyJ1c2VyIjoiYm9iIn0.t8wmo0.A9NKcXsgWrLv94uUgtbFkw4ZvWy5l-uU9gV53DlrH-I',
    longKeyOtherSalt:
      'eyJjc3JmIjoieHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eCJ9.t8wmo0.7mZ_dsaoo9WFHvJdXHn8WihUXzYg3vB97l8us7NyomI',
  };

  it('verifies cookies the node:crypto signer made, and signs them byte for byte the same', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-15T12:00:00Z'));
    const signer = new SessionSigner(['a long random secret', 'an old secret']);
    const data = { user: 'ada', roles: ['admin'], cart: [1, 2.5, null], note: 'Jürgen ☕ 😀', _permanent: true };
    expect(signer.unsign(SIGNED_BY_NODE_CRYPTO.current)).toEqual(data);
    expect(signer.unsign(SIGNED_BY_NODE_CRYPTO.old)).toEqual({ user: 'bob' });
    expect(signer.sign(data)).toBe(SIGNED_BY_NODE_CRYPTO.current);
    const salted = new SessionSigner(['k'.repeat(100)], { salt: 'other.purpose' });
    expect(salted.unsign(SIGNED_BY_NODE_CRYPTO.longKeyOtherSalt)).toEqual({ csrf: 'x'.repeat(70) });
    expect(salted.sign({ csrf: 'x'.repeat(70) })).toBe(SIGNED_BY_NODE_CRYPTO.longKeyOtherSalt);
  });

  it('agrees with the node:crypto signer both ways on random secrets, salts and data', () => {
    /** The signer as it was: HMAC-SHA256 from node:crypto, base64url from Buffer. */
    const nodeSign = (secret: string, salt: string, data: unknown, time: number) => {
      const key = createHmac('sha256', secret).update(salt).digest();
      const signed = `${Buffer.from(JSON.stringify(data), 'utf8').toString('base64url')}.${time.toString(36)}`;
      return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
    };
    const nodeVerify = (secret: string, salt: string, value: string) => {
      const [payload, timestamp, signature] = value.split('.') as [string, string, string];
      const key = createHmac('sha256', secret).update(salt).digest();
      const expected = createHmac('sha256', key).update(`${payload}.${timestamp}`).digest('base64url');
      return expected === signature ? JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) : undefined;
    };
    /** `n` random code points: ASCII to astral, no surrogates. */
    const text = (n: number) =>
      Array.from({ length: n }, () => {
        const point = Math.floor(Math.random() * 0x2f800);
        return String.fromCodePoint(point < 0xd800 ? point : point + 0x800);
      }).join('');
    vi.useFakeTimers();
    for (let i = 0; i < 300; i++) {
      const secret = text(1 + Math.floor(Math.random() * 90));
      const salt = i % 2 ? 'carafe.session' : text(Math.floor(Math.random() * 20));
      const data = { user: text(Math.floor(Math.random() * 40)), n: Math.random(), list: [i, text(5), null, true] };
      const time = 1_700_000_000 + i * 7919;
      vi.setSystemTime(time * 1000);
      const signer = new SessionSigner([secret], { salt });
      const fromNode = nodeSign(secret, salt, data, time);
      expect(signer.unsign(fromNode)).toEqual(data);
      expect(signer.sign(data)).toBe(fromNode);
      expect(nodeVerify(secret, salt, signer.sign(data))).toEqual(data);
    }
  });
});
