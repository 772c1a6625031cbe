import { describe, expect, it } from 'vitest';
import { API_CSP, HTML_CSP, securityHeaders } from '@carafe/middleware';
import type { TsgiApplication } from '@carafe/gateway';
import { caller, okApp } from './helpers.js';

const html: TsgiApplication = () => ({ status: 200, headers: [['Content-Type', 'text/html; charset=utf-8']], body: ['<p>hi</p>'] });

describe('securityHeaders', () => {
  it('sets helmet’s defaults tuned for an API, with a locked-down CSP on JSON, and no HSTS over http', async () => {
    const res = await caller(securityHeaders()(okApp()))('http://api.test/x');
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'content-security-policy': API_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    });
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
  });

  it('sends HSTS only when the request is https (as tsgi.url_scheme says, after the proxy fix)', async () => {
    const res = await caller(securityHeaders()(okApp()))('https://api.test/x');
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const tuned = await caller(securityHeaders({ hsts: { maxAge: 63072000, preload: true } })(okApp()))('https://api.test/x');
    expect(tuned.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains; preload');
    const off = await caller(securityHeaders({ hsts: false })(okApp()))('https://api.test/x');
    expect(off.headers.get('strict-transport-security')).toBeNull();
  });

  it('gives HTML responses the HTML policy, and leaves headers the app set alone', async () => {
    const res = await caller(securityHeaders()(html))('/page');
    expect(res.headers.get('content-security-policy')).toBe(HTML_CSP);
    const own: TsgiApplication = () => ({
      status: 200,
      headers: [
        ['Content-Type', 'text/html'],
        ['Content-Security-Policy', "default-src 'self'"],
        ['X-Frame-Options', 'SAMEORIGIN'],
      ],
      body: [],
    });
    const kept = await caller(securityHeaders()(own))('/page');
    expect(kept.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(kept.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('lets each header be changed or turned off', async () => {
    const res = await caller(
      securityHeaders({
        frameOptions: false,
        referrerPolicy: 'strict-origin-when-cross-origin',
        contentSecurityPolicy: { other: false },
        crossOriginEmbedderPolicy: 'require-corp',
        noSniff: false,
        xssProtection: false,
      })(okApp()),
    )('/x');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(res.headers.get('x-content-type-options')).toBeNull();
    expect(res.headers.get('x-xss-protection')).toBeNull();
  });
});
