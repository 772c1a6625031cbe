import { describe, expect, it } from 'vitest';
import { parseCookies, serializeCookie } from '../src/cookies.js';

describe('parseCookies', () => {
  it('returns an empty record for a missing or empty header', () => {
    expect(parseCookies(undefined)).toEqual({});
    expect(parseCookies('')).toEqual({});
  });

  it('parses pairs, trimming whitespace around names and values', () => {
    expect(parseCookies('a=1; b = two ;c=3')).toEqual({ a: '1', b: 'two', c: '3' });
  });

  it('keeps the first occurrence of a repeated name', () => {
    expect(parseCookies('sid=first; sid=second')).toEqual({ sid: 'first' });
  });

  it('skips pairs without "=" and pairs with an empty name', () => {
    expect(parseCookies('flag; =orphan; ok=1;;')).toEqual({ ok: '1' });
  });

  it('splits at the first "=" only', () => {
    expect(parseCookies('token=a=b=c')).toEqual({ token: 'a=b=c' });
  });

  it('removes one pair of surrounding double quotes', () => {
    expect(parseCookies('q="quoted value"; lone="')).toEqual({ q: 'quoted value', lone: '"' });
  });

  it('percent-decodes values and keeps undecodable ones as sent', () => {
    expect(parseCookies('name=J%C3%BCrgen%20K; bad=%E0%A4%A; pct=100%')).toEqual({
      name: 'Jürgen K',
      bad: '%E0%A4%A',
      pct: '100%',
    });
  });

  it('allows empty values and does not trip over prototype names', () => {
    const cookies = parseCookies('empty=; __proto__=x; constructor=y');
    expect(cookies.empty).toBe('');
    expect(cookies['__proto__']).toBe('x');
    expect(cookies.constructor).toBe('y');
    expect(Object.keys(cookies)).toEqual(['empty', '__proto__', 'constructor']);
  });
});

describe('serializeCookie', () => {
  it('serializes a bare name=value', () => {
    expect(serializeCookie('sid', 'abc123')).toBe('sid=abc123');
  });

  it('percent-encodes the value so parseCookies round-trips it', () => {
    const header = serializeCookie('msg', 'héllo; world=1,"x"');
    expect(header).toBe('msg=h%C3%A9llo%3B%20world%3D1%2C%22x%22');
    expect(parseCookies(header)).toEqual({ msg: 'héllo; world=1,"x"' });
  });

  it('writes every attribute', () => {
    const expires = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(
      serializeCookie('sid', 'v', {
        maxAge: 3600,
        domain: 'example.com',
        path: '/app',
        expires,
        httpOnly: true,
        secure: true,
        partitioned: true,
        sameSite: 'None',
      }),
    ).toBe(
      'sid=v; Max-Age=3600; Domain=example.com; Path=/app; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; Partitioned; SameSite=None',
    );
  });

  it('writes SameSite Strict and Lax, and a zero or negative Max-Age', () => {
    expect(serializeCookie('a', '1', { sameSite: 'Strict' })).toBe('a=1; SameSite=Strict');
    expect(serializeCookie('a', '1', { sameSite: 'Lax', maxAge: 0 })).toBe('a=1; Max-Age=0; SameSite=Lax');
    expect(serializeCookie('a', '', { maxAge: -1 })).toBe('a=; Max-Age=-1');
  });

  it('omits false flags', () => {
    expect(serializeCookie('a', '1', { httpOnly: false, secure: false, partitioned: false })).toBe('a=1');
  });

  it('uses a custom encoder and validates its output', () => {
    expect(serializeCookie('a', 'x.y-z', { encode: (v) => v })).toBe('a=x.y-z');
    expect(() => serializeCookie('a', 'has space', { encode: (v) => v })).toThrow(TypeError);
    expect(() => serializeCookie('a', 'semi;colon', { encode: (v) => v })).toThrow(TypeError);
  });

  it('rejects an invalid name', () => {
    for (const name of ['', 'a b', 'a;b', 'a=b', 'a,b', 'ümlaut', 'a\tb']) {
      expect(() => serializeCookie(name, 'v'), name).toThrow(TypeError);
    }
  });

  it('rejects a value that cannot be encoded (lone surrogate)', () => {
    expect(() => serializeCookie('a', '\uD800')).toThrow(TypeError);
  });

  it('rejects invalid attributes', () => {
    expect(() => serializeCookie('a', '1', { maxAge: 1.5 })).toThrow(/maxAge/);
    expect(() => serializeCookie('a', '1', { maxAge: Number.NaN })).toThrow(/maxAge/);
    expect(() => serializeCookie('a', '1', { expires: new Date('nope') })).toThrow(/expires/);
    expect(() => serializeCookie('a', '1', { path: '/a;b' })).toThrow(/path/);
    expect(() => serializeCookie('a', '1', { path: '/a\nb' })).toThrow(/path/);
    expect(() => serializeCookie('a', '1', { domain: 'exa mple.com' })).toThrow(/domain/);
    expect(() => serializeCookie('a', '1', { domain: 'example.com; Secure' })).toThrow(/domain/);
    expect(() => serializeCookie('a', '1', { sameSite: 'lax' as 'Lax' })).toThrow(/SameSite/);
  });

  it('requires Secure for SameSite=None and Partitioned', () => {
    expect(() => serializeCookie('a', '1', { sameSite: 'None' })).toThrow(/requires Secure/);
    expect(() => serializeCookie('a', '1', { partitioned: true })).toThrow(/requires Secure/);
    expect(serializeCookie('a', '1', { sameSite: 'None', secure: true })).toBe('a=1; Secure; SameSite=None');
  });

  it('enforces the __Secure- and __Host- prefix rules', () => {
    expect(() => serializeCookie('__Secure-id', '1')).toThrow(TypeError);
    expect(serializeCookie('__Secure-id', '1', { secure: true })).toBe('__Secure-id=1; Secure');
    expect(() => serializeCookie('__Host-id', '1', { secure: true })).toThrow(TypeError);
    expect(() => serializeCookie('__Host-id', '1', { secure: true, path: '/', domain: 'example.com' })).toThrow(TypeError);
    expect(serializeCookie('__Host-id', '1', { secure: true, path: '/' })).toBe('__Host-id=1; Path=/; Secure');
  });

  it('accepts a leading-dot domain and an empty value (as used to clear a cookie)', () => {
    expect(serializeCookie('a', '', { domain: '.example.com', maxAge: 0, expires: new Date(0) })).toBe(
      'a=; Max-Age=0; Domain=.example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
  });
});
