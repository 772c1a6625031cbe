import { describe, expect, it } from 'vitest';
import { csrf, trustedHosts } from '@carafe/middleware';
import { caller, okApp } from './helpers.js';

describe('csrf', () => {
  const call = caller(csrf({ trustedOrigins: ['https://admin.example.com'] })(okApp()));
  const post = (headers: Record<string, string>) => call('http://api.test/notes', { method: 'POST', headers });

  it('lets safe methods through whatever their origin', async () => {
    expect((await call('/notes', { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.test' } })).status).toBe(200);
  });

  it('refuses an unsafe cross-site request by Sec-Fetch-Site with a 403 problem', async () => {
    const res = await post({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.test', cookie: 'session=x' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await post({ 'sec-fetch-site': 'same-site', origin: 'https://other.api.test' })).status).toBe(403);
  });

  it('lets same-origin, user-initiated (none) and trusted-origin requests through', async () => {
    expect((await post({ 'sec-fetch-site': 'same-origin', origin: 'http://api.test' })).status).toBe(200);
    expect((await post({ 'sec-fetch-site': 'none' })).status).toBe(200);
    expect((await post({ 'sec-fetch-site': 'cross-site', origin: 'https://admin.example.com' })).status).toBe(200);
  });

  it('falls back to Origin against Host for browsers without Sec-Fetch-Site, and lets non-browser requests through', async () => {
    expect((await post({ origin: 'https://evil.test' })).status).toBe(403);
    expect((await post({ origin: 'http://api.test' })).status).toBe(200);
    expect((await post({})).status).toBe(200);
  });

  it('onlyWithCookies leaves cookie-less requests (bearer-token clients) alone', async () => {
    const lenient = caller(csrf({ onlyWithCookies: true })(okApp()));
    const init = (headers: Record<string, string>) => ({
      method: 'DELETE',
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://spa.test', ...headers },
    });
    expect((await lenient('/x', init({}))).status).toBe(200);
    expect((await lenient('/x', init({ cookie: 'session=1' }))).status).toBe(403);
  });
});

describe('trustedHosts', () => {
  const call = caller(trustedHosts({ hosts: ['api.example.com', '.example.org'] })(okApp()));

  it('answers hosts on the list, on any port, and subdomains of a dotted entry', async () => {
    for (const host of ['api.example.com', 'API.EXAMPLE.COM:8443', 'example.org', 'a.b.example.org']) {
      expect((await call('/', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('refuses other hosts and malformed ones with a 400 problem', async () => {
    for (const host of ['evil.test', 'example.com', 'notexample.org', 'api.example.com.evil.test', 'a b', '[::1']) {
      const res = await call('/', { headers: { host } });
      expect(res.status, host).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });
});
