/** UTF-8 sizes without `Buffer`, for the modules that must run on any runtime. */

/** The number of bytes `text` takes as UTF-8 (lone surrogates count as U+FFFD, 3 bytes, as `TextEncoder` writes them). */
export function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) length += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 2; // a surrogate pair: 4 bytes for 2 code units
      i++;
    } else length += 2;
  }
  return length;
}
