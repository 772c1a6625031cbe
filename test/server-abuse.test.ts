/**
 * Resource abuse against the real `carafe serve`, each while ordinary requests keep being served:
 * slowloris cut off by --header-timeout, thousands of idle keep-alive connections, and a chunked
 * body streamed past --limit-request-body (413, the connection closed, reading stopped).
 * Oversized heads (10,000 fields, a 100 KB request line, a 1 MB field) are cases of the
 * conformance corpus (test/conformance/corpus.ts).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseResponses } from './conformance/client.js';
import { Carafe, freePort, request, sleep, stopAll } from './fixtures/server/harness.js';

afterAll(stopAll);

async function serve(args: string[]): Promise<number> {
  const port = await freePort();
  const carafe = new Carafe(['serve', ...args, '-b', `127.0.0.1:${port}`]);
  await carafe.ready();
  return port;
}

/** Ordinary requests, one after another for `ms`: their statuses and the slowest one's time. */
async function ordinaryTraffic(port: number, ms: number): Promise<{ statuses: number[]; slowestMs: number }> {
  const statuses: number[] = [];
  let slowestMs = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const started = Date.now();
    statuses.push((await request(port, '/pid', { timeoutMs: 4000 })).status);
    slowestMs = Math.max(slowestMs, Date.now() - started);
    await sleep(50);
  }
  return { statuses, slowestMs };
}

/** The soft limit on open files of this process, from /proc (Linux); Infinity when unknown. */
function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

describe('slowloris', () => {
  it('is cut off by --header-timeout with a 408, while other clients are served', async () => {
    const port = await serve(['hello.mjs', '--header-timeout', '1']);
    const slow = Array.from({ length: 100 }, () => {
      return new Promise<{ answer: string; closedAfterMs: number }>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        const started = Date.now();
        let answer = '';
        const header = `X-Slow: ${'z'.repeat(200)}`;
        let sent = 0;
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => (answer += d));
        socket.write('GET /pid HTTP/1.1\r\nHost: x\r\n');
        // One byte every 100 ms: the head never completes.
        const drip = setInterval(() => socket.write(header[sent++ % header.length]!), 100);
        socket.on('error', () => {});
        socket.on('close', () => {
          clearInterval(drip);
          resolve({ answer, closedAfterMs: Date.now() - started });
        });
        setTimeout(() => {
          clearInterval(drip);
          socket.destroy();
          reject(new Error('a slow client was not cut off within 4.5 s'));
        }, 4500);
      });
    });
    const traffic = await ordinaryTraffic(port, 1500);
    const cut = await Promise.all(slow);
    expect(traffic.statuses.length).toBeGreaterThan(5);
    expect(traffic.statuses.every((s) => s === 200)).toBe(true);
    expect(traffic.slowestMs).toBeLessThan(1000);
    for (const { answer, closedAfterMs } of cut) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('application/problem+json');
      expect(closedAfterMs).toBeLessThan(3000);
    }
  });
});

describe('thousands of idle keep-alive connections', () => {
  it('stay open while ordinary requests are still served', async () => {
    const port = await serve(['hello.mjs', '--keep-alive', '30']);
    // Both ends of every connection are in this machine's file table: stay well inside the limit.
    const count = Math.min(2000, Math.floor((openFileLimit() - 300) / 2));
    expect(count, `open-file limit ${openFileLimit()} leaves room for too few connections: raise it (ulimit -n)`).toBeGreaterThanOrEqual(
      400,
    );
    const idle: net.Socket[] = [];
    const open = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let received = '';
        socket.setEncoding('latin1');
        socket.on('error', reject);
        // Bounded: a connection the server never answers fails the test, it does not hang it.
        const timer = setTimeout(() => reject(new Error('no answer within 4 s')), 4000);
        socket.on('data', (d: string) => {
          received += d;
          if (parseResponses(received).responses.length === 1) {
            clearTimeout(timer);
            resolve();
          }
        });
        socket.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
        idle.push(socket);
      });
    try {
      for (let i = 0; i < count; i += 500) await Promise.all(Array.from({ length: Math.min(500, count - i) }, open));
      const traffic = await ordinaryTraffic(port, 600);
      expect(traffic.statuses.every((s) => s === 200)).toBe(true);
      expect(traffic.slowestMs).toBeLessThan(1000);
      // None of the idle connections was dropped to make room.
      expect(idle.filter((socket) => socket.destroyed || socket.readyState !== 'open')).toHaveLength(0);
      expect(idle).toHaveLength(count);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });
});

describe('a chunked body streamed past --limit-request-body', () => {
  /**
   * Streams chunks without end and reports when the 413 came, when the connection closed, and
   * how many body bytes the kernel took from the client after the 413 (it stops taking them
   * once the server stops reading).
   */
  function streamPastLimit(port: number, path: string): Promise<{ answer: string; closeAfter413Ms: number; acceptedAfter413: number }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const chunk = `${(16384).toString(16)}\r\n${'y'.repeat(16384)}\r\n`;
      let answer = '';
      let accepted = 0;
      let at413: { time: number; accepted: number } | undefined;
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        answer += d;
        if (at413 === undefined && /^HTTP\/1\.1 \d{3} /.test(answer)) at413 = { time: Date.now(), accepted };
      });
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      // Keep at most 64 KiB queued in this process: what is counted went to the kernel.
      const pump = setInterval(() => {
        if (socket.destroyed || socket.writableLength > 65536) return;
        socket.write(chunk, (error) => {
          if (!error) accepted += chunk.length;
        });
      }, 2);
      const done = () => {
        clearInterval(pump);
        clearTimeout(deadline);
        if (at413 === undefined) reject(new Error(`closed without an answer: ${JSON.stringify(answer)}`));
        else resolve({ answer, closeAfter413Ms: Date.now() - at413.time, acceptedAfter413: accepted - at413.accepted });
      };
      socket.on('error', () => socket.destroy());
      socket.on('close', done);
      const deadline = setTimeout(() => {
        clearInterval(pump);
        socket.destroy();
        reject(new Error(`the connection was still open after 4.5 s; got ${JSON.stringify(answer.slice(0, 300))}`));
      }, 4500);
    });
  }

  it.each([
    ['a plain TSGI app that lets the error escape', 'hello.mjs', '/echo'],
    ['a Carafe app that answers its own 413', 'carafe-app.mjs', '/text'],
  ])('gets 413 with Connection: close, and the server stops reading (%s)', async (_what, module, path) => {
    const port = await serve([module, '--limit-request-body', '1000']);
    const { answer, closeAfter413Ms, acceptedAfter413 } = await streamPastLimit(port, path);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(answer).toContain('application/problem+json');
    expect(closeAfter413Ms).toBeLessThan(1000);
    // Socket buffers on loopback hold a few hundred KiB; a server reading on would take megabytes.
    expect(acceptedAfter413).toBeLessThan(1024 * 1024);
    // The worker is fine: the next request is served.
    expect((await request(port, '/healthz')).status).toBeLessThan(500);
  });
});
