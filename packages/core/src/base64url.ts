/**
 * base64url without padding (RFC 4648 §5), without `Buffer`: the encoding of the signed session
 * cookie. Decodes as Node's `Buffer.from(text, 'base64url')` does: trailing bits that make no whole
 * byte are dropped.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/** `bytes` in base64url, without padding. */
export function encodeBase64url(bytes: Uint8Array): string {
  let out = '';
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - whole;
  if (rest === 1) {
    const n = bytes[whole]!;
    out += ALPHABET[n >>> 2]! + ALPHABET[(n & 3) << 4]!;
  } else if (rest === 2) {
    const n = (bytes[whole]! << 8) | bytes[whole + 1]!;
    out += ALPHABET[n >>> 10]! + ALPHABET[(n >>> 4) & 63]! + ALPHABET[(n & 15) << 2]!;
  }
  return out;
}

/** The bytes of base64url `text` (padding allowed), or `undefined` if it holds another character. */
export function decodeBase64url(text: string): Uint8Array | undefined {
  let length = text.length;
  while (length > 0 && text.charCodeAt(length - 1) === 0x3d) length--; // '='
  const out = new Uint8Array(Math.floor((length * 6) / 8));
  let bits = 0;
  let buffer = 0;
  let at = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? VALUES[code]! : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = buffer >>> bits;
    }
  }
  return out;
}
