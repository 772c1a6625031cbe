/** RFC 9457 problem details, the body of every error the server itself produces. */
import { STATUS_CODES } from 'node:http';
import type { HeaderList } from '@carafe/gateway';

/** `413` → `"413 Content Too Large"`, the status line TSGI's `startResponse` takes. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** The JSON text of a problem document for `status`, with an optional human-readable detail. */
export function problemBody(status: number, detail?: string): string {
  return JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, ...(detail ? { detail } : {}) });
}

/** Headers and body of a problem response, ready for `startResponse`. */
export function problemResponse(status: number, detail?: string): { status: string; headers: HeaderList; body: Buffer } {
  const body = Buffer.from(problemBody(status, detail));
  return {
    status: statusLine(status),
    headers: [
      ['Content-Type', 'application/problem+json'],
      ['Content-Length', String(body.length)],
    ],
    body,
  };
}
