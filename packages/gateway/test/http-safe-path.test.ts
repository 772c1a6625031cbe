import { resolve, sep } from 'node:path';
import { isInside, resolveUnder } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('/srv/www');

describe('resolveUnder', () => {
  it('maps URL paths under the root, slashes and dots included', () => {
    expect(resolveUnder(ROOT, '/css/site.css')).toBe(`${ROOT}${sep}css${sep}site.css`);
    expect(resolveUnder(ROOT, '//etc/passwd')).toBe(`${ROOT}${sep}etc${sep}passwd`);
    expect(resolveUnder(ROOT, '/./a/./b')).toBe(`${ROOT}${sep}a${sep}b`);
    expect(resolveUnder(ROOT, '')).toBe(ROOT);
    expect(resolveUnder(`${ROOT}/`, '/x')).toBe(`${ROOT}${sep}x`);
  });

  it('refuses .. segments, backslashes and NUL', () => {
    for (const bad of ['/../etc/passwd', '/a/../../b', '/a/..', '..', '/..\\secret', '/a\\b', '/a\0.txt']) {
      expect(resolveUnder(ROOT, bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('allows names that merely contain dots', () => {
    expect(resolveUnder(ROOT, '/a..b/..c')).toBe(`${ROOT}${sep}a..b${sep}..c`);
  });
});

describe('isInside', () => {
  it('compares whole path segments', () => {
    expect(isInside(ROOT, ROOT)).toBe(true);
    expect(isInside(ROOT, `${ROOT}${sep}a`)).toBe(true);
    expect(isInside(ROOT, `${ROOT}-old${sep}a`)).toBe(false);
    expect(isInside(resolve('/'), resolve('/etc'))).toBe(true);
  });
});
