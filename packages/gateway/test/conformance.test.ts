/**
 * The rules RFC 9110/9112 give a server that the gateway's node:http binding enforces itself
 * (request-rules.ts, connection.ts) hold without `carafe serve` too: the conformance corpus of
 * test/conformance/corpus.ts, less the cases about carafe serve's own limits, against
 * `createServer` in this process (what `app.run()` uses).
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Environ, type TsgiApplication, type TsgiResponse } from '@carafe/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, utf8 } from '../../../test/conformance/client.js';
import { CORPUS, type Case } from '../../../test/conformance/corpus.js';

/** The same answer as test/fixtures/server/echo.mjs: every string key of the environ, and the body read. */
const echo: TsgiApplication = (environ: Environ) => {
  const answer = (body?: Buffer): TsgiResponse => {
    const seen: Record<string, string> = {};
    for (const key of Object.keys(environ)) if (typeof environ[key] === 'string') seen[key] = environ[key] as string;
    if (body !== undefined) seen['tsgi.input'] = body.toString('latin1');
    const json = Buffer.from(JSON.stringify(seen));
    return { status: 200, headers: [['Content-Type', 'application/json']], body: [json] };
  };
  if (environ.PATH_INFO === '/slow') return new Promise((resolve) => setTimeout(() => resolve(answer()), 300));
  if ((environ.CONTENT_LENGTH === undefined || environ.CONTENT_LENGTH === '0') && environ.HTTP_TRANSFER_ENCODING === undefined)
    return answer();
  return (async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of environ['tsgi.input']) chunks.push(chunk);
    return answer(Buffer.concat(chunks));
  })();
};

const server = createServer(echo, { errors: { write: () => {} } });
let port: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const cases = CORPUS.filter((c) => !c.id.startsWith('limits/'));

describe.concurrent('the conformance corpus against createServer (no carafe serve)', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id: string, c: Case) => {
    const result = await exchange(port, c.send, c.expect.length, c.after === 'close' ? 2500 : 150);
    expect(result.responses.map((r) => r.status)).toEqual(c.expect.map((e) => e.status));
    for (const [i, expected] of c.expect.entries()) {
      const response = result.responses[i]!;
      if ('seen' in expected) {
        const seen = JSON.parse(utf8(response)) as Record<string, string>;
        for (const [key, value] of Object.entries(expected.seen)) {
          if (value === null) expect(seen).not.toHaveProperty([key]);
          else expect(seen[key], key).toBe(value);
        }
      } else {
        expect(response.headers['content-type']).toBe('application/problem+json');
        expect(response.headers.connection?.toLowerCase()).toBe('close');
      }
    }
    expect(result.rest).toBe('');
    expect(result.closed).toBe(c.after === 'close');
  });
});
