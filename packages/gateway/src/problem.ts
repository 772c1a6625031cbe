/**
 * RFC 9457 problem documents for the responses a server or middleware produces on its own
 * (malformed requests, limits, failures before the app answered), so that every error a client
 * sees from a TSGI stack has the same `application/problem+json` shape.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { TsgiResponse } from './types.js';

/** `413` → `"413 Content Too Large"`: a status line's code and reason phrase. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** The JSON text of a problem document for `status`, with an optional human-readable detail. */
export function problemJson(status: number, detail?: string): string {
  const problem: Record<string, unknown> = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status };
  if (detail) problem.detail = detail;
  return JSON.stringify(problem);
}

/** A problem response for `status`, ready to return from an application or middleware. */
export function problemResponse(status: number, detail?: string): TsgiResponse & { body: [Buffer] } {
  const body = Buffer.from(problemJson(status, detail));
  return {
    status,
    headers: [
      ['Content-Type', 'application/problem+json'],
      ['Content-Length', String(body.length)],
    ],
    body: [body],
  };
}

/**
 * Answers a request that never reached the app (Node's parser refused it, or it came too slowly)
 * straight on its socket, and closes the connection. Sockets that already carry a response, or
 * whose peer left, are destroyed instead.
 */
export function answerOnSocket(socket: Socket, status: number, detail?: string): void {
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const body = problemJson(status, detail);
  socket.end(
    `HTTP/1.1 ${statusLine(status)}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
