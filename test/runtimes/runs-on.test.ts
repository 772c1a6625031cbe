/**
 * The same app, the same HTTP test cases, on every runtime the root README's "Runs on" section
 * names: Node (`carafe serve`), Bun (`Bun.serve`), Deno (`Deno.serve`) and workerd, each started
 * from the README's own entry file (see harness.ts), exercised over real HTTP from this process.
 *
 * Two apps per runtime:
 * - the Carafe app (test/fixtures/runtimes/app.js): routes with params, a blueprint, response
 *   schemas, a schema-validated JSON body, form bodies, a streamed response, 404/405 problems, a
 *   signed session cookie, an error, the lifespan;
 * - the TSGI probes alone (probes.js, no @carafe/core): what the server binding itself does — the
 *   environ, streaming both ways, return() on disconnect, refusing bad responses. On Bun, Deno and
 *   workerd that is `toFetchHandler`; on Node, the node:http binding.
 *
 * A runtime that cannot be installed, or an app a runtime cannot load (workerd runs without
 * Node.js compatibility: the bundle must not need `node:` modules), fails that runtime's tests
 * with the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dechunk, parseResponse, rawExchange } from '../../packages/gateway/test/helpers.js';
import { COMMANDS, README, RUNTIMES, prepareDir, serveOn, type AppKind, type Runtime, type Served } from './harness.js';

const dirs: Record<AppKind, string> = { carafe: prepareDir('carafe'), tsgi: prepareDir('tsgi') };
const started = new Map<string, Promise<Served>>();
/** All eight servers start at once; each describe awaits its own. */
function server(runtime: Runtime, kind: AppKind): Promise<Served> {
  const key = `${runtime}/${kind}`;
  let promise = started.get(key);
  if (promise === undefined) {
    promise = serveOn(runtime, kind, dirs[kind]);
    promise.catch(() => {}); // reported by the tests that await it
    started.set(key, promise);
  }
  return promise;
}
for (const runtime of RUNTIMES) for (const kind of ['carafe', 'tsgi'] as const) void server(runtime, kind);

afterAll(async () => {
  await Promise.all([...started.values()].map(async (promise) => (await promise.catch(() => undefined))?.stop('SIGKILL', 2_000)));
  const { rmSync } = await import('node:fs');
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
});

/** What differs between runtimes by nature, not by fault. */
const PEER: Record<Runtime, 'loopback' | 'unknown'> = { node: 'loopback', bun: 'loopback', deno: 'loopback', workerd: 'unknown' };
/** Where the lifespan's shutdown has a place: a process that receives SIGTERM. */
const HAS_SHUTDOWN: Record<Runtime, boolean> = { node: true, bun: true, deno: true, workerd: false };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as Record<string, unknown> & { status: number };
}

it('runs the README\'s "Runs on" commands and entry files as written', () => {
  for (const command of Object.values(COMMANDS)) expect(README.section).toContain(command);
  expect([...README.files.keys()].sort()).toEqual(['config.capnp', 'server.bun.js', 'server.deno.js', 'worker.js']);
});

/** Cases every app answers: the TSGI probes (the Carafe app serves them in front of its routes). */
function bindingCases(get: () => Promise<Served>) {
  it('builds the environ of §2.2: path, raw query, server name and port, scheme, headers, peer', async () => {
    const { base, port, runtime } = await get();
    const response = await fetch(`${base}/tsgi/environ?q=a%20b&x`, { headers: { 'X-Request-Id': 'r-1' } });
    const environ = (await response.json()) as Record<string, unknown> & { headers: Record<string, string> };
    expect(environ).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/tsgi/environ',
      QUERY_STRING: 'q=a%20b&x',
      RAW_URI: '/tsgi/environ?q=a%20b&x',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(port),
      SERVER_PROTOCOL: 'HTTP/1.1',
      'tsgi.url_scheme': 'http',
    });
    expect(environ.headers).toMatchObject({ HTTP_X_REQUEST_ID: 'r-1', HTTP_HOST: `127.0.0.1:${port}` });
    if (PEER[runtime] === 'loopback') expect(environ.REMOTE_ADDR).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    else expect(environ.REMOTE_ADDR).toBe(''); // workerd: only Cloudflare's edge sets CF-Connecting-IP
  });

  it('joins repeated Cookie headers with "; " and other repeated headers with ", ", and drops names with "_"', async () => {
    const { port } = await get();
    const { text } = await rawExchange(
      port,
      'GET /tsgi/environ HTTP/1.1\r\nHost: localhost\r\nCookie: a=1\r\nCookie: b=2\r\nX-Multi: one\r\nX-Multi: two\r\n' +
        'X_Real_IP: 6.6.6.6\r\nX-Real-IP: 1.2.3.4\r\nConnection: close\r\n\r\n',
    );
    const response = parseResponse(text);
    const body = /chunked/i.test(response.headers['transfer-encoding'] ?? '') ? dechunk(response.body) : response.body;
    const { headers } = JSON.parse(body) as { headers: Record<string, string> };
    expect(headers.HTTP_COOKIE).toBe('a=1; b=2');
    expect(headers.HTTP_X_MULTI).toBe('one, two');
    expect(headers.HTTP_X_REAL_IP).toBe('1.2.3.4');
  });

  it('answers a path that is not valid percent-encoded UTF-8 with a 400 problem', async () => {
    const { port } = await get();
    const { text } = await rawExchange(port, 'GET /tsgi/%E0%A4%A HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const { statusLine, headers, body } = parseResponse(text);
    expect(statusLine).toMatch(/^HTTP\/1\.1 400/);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ status: 400, title: 'Bad Request' });
  });

  it('streams a 1 MiB request body into tsgi.input as Uint8Array chunks', async () => {
    const { base } = await get();
    const size = 1024 * 1024;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        const chunk = new Uint8Array(Math.min(64 * 1024, size - sent)).fill(120);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${base}/tsgi/count`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    const counted = (await response.json()) as { bytes: number; chunks: number };
    expect(counted.bytes).toBe(size);
    expect(counted.chunks).toBeGreaterThan(1);
  });

  it('refuses a hop-by-hop response header with a 500 problem', async () => {
    const { base } = await get();
    const response = await fetch(`${base}/tsgi/hop-by-hop`);
    expect(response.status).toBe(500);
    expect(await problemOf(response)).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
  });

  it('cuts the response when the body fails after the head, so the client never takes it for complete', async () => {
    const { base } = await get();
    const response = await fetch(`${base}/tsgi/fails-midway`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('calls return() once and aborts tsgi.signal when the client goes away mid-stream', async () => {
    const { base } = await get();
    const id = `gone-${Math.random()}`;
    const controller = new AbortController();
    const response = await fetch(`${base}/tsgi/forever?id=${id}`, { signal: controller.signal });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^tick 1\n/);
    controller.abort();
    type Probe = { returned: number; signalAborted: boolean; pulled: number };
    const read = async () => (await (await fetch(`${base}/tsgi/probe?id=${id}`)).json()) as Probe;
    let probe = await read();
    for (let i = 0; i < 50 && !probe.returned; i++) {
      await sleep(50);
      probe = await read();
    }
    expect(probe).toMatchObject({ returned: 1, signalAborted: true });
    await sleep(100);
    const later = await read();
    expect(later.returned).toBe(1);
    expect(later.pulled).toBe(probe.pulled); // no next() after return()
  });

  it('calls return() once after the last chunk of a body that completes', async () => {
    const { base } = await get();
    const id = `done-${Math.random()}`;
    expect(await (await fetch(`${base}/tsgi/closed?id=${id}`)).text()).toBe('part 1\npart 2\n');
    await sleep(20);
    expect(await (await fetch(`${base}/tsgi/probe?id=${id}`)).json()).toEqual({ returned: 1 });
  });

  it('ran the startup hook once before the first request', async () => {
    const { base } = await get();
    expect(await (await fetch(`${base}/lifespan`)).json()).toEqual({ startups: 1 });
  });
}

/** Cases of the Carafe app. */
function carafeCases(get: () => Promise<Served>) {
  it('serves a plain route with a Content-Length', async () => {
    const response = await fetch(`${(await get()).base}/hello`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-length')).toBe('14');
    expect(await response.text()).toBe('Hello, world!\n');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const response = await fetch(`${(await get()).base}/hello`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('14');
    expect(await response.text()).toBe('');
  });

  it('decodes route params (percent-encoded UTF-8) and coerces them through the schema', async () => {
    const { base } = await get();
    expect(await (await fetch(`${base}/greet/J%C3%BCrgen`)).text()).toBe('Hello, Jürgen!');
    expect(await (await fetch(`${base}/users/42`)).json()).toEqual({ id: 42, name: 'user 42' }); // passwordHash left out
    expect(await (await fetch(`${base}/api/items/7`)).json()).toEqual({ id: 7, name: 'item 7' }); // a blueprint's route
    const invalid = await fetch(`${base}/users/abc`);
    expect(invalid.status).toBe(400);
    expect((await problemOf(invalid)).errors).toEqual([expect.objectContaining({ field: '/id' })]);
    const missing = await fetch(`${base}/users/101`);
    expect(missing.status).toBe(404);
    expect(await problemOf(missing)).toMatchObject({ status: 404, detail: 'There is no user 101.' });
  });

  it('validates a JSON body against the route schema', async () => {
    const { base } = await get();
    const post = (body: unknown) =>
      fetch(`${base}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post({ name: 'tea', price: 3.5 });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ created: { name: 'tea', price: 3.5 } });
    const refused = await post({ name: '', admin: true });
    expect(refused.status).toBe(400);
    const fields = ((await problemOf(refused)).errors as Array<{ field: string }>).map((e) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['/admin', '/name']));
  });

  it('parses an urlencoded form body and a multipart one (on workerd with the platform parser)', async () => {
    const { base } = await get();
    const urlencoded = await fetch(`${base}/form`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=J%C3%BCrgen&tag=a&tag=b&note=tea+%26+cake',
    });
    expect(urlencoded.status).toBe(200);
    expect(await urlencoded.json()).toEqual({ fields: { name: ['Jürgen'], tag: ['a', 'b'], note: ['tea & cake'] }, files: [] });
    const form = new FormData();
    form.append('name', 'Jürgen');
    form.append('doc', new Blob(['file body'], { type: 'text/plain' }), 'notes.txt');
    const multipart = await fetch(`${base}/form`, { method: 'POST', body: form });
    expect(multipart.status).toBe(200);
    expect(await multipart.json()).toEqual({
      fields: { name: ['Jürgen'] },
      files: [{ field: 'doc', filename: 'notes.txt', type: 'text/plain', size: 9, text: 'file body', streamed: 'file body' }],
    });
  });

  it('refuses a malformed multipart body (400) and a file over the form limit (413) with problems', async () => {
    const { base } = await get();
    const broken = await fetch(`${base}/form`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nno closing boundary',
    });
    expect(broken.status).toBe(400);
    expect(await problemOf(broken)).toMatchObject({ status: 400 });
    const big = new FormData();
    big.append('doc', new Blob(['x'.repeat(2000)]), 'big.bin'); // the app's form.maxFileBytes is 1024
    const tooBig = await fetch(`${base}/form`, { method: 'POST', body: big });
    expect(tooBig.status).toBe(413);
    expect(await problemOf(tooBig)).toMatchObject({ status: 413 });
  });

  it('streams a response: chunked, each line sent as it is produced', async () => {
    const { base } = await get();
    const start = Date.now();
    const response = await fetch(`${base}/stream?n=3&delay=250`);
    expect(response.headers.get('content-length')).toBeNull();
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await reader.read()).value);
    let rest = '';
    for (let step = await reader.read(); !step.done; step = await reader.read()) rest += decoder.decode(step.value);
    const endAt = Date.now() - start;
    expect(first + rest).toBe('line 1\nline 2\nline 3\n');
    // The first read has the first line, and not the last one, produced 500 ms later (a client slowed
    // down by a loaded machine may read the second line with the first).
    expect(first.startsWith('line 1\n')).toBe(true);
    expect(first).not.toContain('line 3');
    // The app waited its two delays; timed from the request, as a loaded machine may deliver the
    // headers late and so shorten the time from the headers to the end.
    expect(endAt).toBeGreaterThanOrEqual(450);
  });

  it('answers an unknown path with a 404 problem and a wrong method with a 405 problem and Allow', async () => {
    const { base } = await get();
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await problemOf(missing)).toMatchObject({ status: 404, title: 'Not Found' });
    const wrong = await fetch(`${base}/hello`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toMatch(/\bGET\b/);
    expect(await problemOf(wrong)).toMatchObject({ status: 405 });
  });

  it('keeps a signed session cookie, and ignores one that was tampered with', async () => {
    const { base } = await get();
    const login = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' });
    expect(login.status).toBe(200);
    const [cookie] = login.headers.getSetCookie();
    expect(cookie).toMatch(/^session=[\w-]+\.[0-9a-z]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const pair = cookie!.split(';')[0]!;
    expect(await (await fetch(`${base}/me`, { headers: { cookie: pair } })).json()).toEqual({ user: 'ada' });
    const tampered = pair.replace(/^session=[\w-]+/, `session=${Buffer.from('{"user":"root"}').toString('base64url')}`);
    expect(await (await fetch(`${base}/me`, { headers: { cookie: tampered } })).json()).toEqual({ user: null });
    expect(await (await fetch(`${base}/me`)).json()).toEqual({ user: null });
  });

  it('answers an exception with a 500 problem that reveals nothing', async () => {
    const response = await fetch(`${(await get()).base}/boom`);
    expect(response.status).toBe(500);
    const body = await problemOf(response);
    expect(body).toMatchObject({ status: 500, title: 'Internal Server Error' });
    expect(JSON.stringify(body)).not.toContain('secret');
  });
}

describe.each(RUNTIMES)('on %s', (runtime) => {
  // Each test awaits its server, so that a runtime or an app that cannot start fails every test
  // with the reason (rather than skipping them after a failed hook).
  describe('the Carafe app', () => {
    const get = () => server(runtime, 'carafe');
    carafeCases(get);
    bindingCases(get);
    if (HAS_SHUTDOWN[runtime]) {
      it('runs the shutdown hook on SIGTERM and exits', async () => {
        const served = await get();
        const { code, signal } = await served.stop('SIGTERM', 15_000);
        expect(served.output()).toContain('carafe-app: shutdown');
        expect(signal).toBeNull();
        expect(code).toBe(0);
      });
    }
  });

  describe('the TSGI probes alone (no @carafe/core)', () => {
    const get = () => server(runtime, 'tsgi');
    bindingCases(get);
    if (HAS_SHUTDOWN[runtime]) {
      it('runs the shutdown hook on SIGTERM and exits', async () => {
        const served = await get();
        const { code, signal } = await served.stop('SIGTERM', 15_000);
        expect(served.output()).toContain('carafe-app: shutdown');
        expect(signal).toBeNull();
        expect(code).toBe(0);
      });
    }
  });
});
