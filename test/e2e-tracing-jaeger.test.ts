/**
 * Tracing end to end, into a real Jaeger: client → nginx (the example's deployed site) →
 * `carafe serve` (2 workers, the production deploy/carafe.config.js, tracing turned on the
 * OpenTelemetry way: OTEL_EXPORTER_OTLP_ENDPOINT) → the example → MongoDB (FerretDB, through a
 * TCP relay this file can cut) — and the spans read back from Jaeger's query API.
 *
 * Every request carries a known W3C `traceparent`. For each one Jaeger must hold exactly one
 * trace with the caller's trace id: one SERVER span named by the route template, child of the
 * caller's span, with the semantic-convention attributes, and the MongoDB driver's spans (OTel's
 * MongoDB instrumentation, loaded by the example's telemetry module) as its children. With the
 * database cut, the request fails (503) and its span says so: status ERROR, `error.type`.
 *
 * Jaeger is provisioned by scripts/install-jaeger.sh (scripts/provision.sh runs it; `npm test`
 * runs that): without it this file fails with that instruction.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { freePort } from '../scripts/ferretdb.mjs';
// @ts-expect-error -- plain ESM script without type declarations
import { startJaeger } from '../scripts/jaeger.mjs';
import { mongodbUri, uniqueDbName } from '../examples/rest-api/test/support.js';
import { startCarafe, type CarafeProcess } from './setup/carafe.js';
import { startNginx, type RunningNginx } from './setup/nginx.js';

type Jaeger = { otlpEndpoint: string; queryUrl: string; output(): string; stop(): Promise<void> };

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  tags: Array<{ key: string; type: string; value: unknown }>;
  processID: string;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
}

const SERVICE = `carafe-e2e-${randomBytes(3).toString('hex')}`;
const scratch = mkdtempSync(join(tmpdir(), 'carafe-jaeger-e2e-'));
const socket = join(scratch, 'carafe.sock');
let jaeger: Jaeger | undefined;
let carafe: CarafeProcess | undefined;
let nginx: RunningNginx | undefined;
let relay: Relay | undefined;
let base: string;

/** A TCP relay to the database that the test can cut: then every connection to it fails. */
interface Relay {
  port: number;
  cut(): void;
  close(): Promise<void>;
}

async function startRelay(target: { host: string; port: number }): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return void client.destroy();
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = (await freePort()) as number;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    close: () => {
      down = true;
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A fresh `traceparent` for a caller span of our own: `{ header, traceId, parentId }`. */
function caller(): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
const isServer = (span: JaegerSpan) => tag(span, 'span.kind') === 'server';
const isMongo = (span: JaegerSpan) => tag(span, 'db.system') === 'mongodb' || tag(span, 'db.system.name') === 'mongodb';

/** Polls Jaeger until the trace holds its server span and at least `mongo` database spans (bounded). */
async function traceOf(traceId: string, mongo: number): Promise<JaegerTrace[]> {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  for (;;) {
    const res = await fetch(`${jaeger!.queryUrl}/api/traces/${traceId}`);
    if (res.ok) {
      const body = (await res.json()) as { data: JaegerTrace[] };
      last = body;
      const spans = body.data.flatMap((t) => t.spans);
      if (spans.some(isServer) && spans.filter(isMongo).length >= mongo) {
        // One more beat for stragglers from the same batch, then the final answer.
        await new Promise((r) => setTimeout(r, 300));
        return ((await (await fetch(`${jaeger!.queryUrl}/api/traces/${traceId}`)).json()) as { data: JaegerTrace[] }).data;
      }
    } else last = `${res.status} ${await res.text()}`;
    if (Date.now() > deadline) {
      throw new Error(
        `trace ${traceId} did not reach Jaeger complete in 20 s; last answer: ${JSON.stringify(last).slice(0, 2000)}\n` +
          `carafe stderr:\n${carafe?.output().stderr.slice(-3000)}\njaeger:\n${jaeger?.output().slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function call(
  method: string,
  path: string,
  trace: ReturnType<typeof caller>,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { traceparent: trace.header, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  jaeger = (await startJaeger()) as Jaeger;
  const db = new URL(mongodbUri());
  relay = await startRelay({ host: db.hostname, port: Number(db.port || 27017) });
  db.host = `127.0.0.1:${relay.port}`;
  carafe = await startCarafe({
    args: ['examples/rest-api/dist/app.js', '--config', 'examples/rest-api/deploy/carafe.config.js'],
    env: {
      MONGODB_URI: db.href,
      MONGODB_DB: uniqueDbName('e2e_jaeger'),
      MONGODB_REQUEST_TIMEOUT_MS: '2000',
      CARAFE_BIND: `unix:${socket}`,
      CARAFE_WORKERS: '2',
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_SERVICE_NAME: SERVICE,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    target: { socketPath: socket },
    readyPath: '/readyz',
    timeoutMs: 60_000,
  });
  const port = (await freePort()) as number;
  nginx = await startNginx({ listen: `127.0.0.1:${port}`, upstreams: [`unix:${socket} fail_timeout=0`] });
  base = `http://127.0.0.1:${port}`;
}, 180_000);

afterAll(async () => {
  await nginx?.stop();
  await carafe?.stop();
  await relay?.close();
  await jaeger?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('traces of the example in Jaeger, through nginx and carafe serve', () => {
  let userId: string;

  it('POST /api/users: one trace, the server span named by route under the caller, the MongoDB spans its children', async () => {
    const trace = caller();
    const created = await call('POST', '/api/users', trace, {
      name: 'Traced',
      email: `traced-${randomBytes(3).toString('hex')}@example.com`,
    });
    expect(created.status).toBe(201);
    userId = created.body.id;

    const traces = await traceOf(trace.traceId, 1);
    expect(traces).toHaveLength(1);
    const spans = traces[0]!.spans;
    expect(new Set(spans.map((s) => s.traceID))).toEqual(new Set([trace.traceId]));
    const servers = spans.filter(isServer);
    expect(servers.map((s) => s.operationName)).toEqual(['POST /api/users']);
    const server = servers[0]!;
    expect(parentOf(server)).toBe(trace.parentId);
    expect(traces[0]!.processes[server.processID]!.serviceName).toBe(SERVICE);
    expect(tag(server, 'http.route')).toBe('/api/users');
    expect(tag(server, 'http.request.method')).toBe('POST');
    expect(tag(server, 'http.response.status_code')).toBe(201);
    expect(tag(server, 'url.path')).toBe('/api/users');
    expect(tag(server, 'url.scheme')).toBe('http');
    expect(tag(server, 'network.protocol.version')).toBe('1.1');
    // The proxy fix ran first: the client nginx saw, not nginx's own unix-socket peer.
    expect(tag(server, 'client.address')).toBe('127.0.0.1');
    expect(tag(server, 'otel.status_code')).toBeUndefined();

    const mongo = spans.filter(isMongo);
    expect(mongo.length).toBeGreaterThanOrEqual(1);
    for (const span of mongo) {
      expect(parentOf(span), `${span.operationName} is a child of the server span`).toBe(server.spanID);
      expect(tag(span, 'span.kind')).toBe('client');
    }
    expect(mongo.map((s) => s.operationName).join(' ')).toMatch(/insert/);
  });

  it('GET /api/users/{id}: a trace of its own, with its find as a child', async () => {
    const trace = caller();
    expect((await call('GET', `/api/users/${userId}`, trace)).status).toBe(200);
    const traces = await traceOf(trace.traceId, 1);
    expect(traces).toHaveLength(1);
    const server = traces[0]!.spans.filter(isServer);
    expect(server.map((s) => s.operationName)).toEqual(['GET /api/users/{id}']);
    expect(tag(server[0]!, 'http.route')).toBe('/api/users/{id}');
    expect(tag(server[0]!, 'url.path')).toBe(`/api/users/${userId}`);
    expect(parentOf(server[0]!)).toBe(trace.parentId);
    const mongo = traces[0]!.spans.filter(isMongo);
    expect(mongo.map((s) => s.operationName).join(' ')).toMatch(/find/);
    for (const span of mongo) expect(parentOf(span)).toBe(server[0]!.spanID);
  });

  it('a request that fails (the database cut) is a server span with status ERROR and error.type', async () => {
    relay!.cut();
    const trace = caller();
    // POST: nginx does not retry it on another try, so the request is answered once, by the app.
    const failed = await call('POST', '/api/users', trace, { name: 'Lost', email: 'lost@example.com' });
    expect(failed.status).toBe(503);
    const traces = await traceOf(trace.traceId, 0);
    expect(traces).toHaveLength(1);
    const servers = traces[0]!.spans.filter(isServer);
    expect(servers).toHaveLength(1);
    const server = servers[0]!;
    expect(server.operationName).toBe('POST /api/users');
    expect(parentOf(server)).toBe(trace.parentId);
    expect(tag(server, 'http.response.status_code')).toBe(503);
    expect(tag(server, 'otel.status_code')).toBe('ERROR');
    expect(tag(server, 'error')).toBe(true);
    expect(tag(server, 'error.type')).toBe('DatabaseUnavailableError');
  });
});
