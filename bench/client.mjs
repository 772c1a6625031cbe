// @ts-check
// A keep-alive HTTP/1.1 load client that sends an exact number of requests, for the
// instruction meter: callgrind counts what a server executes between two commands, so the
// window must hold a known number of requests and nothing else. It holds its connections
// open across phases (warm-up, then the measured window), keeps one request in flight per
// connection (as wrk does), sends the same bytes wrk sends, and reads responses with just
// enough HTTP to find where each ends (Content-Length or chunked).
import net from 'node:net';

/**
 * @typedef {object} PhaseResult
 * @property {number} requests responses received
 * @property {number} non2xx responses whose status was not 2xx
 * @property {number} errors connections that failed or closed with a request in flight
 * @property {number} connects connections opened during the phase (0 when all were reused)
 * @property {number} seconds wall-clock length of the phase
 */

/** The bytes of one request, as wrk sends them (HTTP/1.1, so keep-alive by default). */
export function requestBytes({ host, port, method, path, body }) {
  const head = [`${method} ${path} HTTP/1.1`, `Host: ${host}:${port}`];
  if (body !== undefined) head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

/**
 * Incremental parser of the responses arriving on one connection. `push(chunk)` returns
 * the status codes of the responses that chunk completed.
 */
export class ResponseParser {
  constructor() {
    /** @type {Buffer} */
    this.buffer = Buffer.alloc(0);
    /** @type {null | {status: number, length: number | null, chunked: boolean, close: boolean}} */
    this.head = null;
    /** Set when the server said `Connection: close` on a completed response. */
    this.closing = false;
  }

  /** @param {Buffer} chunk @returns {number[]} */
  push(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    /** @type {number[]} */
    const done = [];
    for (;;) {
      if (this.head === null) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end === -1) return done;
        this.head = parseHead(this.buffer.subarray(0, end).toString('latin1'));
        this.buffer = this.buffer.subarray(end + 4);
      }
      const consumed = this.head.chunked ? chunkedLength(this.buffer) : (this.head.length ?? 0);
      if (consumed === null || this.buffer.length < consumed) return done;
      this.buffer = this.buffer.subarray(consumed);
      done.push(this.head.status);
      if (this.head.close) this.closing = true;
      this.head = null;
    }
  }
}

/** @param {string} text the status line and headers, without the blank line */
export function parseHead(text) {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!status) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(lines[0].slice(0, 80))}`);
  let length = null;
  let chunked = false;
  let close = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding')
      chunked = value
        .split(',')
        .map((s) => s.trim())
        .includes('chunked');
    else if (name === 'connection') close = value === 'close';
  }
  return { status: Number(status[1]), length: chunked ? null : length, chunked, close };
}

/**
 * Bytes a complete chunked body takes at the start of `buffer` (chunks, the last empty
 * chunk, trailers and the final blank line), or null while it is incomplete.
 * @param {Buffer} buffer
 */
export function chunkedLength(buffer) {
  let at = 0;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1').split(';')[0], 16);
    if (!Number.isFinite(size)) throw new Error('malformed chunk size');
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers, if any, then an empty line.
      for (;;) {
        const end = buffer.indexOf('\r\n', at);
        if (end === -1) return null;
        const empty = end === at;
        at = end + 2;
        if (empty) return at;
      }
    }
    if (buffer.length < at + size + 2) return null;
    at += size + 2;
  }
}

/**
 * @typedef {object} Connection
 * @property {net.Socket} socket
 * @property {ResponseParser} parser
 * @property {((status: number | null) => void) | null} pending called with the status of the response awaited, or null when the connection failed first
 */

export class KeepAliveClient {
  /**
   * @param {{host?: string, port: number, connections: number}} o
   */
  constructor({ host = '127.0.0.1', port, connections }) {
    this.host = host;
    this.port = port;
    this.connections = connections;
    /** @type {Array<Connection | null>} */
    this.slots = Array.from({ length: connections }, () => null);
    /** Connections opened so far. */
    this.connects = 0;
  }

  /** The bytes of a request to this client's server. @param {{method: string, path: string, body?: string}} r */
  request({ method, path, body }) {
    return requestBytes({ host: this.host, port: this.port, method, path, body });
  }

  /**
   * Sends exactly `count` requests, at most one in flight per connection, and resolves when
   * every response has arrived (or its connection failed). With several requests given, the
   * n-th request sent is `requests[n % requests.length]`.
   * @param {number} count
   * @param {Buffer[]} requests from {@link KeepAliveClient.request}
   * @param {number} [timeoutMs] give up (reject) after this long
   * @returns {Promise<PhaseResult>}
   */
  send(count, requests, timeoutMs = 600_000) {
    const started = process.hrtime.bigint();
    const connectsBefore = this.connects;
    let sent = 0;
    let settled = 0;
    let non2xx = 0;
    let errors = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${count - settled} of ${count} requests unanswered after ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const finish = () => {
        clearTimeout(timer);
        resolve({
          requests: settled - errors,
          non2xx,
          errors,
          connects: this.connects - connectsBefore,
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
      };
      /** @param {number} slot */
      const next = (slot) => {
        if (sent >= count) return;
        const bytes = requests[sent % requests.length];
        sent++;
        this.#issue(slot, bytes, (status) => {
          if (status === null) errors++;
          else if (status < 200 || status > 299) non2xx++;
          settled++;
          if (settled === count) finish();
          else next(slot);
        });
      };
      if (count === 0) finish();
      for (let slot = 0; slot < Math.min(this.connections, count); slot++) next(slot);
    });
  }

  /** Closes every connection. */
  close() {
    for (const connection of this.slots) connection?.socket.destroy();
    this.slots.fill(null);
  }

  /**
   * Writes one request on connection `slot`, opening it first when it is not open (or the
   * server closed it), and calls `done` with the response's status.
   * @param {number} slot
   * @param {Buffer} bytes
   * @param {(status: number | null) => void} done
   */
  #issue(slot, bytes, done) {
    let connection = this.slots[slot];
    if (connection === null || connection.socket.destroyed) {
      connection = this.#connect(slot);
      this.slots[slot] = connection;
    }
    connection.pending = done;
    connection.socket.write(bytes);
  }

  /** @param {number} slot @returns {Connection} */
  #connect(slot) {
    this.connects++;
    /** @type {Connection} */
    const connection = {
      socket: net.connect({ host: this.host, port: this.port, noDelay: true }),
      parser: new ResponseParser(),
      pending: null,
    };
    const settle = (/** @type {number | null} */ status) => {
      const callback = connection.pending;
      connection.pending = null;
      callback?.(status);
    };
    connection.socket.on('data', (chunk) => {
      let statuses;
      try {
        statuses = connection.parser.push(chunk);
      } catch {
        connection.socket.destroy();
        return;
      }
      for (const status of statuses) settle(status);
      if (connection.parser.closing) connection.socket.destroy();
    });
    const fail = () => {
      if (this.slots[slot] === connection) this.slots[slot] = null;
      settle(null);
    };
    connection.socket.on('error', fail);
    connection.socket.on('close', fail);
    return connection;
  }
}
