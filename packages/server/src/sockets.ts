/** The `--bind` addresses: parsing, unix-socket housekeeping, and the listen options a worker uses. */
import { lookup } from 'node:dns/promises';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import net, { connect, isIP } from 'node:net';
import { resolve } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { SettingError } from './settings.js';

export type BindAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string } | { kind: 'fd'; fd: number };

const DEFAULT_PORT = 8000;

/** Parses one `--bind` value. */
export function parseBind(text: string): BindAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path) throw new SettingError(`--bind ${text}: missing socket path`);
    return { kind: 'unix', path: resolve(path) };
  }
  if (text.startsWith('fd://')) {
    const fd = Number(text.slice(5));
    if (!Number.isInteger(fd) || fd < 0) throw new SettingError(`--bind ${text}: expected fd://N with N a file descriptor`);
    return { kind: 'fd', fd };
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if (text.includes(':')) {
    const colon = text.lastIndexOf(':');
    host = text.slice(0, colon) || '0.0.0.0';
    portText = text.slice(colon + 1);
  } else if (/^\d+$/.test(text)) {
    host = '0.0.0.0';
    portText = text;
  } else {
    host = text;
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || portText === '') {
    throw new SettingError(`--bind ${text}: bad port`);
  }
  if (!host) throw new SettingError(`--bind ${text}: missing host`);
  return { kind: 'tcp', host, port };
}

/** How the address reads in logs: `http://127.0.0.1:8000`, `unix:/run/app.sock`, `fd://3`. */
export function describeBind(address: BindAddress): string {
  switch (address.kind) {
    case 'tcp':
      return `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    case 'unix':
      return `unix:${address.path}`;
    case 'fd':
      return `fd://${address.fd}`;
  }
}

/**
 * A bound (not yet listening) socket handle: the arbiter holds one per address for its
 * whole life and passes it to every worker, which listens and accepts on it. Because the
 * arbiter never listens on it, it never accepts; because it keeps it open, connections
 * wait in the backlog while workers restart instead of being refused.
 */
export interface SocketHandle {
  readonly fd: number;
  close(): void;
  getsockname?(out: Record<string, unknown>): number;
}

type CreateServerHandle = (
  address: string | null,
  port: number | null,
  addressType: number | null,
  fd?: number,
  flags?: number,
) => SocketHandle | number;

/**
 * `net._createServerHandle`: undocumented, and the one Node internal the server relies on. It is
 * the primitive `node:cluster` itself uses (lib/internal/cluster/shared_handle.js) to bind a
 * socket in the primary and share it with workers that listen on it. No documented API gives
 * a bound socket that the arbiter holds without listening on it:
 *
 * - `server.listen({ reusePort: true })` (Node >= 22.12 / 23.1) lets each worker bind the port
 *   itself, but it exists only on some platforms (Linux 3.9+, FreeBSD 12+, ...; not macOS or
 *   Windows, where listen fails), not for unix sockets or `fd://`, and it changes what a
 *   deployment sees: connections queued on a worker that dies are reset instead of waiting in a
 *   backlog the arbiter keeps open, a single worker's restart refuses connections, and a second
 *   server started on the same port by the same user silently shares it instead of failing with
 *   EADDRINUSE.
 * - Sending a listening `net.Server` to the workers (`subprocess.send(message, server)`, the
 *   documented way) makes the arbiter accept connections too, and it never serves them.
 * - `node:cluster` with `SCHED_NONE` closes the shared handle when its last worker exits, so a
 *   one-worker restart refuses connections and a `:0` port changes.
 *
 * So it is kept, checked here at load (a clear error, not a TypeError at bind time), and pinned
 * by packages/server/test/sockets.test.ts, which fails on a Node release that changes it.
 */
const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;

function requireCreateServerHandle(): CreateServerHandle {
  if (typeof createServerHandle !== 'function') {
    throw new Error(
      `Node ${process.version} has no net._createServerHandle, which carafe serve uses to share its listening sockets with its workers (see sockets.ts); use a Node release carafe supports`,
    );
  }
  return createServerHandle;
}

/** Binds `address` in this process (the arbiter). */
export async function bindHandle(address: BindAddress): Promise<SocketHandle> {
  const createServerHandle = requireCreateServerHandle();
  let handle: SocketHandle | number;
  switch (address.kind) {
    case 'tcp': {
      const ip = isIP(address.host) ? { address: address.host, family: isIP(address.host) } : await lookup(address.host);
      handle = createServerHandle(ip.address, address.port, ip.family);
      break;
    }
    case 'unix':
      handle = createServerHandle(address.path, -1, -1);
      break;
    case 'fd':
      handle = createServerHandle(null, null, null, address.fd);
      break;
  }
  if (typeof handle === 'number') {
    throw new Error(`cannot bind ${describeBind(address)}: ${getSystemErrorName(handle)}`);
  }
  if (address.kind === 'tcp') {
    // libuv defers EADDRINUSE from bind() to listen(); an unbound socket reveals it here.
    const port = boundPort(handle);
    if (!port || (address.port !== 0 && port !== address.port)) {
      handle.close();
      throw new Error(`cannot bind ${describeBind(address)}: EADDRINUSE`);
    }
  }
  return handle;
}

/** The port a TCP handle was bound to (useful with port 0). */
export function boundPort(handle: SocketHandle): number | undefined {
  const out: Record<string, unknown> = {};
  return handle.getsockname && handle.getsockname(out) === 0 ? (out.port as number) : undefined;
}

/** True when something is accepting connections on the unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((done) => {
    const probe = connect({ path });
    const finish = (answer: boolean) => {
      probe.destroy();
      done(answer);
    };
    probe.once('connect', () => finish(true));
    probe.once('error', () => finish(false));
    probe.setTimeout(1000, () => finish(false));
  });
}

/**
 * Before binding a unix socket: a leftover socket file from a server that died is removed;
 * one that still answers, or a path that is not a socket, is an error.
 */
export async function clearStaleUnixSocket(path: string): Promise<void> {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`cannot bind unix:${path}: the path exists and is not a socket`);
  if (await socketAnswers(path)) throw new Error(`cannot bind unix:${path}: another server is listening on it`);
  unlinkSync(path);
}

export function chmodUnixSocket(path: string, mode: string): void {
  chmodSync(path, parseInt(mode, 8));
}

export function removeUnixSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
