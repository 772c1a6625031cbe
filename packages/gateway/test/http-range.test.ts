import { contentRange, ifRangeMatches, parseRange } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

const MTIME = Date.parse('2024-03-04T05:06:07Z');
const DATE = 'Mon, 04 Mar 2024 05:06:07 GMT';

describe('parseRange', () => {
  it('parses first-last, open-ended and suffix ranges, clamping to the size', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual([{ start: 0, end: 99 }]);
    expect(parseRange('bytes=900-', 1000)).toEqual([{ start: 900, end: 999 }]);
    expect(parseRange('bytes=-100', 1000)).toEqual([{ start: 900, end: 999 }]);
    expect(parseRange('bytes=990-5000', 1000)).toEqual([{ start: 990, end: 999 }]);
    expect(parseRange('Bytes = 1 - 2', 1000)).toEqual([{ start: 1, end: 2 }]);
  });

  it('gives all of a representation shorter than a suffix (RFC 9110 §14.1.3)', () => {
    expect(parseRange('bytes=-5000', 1000)).toEqual([{ start: 0, end: 999 }]);
  });

  it('merges overlapping and adjacent ranges, keeps separate ones', () => {
    expect(parseRange('bytes=0-9,10-19,5-12', 100)).toEqual([{ start: 0, end: 19 }]);
    expect(parseRange('bytes=0-1,3-4', 100)).toEqual([
      { start: 0, end: 1 },
      { start: 3, end: 4 },
    ]);
  });

  it('reports unsatisfiable ranges', () => {
    for (const value of ['bytes=1000-', 'bytes=2000-3000', 'bytes=-0']) expect(parseRange(value, 1000), value).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=-10', 0)).toBe('unsatisfiable');
  });

  it('ignores other units and malformed headers, a reversed range included', () => {
    for (const value of ['items=0-4', 'bytes=abc', 'bytes=5-2', 'bytes=-', 'bytes=0-1-2', '0-4', 'bytes=0-1,x', 'bytes=1.5-2']) {
      expect(parseRange(value, 1000), value).toBeUndefined();
    }
  });
});

describe('ifRangeMatches', () => {
  it('allows the range without If-Range', () => {
    expect(ifRangeMatches(undefined, {})).toBe(true);
  });

  it('needs a strong ETag match', () => {
    expect(ifRangeMatches('"abc"', { etag: '"abc"' })).toBe(true);
    expect(ifRangeMatches('"abc"', { etag: 'W/"abc"' })).toBe(false);
    expect(ifRangeMatches('W/"abc"', { etag: 'W/"abc"' })).toBe(false);
    expect(ifRangeMatches('"x"', { etag: '"abc"' })).toBe(false);
  });

  it('needs a date equal to the modification time', () => {
    expect(ifRangeMatches(DATE, { lastModified: MTIME })).toBe(true);
    expect(ifRangeMatches('Mon, 04 Mar 2024 05:06:08 GMT', { lastModified: MTIME })).toBe(false);
    expect(ifRangeMatches(DATE, {})).toBe(false);
    expect(ifRangeMatches('garbage', { lastModified: MTIME })).toBe(false);
  });
});

describe('contentRange', () => {
  it('writes satisfied and unsatisfied ranges', () => {
    expect(contentRange(1000, { start: 0, end: 99 })).toBe('bytes 0-99/1000');
    expect(contentRange(1000)).toBe('bytes */1000');
  });
});
