import {
  evaluateConditions,
  fileETag,
  httpDate,
  isFresh,
  parseETagList,
  parseHttpDate,
  preconditionFailed,
  strongMatch,
  weakMatch,
  type Validators,
} from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

const MTIME = Date.parse('2024-03-04T05:06:07Z');
const DATE = 'Mon, 04 Mar 2024 05:06:07 GMT';
const BEFORE = 'Mon, 04 Mar 2024 05:06:06 GMT';
const AFTER = 'Tue, 05 Mar 2024 00:00:00 GMT';
const WEAK: Validators = { etag: 'W/"abc"', lastModified: MTIME };
const STRONG: Validators = { etag: '"abc"', lastModified: MTIME };

function headers(values: Record<string, string>) {
  const lower = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return (name: string) => lower[name.toLowerCase()];
}

describe('validators', () => {
  it('makes weak or strong ETags from size and mtime', () => {
    expect(fileETag({ size: 255, mtimeMs: 4096.7 })).toBe('W/"ff-1000"');
    expect(fileETag({ size: 255, mtimeMs: 4096.7 }, 'strong')).toBe('"ff-1000"');
  });

  it('formats and parses the three HTTP-date forms, and nothing else', () => {
    expect(httpDate(MTIME)).toBe(DATE);
    expect(parseHttpDate(DATE)).toBe(MTIME);
    expect(parseHttpDate('Monday, 04-Mar-24 05:06:07 GMT')).toBe(MTIME);
    expect(parseHttpDate('Mon Mar  4 05:06:07 2024')).toBe(MTIME); // asctime is GMT, not local time
    for (const bad of ['2024-03-04', 'not a date', '', 'Mon, 04 Mar 2024 05:06:07 +0100']) expect(parseHttpDate(bad), bad).toBeNaN();
  });

  it('parses entity-tag lists, commas inside tags included', () => {
    expect(parseETagList(' * ')).toBe('*');
    expect(parseETagList('"a", W/"b" ,"c,d"')).toEqual(['"a"', 'W/"b"', '"c,d"']);
    expect(parseETagList('unquoted')).toEqual([]);
  });

  it('compares weakly and strongly (RFC 9110 §8.8.3.2)', () => {
    expect(weakMatch('W/"1"', '"1"')).toBe(true);
    expect(weakMatch('W/"1"', 'W/"2"')).toBe(false);
    expect(strongMatch('"1"', '"1"')).toBe(true);
    expect(strongMatch('W/"1"', 'W/"1"')).toBe(false);
    expect(strongMatch('"1"', 'W/"1"')).toBe(false);
  });
});

describe('isFresh (If-None-Match, If-Modified-Since)', () => {
  it('matches If-None-Match weakly, or *', () => {
    for (const value of ['W/"abc"', '"abc"', '"x", W/"abc"', '*'])
      expect(isFresh(headers({ 'If-None-Match': value }), WEAK), value).toBe(true);
    expect(isFresh(headers({ 'If-None-Match': '"x"' }), WEAK)).toBe(false);
    expect(isFresh(headers({ 'If-None-Match': '"abc"' }), { lastModified: MTIME })).toBe(false);
  });

  it('lets If-None-Match decide alone when present', () => {
    expect(isFresh(headers({ 'If-None-Match': '"x"', 'If-Modified-Since': AFTER }), WEAK)).toBe(false);
  });

  it('compares If-Modified-Since with the modification time', () => {
    expect(isFresh(headers({ 'If-Modified-Since': DATE }), WEAK)).toBe(true);
    expect(isFresh(headers({ 'If-Modified-Since': AFTER }), WEAK)).toBe(true);
    expect(isFresh(headers({ 'If-Modified-Since': BEFORE }), WEAK)).toBe(false);
    expect(isFresh(headers({ 'If-Modified-Since': 'garbage' }), WEAK)).toBe(false);
    expect(isFresh(headers({ 'If-Modified-Since': AFTER }), { etag: '"abc"' })).toBe(false);
    expect(isFresh(headers({}), WEAK)).toBe(false);
  });
});

describe('preconditionFailed (If-Match, If-Unmodified-Since)', () => {
  it('needs a strong match for If-Match; * always passes', () => {
    expect(preconditionFailed(headers({ 'If-Match': '"abc"' }), STRONG)).toBe(false);
    expect(preconditionFailed(headers({ 'If-Match': '"x", "abc"' }), STRONG)).toBe(false);
    expect(preconditionFailed(headers({ 'If-Match': '"x"' }), STRONG)).toBe(true);
    expect(preconditionFailed(headers({ 'If-Match': 'W/"abc"' }), WEAK)).toBe(true);
    expect(preconditionFailed(headers({ 'If-Match': '"abc"' }), WEAK)).toBe(true);
    expect(preconditionFailed(headers({ 'If-Match': '*' }), WEAK)).toBe(false);
    expect(preconditionFailed(headers({ 'If-Match': '"abc"' }), {})).toBe(true);
  });

  it('fails If-Unmodified-Since when modified after the date; ignores invalid dates', () => {
    expect(preconditionFailed(headers({ 'If-Unmodified-Since': BEFORE }), WEAK)).toBe(true);
    expect(preconditionFailed(headers({ 'If-Unmodified-Since': DATE }), WEAK)).toBe(false);
    expect(preconditionFailed(headers({ 'If-Unmodified-Since': 'garbage' }), WEAK)).toBe(false);
    expect(preconditionFailed(headers({ 'If-Unmodified-Since': BEFORE }), { etag: '"abc"' })).toBe(false);
  });

  it('ignores If-Unmodified-Since when If-Match is present', () => {
    expect(preconditionFailed(headers({ 'If-Match': '"abc"', 'If-Unmodified-Since': BEFORE }), STRONG)).toBe(false);
  });
});

describe('evaluateConditions (RFC 9110 §13.2.2 order)', () => {
  it('answers 412 before 304', () => {
    expect(evaluateConditions('GET', headers({ 'If-Match': '"x"', 'If-None-Match': '*' }), STRONG)).toBe('precondition-failed');
    expect(evaluateConditions('GET', headers({ 'If-Unmodified-Since': BEFORE, 'If-None-Match': '"abc"' }), STRONG)).toBe(
      'precondition-failed',
    );
    expect(evaluateConditions('HEAD', headers({ 'If-Match': '"abc"', 'If-None-Match': '"abc"' }), STRONG)).toBe('not-modified');
    expect(evaluateConditions('GET', headers({}), STRONG)).toBe('proceed');
  });

  it('turns a matching If-None-Match into 412 for other methods, and skips If-Modified-Since for them', () => {
    expect(evaluateConditions('PUT', headers({ 'If-None-Match': '*' }), STRONG)).toBe('precondition-failed');
    expect(evaluateConditions('PUT', headers({ 'If-None-Match': '"x"' }), STRONG)).toBe('proceed');
    expect(evaluateConditions('POST', headers({ 'If-Modified-Since': AFTER }), STRONG)).toBe('proceed');
  });
});
