/**
 * The pure-JavaScript SHA-256, HMAC-SHA256 and base64url behind the signed session cookie
 * (src/hmac.ts, src/base64url.ts), checked against node:crypto and Buffer on many random vectors:
 * cookies signed by the node:crypto implementation they replaced must keep verifying.
 */
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64url, encodeBase64url } from '../src/base64url.js';
import { HmacSha256, sha256, timingSafeEqual } from '../src/hmac.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
/** Every length around the block edges (55/56 and 63/64 bytes decide one or two padding blocks), then random ones. */
const LENGTHS = [...Array.from({ length: 200 }, (_, i) => i), 1000, 4096, 65_537];

/** A random string: ASCII, Latin-1, BMP, astral characters and, sometimes, a lone surrogate. */
function randomText(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    const kind = randomInt(10);
    if (kind < 5) text += String.fromCharCode(randomInt(0x20, 0x7f));
    else if (kind < 7) text += String.fromCharCode(randomInt(0x80, 0x800));
    else if (kind < 8) text += String.fromCharCode(randomInt(0x800, 0xd800));
    else if (kind < 9) text += String.fromCodePoint(randomInt(0x10000, 0x110000));
    else text += String.fromCharCode(randomInt(0xd800, 0xe000));
  }
  return text;
}

describe('sha256', () => {
  it('is node:crypto’s SHA-256 for every length around the block edges and for random data', () => {
    for (const length of LENGTHS) {
      const data = randomBytes(length);
      expect(hex(sha256(data)), `${length} bytes`).toBe(createHash('sha256').update(data).digest('hex'));
    }
    for (let i = 0; i < 500; i++) {
      const data = randomBytes(randomInt(0, 600));
      expect(hex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('gives the FIPS 180-4 test vectors', () => {
    const ascii = (text: string) => new TextEncoder().encode(text);
    expect(hex(sha256(ascii('')))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256(ascii('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });
});

describe('HmacSha256', () => {
  it('is node:crypto’s HMAC-SHA256 for random keys (short, one block, longer than a block) and messages', () => {
    for (let i = 0; i < 2000; i++) {
      const key = randomBytes([0, 1, 32, 63, 64, 65, 100, 200][i % 8]! + (i % 3));
      const data = randomBytes(randomInt(0, 400));
      const mac = new HmacSha256(key);
      expect(hex(mac.digest(data)), `key ${key.length} bytes, data ${data.length} bytes`).toBe(
        createHmac('sha256', key).update(data).digest('hex'),
      );
    }
  });

  it('takes strings as UTF-8, as node:crypto does (a lone surrogate as U+FFFD)', () => {
    for (let i = 0; i < 1000; i++) {
      const key = randomText(randomInt(1, 90));
      const data = randomText(randomInt(0, 150));
      expect(hex(new HmacSha256(key).digest(data))).toBe(createHmac('sha256', key).update(data).digest('hex'));
    }
  });

  it('gives the same MAC on every call (the precomputed states are not changed)', () => {
    const mac = new HmacSha256('secret');
    const first = hex(mac.digest('payload.timestamp'));
    mac.digest(randomBytes(300));
    expect(hex(mac.digest('payload.timestamp'))).toBe(first);
  });

  it('gives the RFC 4231 test vectors', () => {
    const bytes = (hexText: string) => new Uint8Array(Buffer.from(hexText, 'hex'));
    expect(hex(new HmacSha256(bytes('0b'.repeat(20))).digest('Hi There'))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hex(new HmacSha256('Jefe').digest('what do ya want for nothing?'))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(hex(new HmacSha256(bytes('aa'.repeat(131))).digest('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });
});

describe('timingSafeEqual', () => {
  it('compares bytes, and answers false for different lengths', () => {
    const a = randomBytes(32);
    expect(timingSafeEqual(a, Uint8Array.from(a))).toBe(true);
    for (let i = 0; i < 32; i++) {
      const b = Uint8Array.from(a);
      b[i]! ^= 1 << (i % 8);
      expect(timingSafeEqual(a, b)).toBe(false);
    }
    expect(timingSafeEqual(a, a.subarray(0, 31))).toBe(false);
    expect(timingSafeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});

describe('base64url', () => {
  it('encodes as Buffer does, without padding', () => {
    for (const length of LENGTHS.slice(0, 100)) {
      const data = randomBytes(length);
      expect(encodeBase64url(data)).toBe(data.toString('base64url'));
    }
  });

  it('decodes as Buffer does, non-canonical trailing bits and padding included', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < 3000; i++) {
      let text = '';
      for (let n = randomInt(0, 60); n > 0; n--) text += alphabet[randomInt(64)];
      if (i % 5 === 0) text += '='.repeat(randomInt(1, 3));
      expect(hex(decodeBase64url(text)!), text).toBe(Buffer.from(text, 'base64url').toString('hex'));
    }
  });

  it('refuses characters outside the alphabet', () => {
    for (const text of ['ab+c', 'ab/c', 'a b', 'ab.c', 'é', 'a=b']) expect(decodeBase64url(text), text).toBeUndefined();
  });
});
