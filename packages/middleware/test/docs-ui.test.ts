import { describe, expect, it } from 'vitest';
import { docsCsp, docsUi } from '@carafe/middleware';
import { caller, okApp } from './helpers.js';

describe('docsUi', () => {
  const call = caller(docsUi({ path: '/docs', spec: '/openapi.json', title: 'Todo <API>' })(okApp()));

  it('serves the page with a CSP that allows exactly its own scripts, styles and document fetch', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toBe(docsCsp('/openapi.json'));
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await res.text();
    expect(html).toContain('<title>Todo &#60;API&#62;</title>');
    expect(html).toContain('data-spec="/openapi.json"');
    expect(html).not.toMatch(/<script>(?!<)/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
  });

  it('serves the swagger-ui-dist files from the installed package, with validators', async () => {
    for (const [name, type] of [
      ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
      ['swagger-ui.css', 'text/css; charset=utf-8'],
      ['favicon-32x32.png', 'image/png'],
      ['init.js', 'text/javascript; charset=utf-8'],
      ['page.css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await call(`/docs/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
      const etag = res.headers.get('etag')!;
      expect((await call(`/docs/${name}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
    const init = await (await call('/docs/init.js')).text();
    expect(init).toContain('"validatorUrl":null');
  });

  it('builds URLs under the mount point, redirects /docs/, refuses writes and passes everything else on', async () => {
    const mounted = caller((environ) => docsUi()(okApp())({ ...environ, SCRIPT_NAME: '/api' }));
    const html = await (await mounted('/docs')).text();
    expect(html).toContain('href="/api/docs/swagger-ui.css"');
    expect(html).toContain('data-spec="/api/openapi.json"');
    const slash = await call('/docs/');
    expect(slash.status).toBe(308);
    expect(slash.headers.get('location')).toBe('/docs');
    expect((await call('/docs', { method: 'POST' })).status).toBe(405);
    expect(await (await call('/documents')).json()).toMatchObject({ ok: true });
    expect(await (await call('/docs/unknown.js')).json()).toMatchObject({ ok: true });
  });

  it('allows a spec on another origin in connect-src', () => {
    expect(docsCsp('https://api.example.com/openapi.json')).toContain("connect-src 'self' https://api.example.com");
  });
});
