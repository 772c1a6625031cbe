/**
 * `--limit-request-body` end to end, for the body whose size cannot be refused up front: a
 * chunked one (no Content-Length). It is counted as the app reads it, and one that grows past the
 * limit is answered 413 problem+json — never 500 — whether the app is a plain TSGI function that
 * lets the error escape or a Carafe app that turns it into its own problem response.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Carafe, freePort, stopAll, type Reply } from './fixtures/server/harness.js';

const LIMIT = 1000;

afterAll(stopAll);

/** `carafe serve MODULE --limit-request-body 1000` on a free port, once it listens. */
async function serveLimited(module: string): Promise<{ carafe: Carafe; port: number }> {
  const port = await freePort();
  const carafe = new Carafe(['serve', module, '-b', `127.0.0.1:${port}`, '--limit-request-body', String(LIMIT)]);
  await carafe.ready();
  return { carafe, port };
}

/** POSTs `size` bytes of JSON as a chunked body (several writes, no Content-Length) on a fresh connection. */
function postChunked(port: number, path: string, size: number): Promise<Reply> {
  // {"data":"xxx…"}: valid JSON of exactly `size` bytes, so only its size can be refused.
  const body = `{"data":"${'x'.repeat(size - 11)}"}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`POST ${path} timed out`)));
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 400) req.write(body.slice(at, at + 400));
    req.end();
  });
}

function expect413(reply: Reply): void {
  expect(reply.status, reply.body).toBe(413);
  expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(reply.body)).toMatchObject({ status: 413 });
}

describe('a plain TSGI app reading tsgi.input under --limit-request-body', () => {
  let carafe: Carafe;
  let port: number;
  beforeAll(async () => ({ carafe, port } = await serveLimited('hello.mjs')));

  it('gets 413 problem+json for a 2000-byte chunked body, and the error is not logged as the app’s', async () => {
    const reply = await postChunked(port, '/echo', 2000);
    expect413(reply);
    expect(JSON.parse(reply.body).detail).toBe(`The request body exceeds ${LIMIT} bytes.`);
    expect(carafe.stderr).not.toMatch(/BodyTooLargeError|\[tsgi\]/);
  });

  it('still reads a chunked body within the limit', async () => {
    const reply = await postChunked(port, '/echo', LIMIT);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ length: LIMIT });
  });
});

describe('a Carafe app reading the body under --limit-request-body', () => {
  let port: number;
  beforeAll(async () => ({ port } = await serveLimited('carafe-app.mjs')));

  it('answers a 2000-byte chunked body read with req.json() with 413 problem+json, not 500', async () => {
    expect413(await postChunked(port, '/json', 2000));
  });

  it('answers a 2000-byte chunked body read with req.text() with 413 problem+json, not 500', async () => {
    expect413(await postChunked(port, '/text', 2000));
  });

  it('still reads a chunked body within the limit', async () => {
    const reply = await postChunked(port, '/json', LIMIT);
    expect(reply.status, reply.body).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ received: LIMIT });
  });
});
