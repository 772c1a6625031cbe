/**
 * Pins the one undocumented Node internal `carafe serve` relies on, `net._createServerHandle`
 * (see src/sockets.ts for why no documented API replaces it): on every supported Node it must
 * bind without listening, report its errors as numbers, and give a handle `server.listen(handle)`
 * accepts. A Node release that changes any of this fails here, not in production.
 */
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindHandle, boundPort, type SocketHandle } from '../src/sockets.js';

const dir = mkdtempSync(join(tmpdir(), 'carafe-sockets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function connects(options: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Serves `handle` in this process, as a worker does, and GETs / through it. */
async function serveOn(handle: SocketHandle, connect: { host: string; port: number } | { socketPath: string }): Promise<string> {
  const server = http.createServer((_req, res) => res.end('served'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(handle, resolve);
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = http.get({ ...connect, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.setTimeout(2000, () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('net._createServerHandle, as carafe serve uses it', () => {
  it('exists', () => {
    expect(typeof (net as unknown as { _createServerHandle?: unknown })._createServerHandle).toBe('function');
  });

  it('binds a TCP address without listening, and the handle serves once listened on', async () => {
    const handle = await bindHandle({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    try {
      expect(handle.fd).toBeGreaterThan(0);
      const port = boundPort(handle)!;
      expect(port).toBeGreaterThan(0);
      // Bound, not listening: nobody accepts yet.
      expect(await connects({ host: '127.0.0.1', port })).toBe(false);
      expect(await serveOn(handle, { host: '127.0.0.1', port })).toBe('served');
    } finally {
      handle.close();
    }
  });

  it('reports an address in use as an error, not a handle', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await expect(bindHandle({ kind: 'tcp', host: '127.0.0.1', port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  it('binds a unix socket path, which serves once listened on', async () => {
    const path = join(dir, 'app.sock');
    const handle = await bindHandle({ kind: 'unix', path });
    try {
      expect(await connects({ path })).toBe(false);
      expect(await serveOn(handle, { socketPath: path })).toBe('served');
    } finally {
      handle.close();
    }
  });
});
