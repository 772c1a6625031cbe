/**
 * A raw HTTP/1.1 client for the conformance suite: sends bytes as they are on a fresh connection
 * and reads the responses off the wire one by one, without the leniency of Node's own client.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names in lower case; repeated ones joined with ", ". */
  headers: Record<string, string>;
  /** The body's bytes as latin1 text (one character a byte). */
  body: string;
}

/** The body decoded as UTF-8 (the JSON the echo app and problems are written in). */
export function utf8(response: RawResponse): string {
  return Buffer.from(response.body, 'latin1').toString('utf8');
}

export interface Exchange {
  responses: RawResponse[];
  /** Bytes received after the last complete response. */
  rest: string;
  /** Did the server close the connection (within the wait)? */
  closed: boolean;
  /** Milliseconds from sending to the close, when it closed. */
  closedAfterMs: number | undefined;
}

/** Splits the complete responses off the front of `data`; 1xx interim responses are skipped. */
export function parseResponses(data: string): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const lines = data.slice(at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let bodyStart = end + 4;
    let body: string;
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue;
    }
    if (headers['transfer-encoding'] === 'chunked') {
      body = '';
      for (;;) {
        const sizeEnd = data.indexOf('\r\n', bodyStart);
        if (sizeEnd === -1) return { responses, rest: data.slice(at) };
        const size = parseInt(data.slice(bodyStart, sizeEnd), 16);
        if (data.length < sizeEnd + 2 + size + 2) return { responses, rest: data.slice(at) };
        body += data.slice(sizeEnd + 2, sizeEnd + 2 + size);
        bodyStart = sizeEnd + 2 + size + 2;
        if (size === 0) break;
      }
      at = bodyStart;
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < bodyStart + length) break;
      body = data.slice(bodyStart, bodyStart + length);
      at = bodyStart + length;
    }
    responses.push({ status, headers, body });
  }
  return { responses, rest: data.slice(at) };
}

/**
 * Sends `data` on a new connection, reads until `count` responses have arrived, then until the
 * server closes the connection or `settleMs` more pass (to see that nothing else comes). Fails
 * after `timeoutMs` in all.
 */
export function exchange(port: number, data: string, count: number, settleMs: number, timeoutMs = 5000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const started = Date.now();
    let received = '';
    let settled: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(settled);
      clearTimeout(deadline);
      socket.destroy();
      try {
        const { responses, rest } = parseResponses(received);
        resolve({ responses, rest, closed, closedAfterMs: closed ? Date.now() - started : undefined });
      } catch (error) {
        reject(error);
      }
    };
    const deadline = setTimeout(() => {
      if (finished) return;
      finished = true;
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(received.slice(0, 500))}`));
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (settled === undefined && parseResponses(received).responses.length >= count) {
        settled = setTimeout(() => finish(false), settleMs);
      }
    });
    // A reset after the answer (the server closed with unread bytes) is a close too.
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.write(Buffer.from(data, 'latin1'));
  });
}
