/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) in plain JavaScript, synchronous, for the signed
 * session cookie on every runtime: `req.session` is synchronous and Web Crypto is not, and workerd
 * has no `node:crypto` without Node.js compatibility. A key's inner and outer states are computed
 * once, so a MAC over a cookie costs three or four block compressions (about as long as
 * node:crypto's `createHmac`, whose per-call setup dominates at these sizes). Checked against
 * node:crypto on random keys and messages (test/hmac.test.ts).
 */

// biome-ignore format: the FIPS 180-4 table, eight to a row
const K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);

const IV = Int32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);

const BLOCK = 64;
/** The message schedule, reused: every call runs to completion synchronously. */
const W = new Int32Array(64);
/** The padded last block(s) of a message. */
const TAIL = new Uint8Array(2 * BLOCK);

/** Folds the 64-byte block of `bytes` at `offset` into the state `h`. */
function compress(h: Int32Array, bytes: Uint8Array, offset: number): void {
  const w = W;
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = h[0]!,
    b = h[1]!,
    c = h[2]!,
    d = h[3]!,
    e = h[4]!,
    f = h[5]!,
    g = h[6]!,
    k = h[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + k) | 0;
}

/**
 * The digest of `data` hashed on from `start`, the state after `before` bytes (whole blocks) were
 * already hashed: the IV and 0 for a plain SHA-256.
 */
function finish(start: Int32Array, before: number, data: Uint8Array): Uint8Array {
  const h = start.slice();
  const whole = data.length - (data.length % BLOCK);
  for (let offset = 0; offset < whole; offset += BLOCK) compress(h, data, offset);
  const rest = data.length - whole;
  const tail = TAIL;
  tail.fill(0);
  tail.set(data.subarray(whole), 0);
  tail[rest] = 0x80;
  const end = rest + 9 > BLOCK ? 2 * BLOCK : BLOCK;
  const bits = (before + data.length) * 8; // exact below 2^53
  const high = Math.floor(bits / 0x100000000);
  const low = bits >>> 0;
  tail[end - 8] = high >>> 24;
  tail[end - 7] = high >>> 16;
  tail[end - 6] = high >>> 8;
  tail[end - 5] = high;
  tail[end - 4] = low >>> 24;
  tail[end - 3] = low >>> 16;
  tail[end - 2] = low >>> 8;
  tail[end - 1] = low;
  compress(h, tail, 0);
  if (end > BLOCK) compress(h, tail, BLOCK);
  const digest = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const word = h[i]!;
    digest[i * 4] = word >>> 24;
    digest[i * 4 + 1] = word >>> 16;
    digest[i * 4 + 2] = word >>> 8;
    digest[i * 4 + 3] = word;
  }
  return digest;
}

/** The SHA-256 digest of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  return finish(IV, 0, data);
}

const encoder = new TextEncoder();

/** `text` as UTF-8 bytes (lone surrogates as U+FFFD, as node:crypto hashes a string). */
export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** An HMAC-SHA256 key, its inner and outer states computed once. */
export class HmacSha256 {
  readonly #inner: Int32Array;
  readonly #outer: Int32Array;

  /** @param key The key: bytes, or a string taken as UTF-8 (as node:crypto's `createHmac` does). */
  constructor(key: Uint8Array | string) {
    let bytes = typeof key === 'string' ? utf8Bytes(key) : key;
    if (bytes.length > BLOCK) bytes = sha256(bytes);
    const pad = new Uint8Array(BLOCK);
    pad.set(bytes);
    for (let i = 0; i < BLOCK; i++) pad[i]! ^= 0x36;
    this.#inner = IV.slice();
    compress(this.#inner, pad, 0);
    for (let i = 0; i < BLOCK; i++) pad[i]! ^= 0x36 ^ 0x5c;
    this.#outer = IV.slice();
    compress(this.#outer, pad, 0);
  }

  /** The MAC of `data` (32 bytes); a string is taken as UTF-8. */
  digest(data: Uint8Array | string): Uint8Array {
    const inner = finish(this.#inner, BLOCK, typeof data === 'string' ? utf8Bytes(data) : data);
    return finish(this.#outer, BLOCK, inner);
  }
}

/**
 * Whether two byte arrays are equal, in a time that depends only on their lengths (like
 * node:crypto's `timingSafeEqual`, but answering `false` for different lengths instead of throwing).
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
