/**
 * `req.query`'s parser (src/query.ts) against Node's `querystring.parse`, which it replaces so
 * that core needs no `node:querystring`: the same object for every query a client sends (ASCII,
 * as HTTP request targets are), malformed escapes and the 1000-pair limit included.
 */
import { parse } from 'node:querystring';
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../src/query.js';

/** What `req.query` was: querystring's result copied into a plain object. */
const reference = (query: string) => ({ ...parse(query) });
/** Own entries in order, so that key order and `__proto__` count. */
const entries = (value: object) => Object.entries(value);

describe('parseQuery', () => {
  it('is querystring.parse on the cases that matter', () => {
    const cases = [
      '',
      'a=1',
      'a=1&b=2',
      'a=1&a=2&a=3',
      'a',
      'a=',
      '=a',
      '=',
      '==',
      'a==b',
      '&',
      '&&',
      '&a=1&&b=2&',
      'a+b=c+d',
      'q=tea%20%26%20cake',
      '%2B=%2B',
      'x=%C3%A9',
      'k=%F0%9F%98%80',
      'bad=%ZZ',
      'half=%2',
      'pct=%',
      'notutf8=%FF%FE',
      'surrogate=%ED%A0%80',
      'nul=%00',
      '?a=1',
      '??a=1',
      'a=1;b=2',
      '__proto__=x',
      'constructor=y&toString=z',
      'a[]=1&a[]=2',
      'a=b=c',
      'é=ü',
      'Ã©=1',
    ];
    for (const query of cases) expect(entries(parseQuery(query)), query).toEqual(entries(reference(query)));
  });

  it('is querystring.parse on random queries', () => {
    const pieces = [
      'a',
      'b',
      'k',
      '=',
      '=',
      '&',
      '&',
      '+',
      '%',
      '2',
      '0',
      'E',
      '9',
      'F',
      '?',
      ';',
      '__proto__',
      '%C3',
      '%A9',
      '%ZZ',
      '%F0%9F',
      '%2B',
      '%26',
      '%3D',
      '%FF',
      ' ',
    ];
    for (let i = 0; i < 20_000; i++) {
      let query = '';
      for (let n = randomInt(0, 24); n > 0; n--) query += pieces[randomInt(pieces.length)];
      expect(entries(parseQuery(query)), JSON.stringify(query)).toEqual(entries(reference(query)));
    }
  });

  it('reads the first 1000 pairs only, as querystring does (empty pairs count)', () => {
    for (const count of [999, 1000, 1001, 2500]) {
      for (const prefix of ['', '&&', '?', '?&']) {
        const query = prefix + Array.from({ length: count }, (_, i) => `k${i % 700}=${i}`).join('&');
        expect(entries(parseQuery(query)), `${prefix}${count}`).toEqual(entries(reference(query)));
      }
    }
  });

  it('gives a plain object with arrays for repeated keys, and __proto__ as an own key', () => {
    const query = parseQuery('tag=a&tag=b&__proto__=x&q=1');
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
    expect(query).toEqual({ tag: ['a', 'b'], q: '1', ['__proto__']: 'x' });
    expect(Object.hasOwn(query, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
