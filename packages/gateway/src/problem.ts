/**
 * RFC 9457 problem documents for the responses a server or middleware produces on its own
 * (malformed requests, limits, failures before the app answered), so that every error a client
 * sees from a TSGI stack has the same `application/problem+json` shape.
 *
 * Imports no `node:` module: the fetch binding (fetch.ts) answers with these on every runtime.
 * Writing one straight onto a socket is node:http's business (socket-problem.ts).
 */
import { STATUS_TEXT } from './status-text.js';
import type { TsgiResponse } from './types.js';

const encoder = new TextEncoder();
// Node's (and Bun's) Buffer, found without importing node:buffer: problem bodies stay Buffers there,
// as they always were (so `String(body[0])` reads as the JSON text); plain bytes elsewhere.
const NodeBuffer = (globalThis as { Buffer?: { from(bytes: ArrayBuffer, offset: number, length: number): Uint8Array } }).Buffer;

function bytesOf(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  return NodeBuffer === undefined ? bytes : NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
}

/** `413` → `"413 Payload Too Large"`: a status line's code and reason phrase (Node's). */
export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? 'Unknown'}`;
}

/** The JSON text of a problem document for `status`, with an optional human-readable detail. */
export function problemJson(status: number, detail?: string): string {
  const problem: Record<string, unknown> = { type: 'about:blank', title: STATUS_TEXT[status] ?? 'Error', status };
  if (detail) problem.detail = detail;
  return JSON.stringify(problem);
}

/**
 * A problem response for `status`, ready to return from an application or middleware. The body is
 * a `Buffer` where the runtime has one (Node, Bun), else a `Uint8Array`.
 */
export function problemResponse(status: number, detail?: string): TsgiResponse & { body: [Uint8Array] } {
  const body = bytesOf(problemJson(status, detail));
  return {
    status,
    headers: [
      ['Content-Type', 'application/problem+json'],
      ['Content-Length', String(body.byteLength)],
    ],
    body: [body],
  };
}
