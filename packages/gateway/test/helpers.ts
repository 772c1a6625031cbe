import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import {
  createServer,
  validator,
  type BindingOptions,
  type ErrorStream,
  type HeaderList,
  type ResponseBody,
  type TsgiApplication,
  type TsgiResponse,
} from '@carafe/gateway';
import { afterEach } from 'vitest';

/** An error stream that keeps what it is given. */
export function memoryErrors(): ErrorStream & { text(): string } {
  const lines: string[] = [];
  return { write: (message: string) => void lines.push(message), text: () => lines.join('') };
}

/** A response object: `reply(200, [['Content-Type', 'text/plain']], ['hello'])`. */
export function reply(status: number, headers: HeaderList = [], body: ResponseBody = []): TsgiResponse {
  return { status, headers, body };
}

/** Status line, Content-Type and parsed JSON body of a raw problem+json response. */
export function problemOf(text: string): { statusLine: string; type: string | undefined; body: Record<string, unknown> } {
  const { statusLine, headers, body } = parseResponse(text);
  return { statusLine, type: headers['content-type'], body: JSON.parse(body) as Record<string, unknown> };
}

/** Starts `server` on a free port; returns the port. */
export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Sends `request` (raw bytes) and resolves with everything the server sent until it
 * closed the connection, or until `until` matches what arrived so far.
 */
export function rawExchange(
  port: number,
  request: string | Buffer | Array<string | Buffer>,
  options: { until?: (received: string) => boolean; timeoutMs?: number; gapMs?: number } = {},
): Promise<{ text: string; closedByServer: boolean; error?: Error }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let finished = false;
    const finish = (closedByServer: boolean, error?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closedByServer, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => {
      finished = true;
      socket.destroy();
      reject(new Error(`no complete response within ${options.timeoutMs ?? 5000} ms; got ${JSON.stringify(text)}`));
    }, options.timeoutMs ?? 5000);
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      text += data;
      if (options.until?.(text)) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('error', (error) => finish(true, error));
    const parts = Array.isArray(request) ? request : [request];
    void (async () => {
      for (const part of parts) {
        if (finished) return;
        socket.write(part);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    })();
  });
}

/** Splits a raw HTTP/1.1 response into status line, lower-cased headers and body. */
export function parseResponse(text: string): { statusLine: string; headers: Record<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusLine: head[0] ?? '', headers, body: text.slice(end + 4) };
}

/** Decodes a chunked body; throws if the terminating chunk is missing. */
export function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd === -1) throw new Error('chunked body is truncated');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (size === 0) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export type { BindingOptions };

/**
 * Returns `serveApp(app, options)`, which serves `validator(app)` on a free port and resolves to
 * that port; every server it started (or was given through `.listen`) is closed after each test of the calling file.
 */
export function useServers(): ServeApp {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(close));
  });
  const serveApp: ServeApp = (app, options = {}) => serveApp.listen(createServer(validator(app), options));
  serveApp.listen = (server) => {
    servers.push(server);
    return listen(server);
  };
  return serveApp;
}

/** Serves an app under the validator; `.listen(server)` serves a server built by hand. */
export interface ServeApp {
  (app: TsgiApplication, options?: Parameters<typeof createServer>[1]): Promise<number>;
  listen(server: Server): Promise<number>;
}
