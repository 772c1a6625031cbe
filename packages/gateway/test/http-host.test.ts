import { defaultPort, splitHost } from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

describe('splitHost', () => {
  it('splits names, IPv4 and IPv6 literals from their ports', () => {
    expect(splitHost('example.com')).toEqual({ name: 'example.com', port: undefined });
    expect(splitHost('example.com:8080')).toEqual({ name: 'example.com', port: '8080' });
    expect(splitHost('127.0.0.1:80')).toEqual({ name: '127.0.0.1', port: '80' });
    expect(splitHost('[::1]')).toEqual({ name: '[::1]', port: undefined });
    expect(splitHost('[::1]:8443')).toEqual({ name: '[::1]', port: '8443' });
    expect(splitHost('[fe80::1%25eth0]:1')).toEqual({ name: '[fe80::1%25eth0]', port: '1' });
  });

  it('treats an empty port as none (RFC 3986 allows "host:")', () => {
    expect(splitHost('example.com:')).toEqual({ name: 'example.com', port: undefined });
  });

  it('refuses what is not a host', () => {
    for (const bad of ['', ':80', '::1', '[::1', '[::1]x', '[::1]:x', 'a:b', 'a:1:2', 'a:123456'])
      expect(splitHost(bad), bad).toBeUndefined();
  });
});

describe('defaultPort', () => {
  it('knows https and http', () => {
    expect(defaultPort('https')).toBe('443');
    expect(defaultPort('http')).toBe('80');
  });
});
