/**
 * The request-head rules of RFC 9110/9112 the binding checks itself (src/request-rules.ts), and the
 * stricter `splitHost` they use, case by case. End to end they are covered by the conformance
 * corpus (test/conformance/corpus.ts, run against createServer in conformance.test.ts).
 */
import { splitHost } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';
import {
  RequestRefused,
  checkRepeated,
  checkTransferEncoding,
  checkVersion,
  hostOf,
  otherTarget,
  splitAbsoluteTarget,
} from '../src/request-rules.js';

function refusal(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof RequestRefused) return error.status;
    throw error;
  }
  return undefined;
}

describe('splitHost (RFC 3986 §3.2.2)', () => {
  it('accepts reg-names with sub-delims and pct-encoding, IPv4, IPv6 with a zone, IPvFuture', () => {
    expect(splitHost('0.0.0.0=5000')).toEqual({ name: '0.0.0.0=5000', port: undefined });
    expect(splitHost('ex%41mple.com:81')).toEqual({ name: 'ex%41mple.com', port: '81' });
    expect(splitHost('[fe80::1%25eth0]')).toEqual({ name: '[fe80::1%25eth0]', port: undefined });
    expect(splitHost('[v1.fe:80]:8080')).toEqual({ name: '[v1.fe:80]', port: '8080' });
    expect(splitHost('[::ffff:127.0.0.1]')).toEqual({ name: '[::ffff:127.0.0.1]', port: undefined });
  });

  it('refuses what a host cannot hold', () => {
    for (const bad of [
      'exa mple.com',
      'example.com/evil',
      'user@example.com',
      'ex%zzample',
      'ex%4',
      'a\tb',
      'a"b',
      '[::1]]',
      '[]',
      '[zz::1]',
      '[1.2.3.4]',
      '[fe80::1%eth0]',
      '[v1]',
    ]) {
      expect(splitHost(bad), bad).toBeUndefined();
    }
  });
});

describe('the request line', () => {
  it('takes HTTP/1.x only: 505 for another major version, 400 for 0.9', () => {
    expect(refusal(() => checkVersion(1, 1))).toBeUndefined();
    expect(refusal(() => checkVersion(1, 0))).toBeUndefined();
    expect(refusal(() => checkVersion(2, 0))).toBe(505);
    expect(refusal(() => checkVersion(0, 9))).toBe(400);
  });

  it('splits an absolute-form target, taking the port from its scheme', () => {
    expect(splitAbsoluteTarget('http://example.com:8080/p?q')).toEqual({
      authority: 'example.com:8080',
      host: { name: 'example.com', port: '8080' },
      scheme: 'http',
      rest: '/p?q',
    });
    expect(splitAbsoluteTarget('HTTPS://example.com?x=1')).toMatchObject({ scheme: 'https', rest: '/?x=1' });
    expect(splitAbsoluteTarget('http://example.com')).toMatchObject({ rest: '/' });
    for (const bad of ['http:///p', 'http://u@h/', 'ftp://h/', 'http:/h/', 'httpx://h/', 'http://[::1/'])
      expect(splitAbsoluteTarget(bad), bad).toBeUndefined();
  });

  it('takes "*" with OPTIONS only, and nothing else that is not a path or an http(s) URI', () => {
    expect(otherTarget('*', 'OPTIONS')).toEqual({ absolute: undefined, rest: '' });
    expect(refusal(() => otherTarget('*', 'GET'))).toBe(400);
    expect(refusal(() => otherTarget('example.com:443', 'GET'))).toBe(400);
  });
});

describe('header fields', () => {
  it('requires one valid Host on HTTP/1.1; an empty one names no host', () => {
    expect(hostOf('example.com:81', 1)).toEqual({ name: 'example.com', port: '81' });
    expect(hostOf('', 1)).toBeUndefined();
    expect(hostOf(undefined, 0)).toBeUndefined();
    expect(refusal(() => hostOf(undefined, 1))).toBe(400);
    expect(refusal(() => hostOf('exa mple.com', 1))).toBe(400);
    expect(refusal(() => checkRepeated('HTTP_HOST', 'a', 'a'))).toBe(400);
  });

  it('refuses two different Content-Type values, not the same one twice', () => {
    expect(refusal(() => checkRepeated('CONTENT_TYPE', 'text/plain', 'text/plain'))).toBeUndefined();
    expect(refusal(() => checkRepeated('CONTENT_TYPE', 'text/plain', 'text/html'))).toBe(400);
  });

  it('takes Transfer-Encoding: chunked alone, on HTTP/1.1 only', () => {
    expect(refusal(() => checkTransferEncoding('chunked', 1))).toBeUndefined();
    expect(refusal(() => checkTransferEncoding('Chunked', 1))).toBeUndefined();
    expect(refusal(() => checkTransferEncoding('chunked', 0))).toBe(400);
    expect(refusal(() => checkTransferEncoding('gzip, chunked', 1))).toBe(501);
  });
});
