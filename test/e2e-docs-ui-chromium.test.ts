/**
 * `/docs` of the REST API example in real headless Chromium: the example served by `carafe serve`,
 * the page opened over the DevTools protocol, every operation of `/openapi.json` found rendered by
 * Swagger UI, a screenshot saved (to $CARAFE_TEST_ARTIFACTS, else a temporary directory), and the
 * page checked to have requested nothing outside the server and broken no rule of its CSP.
 * Chromium missing is a failure that says how to install it (scripts/provision.sh).
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../scripts/ferretdb.mjs';
import { mongodbUri, uniqueDbName } from '../examples/rest-api/test/support.js';
import { startCarafe, type CarafeProcess } from './setup/carafe.js';
import { launchChromium, type CdpSession, type Chromium } from './setup/chromium.js';

const ARTIFACTS = process.env.CARAFE_TEST_ARTIFACTS ?? join(tmpdir(), 'carafe-test-artifacts');

let server: CarafeProcess | undefined;
let chromium: Chromium | undefined;
let base = '';

beforeAll(async () => {
  const port = (await freePort()) as number;
  base = `http://127.0.0.1:${port}`;
  server = await startCarafe({
    args: ['examples/rest-api/dist/app.js', '--workers', '2', '--bind', `127.0.0.1:${port}`],
    env: { MONGODB_URI: mongodbUri(), MONGODB_DB: uniqueDbName('docs_ui') },
    target: { port },
  });
  chromium = await launchChromium();
}, 90_000);

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the example’s /docs in headless Chromium', () => {
  it('renders every operation of /openapi.json, offline and within its CSP', { timeout: 60_000 }, async () => {
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThanOrEqual(10);

    const page: CdpSession = await chromium!.page();
    const requested: string[] = [];
    const failed: string[] = [];
    const errors: string[] = [];
    page.on('Network.requestWillBeSent', (event) => requested.push(event.request.url));
    page.on('Network.loadingFailed', (event) => failed.push(`${event.errorText} ${event.blockedReason ?? ''}`));
    page.on('Runtime.exceptionThrown', (event) =>
      errors.push(event.exceptionDetails?.exception?.description ?? event.exceptionDetails?.text),
    );
    page.on('Runtime.consoleAPICalled', (event) => {
      if (event.type === 'error')
        errors.push(event.args.map((arg: { value?: unknown; description?: string }) => arg.value ?? arg.description).join(' '));
    });
    await page.send('Network.enable');
    await page.send('Runtime.enable');
    await page.send('Page.enable');
    // Collects CSP violations (scripts added by DevTools are not subject to the page's CSP).
    await page.send('Page.addScriptToEvaluateOnNewDocument', {
      source:
        "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
    });
    await page.send('Page.navigate', { url: `${base}/docs` });

    // Swagger UI lists each operation as an .opblock with its method and path.
    const rendered = await until('the operations to be rendered', async () => {
      const found = await page.evaluate<string[]>(
        "[...document.querySelectorAll('.opblock')].map((op) => op.querySelector('.opblock-summary-method').textContent.trim() + ' ' + op.querySelector('.opblock-summary-path').getAttribute('data-path'))",
      );
      return found.length >= operations.length ? found : undefined;
    });
    expect([...rendered].sort()).toEqual([...operations].sort());
    expect(await page.evaluate<string>("document.querySelector('.info .title').textContent")).toContain('Carafe REST API example');

    const shot = await page.send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'docs-ui.png');
    writeFileSync(file, Buffer.from(shot.data, 'base64'));
    expect(statSync(file).size).toBeGreaterThan(10_000);
    console.log(`screenshot of /docs: ${file}`);

    // Everything came from the server itself: the page, its assets and the document.
    const outside = requested.filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:'));
    expect(outside).toEqual([]);
    expect(requested).toEqual(expect.arrayContaining([`${base}/docs`, `${base}/docs/swagger-ui-bundle.js`, `${base}/openapi.json`]));
    expect(await page.evaluate<string[]>('window.__cspViolations')).toEqual([]);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
    page.close();
  });
});
