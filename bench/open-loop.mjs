// @ts-check
// The open-loop client of the costs meter: requests go out on a fixed schedule (request i at
// i ÷ rate seconds, on connection i mod connections), whatever the server is doing, and each
// one's latency runs from the time it was *scheduled*, not from when it could be written.
// A closed-loop client (wrk, client.mjs) waits for a response before sending the next request,
// so a server that stalls for 100 ms is simply sent fewer requests during the stall, and the
// requests it delayed never show it: "coordinated omission". Here a request due on a busy
// connection waits in that connection's queue (no pipelining: Gunicorn does not take it), and
// the wait counts in its latency, as it would for a user who clicked at that moment.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResponseParser, requestBytes } from './client.mjs';

/**
 * The schedule: how many requests, when each one is due (ms after the start) and on which
 * keep-alive connection. Spread round-robin, each connection carries one request every
 * `connections ÷ rate` seconds.
 * @param {{rate: number, duration: number, connections: number}} o rate per second, duration in seconds
 */
export function openLoopSchedule({ rate, duration, connections }) {
  const count = Math.floor(rate * duration);
  return {
    count,
    /** @param {number} i */
    at: (i) => (i * 1000) / rate,
    /** @param {number} i */
    connection: (i) => i % connections,
  };
}

/**
 * The nearest-rank percentile `q` (0–1) of ascending `sorted` values: the smallest value with at
 * least q of all values at or below it (so p100 is the maximum), or null when there are none.
 * @param {number[]} sorted @param {number} q
 */
export function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * @typedef {object} OpenLoopResult
 * @property {number} scheduled requests the schedule holds
 * @property {number} answered 2xx responses (the latencies)
 * @property {number} failed non-2xx responses, and requests lost with a connection that failed
 * @property {number} unanswered requests without a response when the client gave up waiting
 * @property {number | null} p50_ms latency from the scheduled send time to the end of the response
 * @property {number | null} p90_ms
 * @property {number | null} p99_ms
 * @property {number | null} p999_ms
 * @property {number | null} max_ms
 * @property {number | null} client_lag_p99_ms how late the client's own timer sent requests (p99), which counts in the latencies
 * @property {number | null} client_lag_max_ms
 * @property {number} connects connections opened, the initial ones included
 * @property {number} seconds wall-clock length of the run, draining included
 */

/** @param {number | null} value */
const ms3 = (value) => (value === null ? null : Math.round(value * 1000) / 1000);

/**
 * Summarizes a run from its latencies (ms, answered requests only, any order) and counts.
 * @param {{latencies: number[], lags: number[], scheduled: number, failed: number, unanswered: number, connects: number, seconds: number}} o
 * @returns {OpenLoopResult}
 */
export function summarizeOpenLoop({ latencies, lags, scheduled, failed, unanswered, connects, seconds }) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const lagSorted = [...lags].sort((a, b) => a - b);
  return {
    scheduled,
    answered: sorted.length,
    failed,
    unanswered,
    p50_ms: ms3(percentile(sorted, 0.5)),
    p90_ms: ms3(percentile(sorted, 0.9)),
    p99_ms: ms3(percentile(sorted, 0.99)),
    p999_ms: ms3(percentile(sorted, 0.999)),
    max_ms: ms3(percentile(sorted, 1)),
    client_lag_p99_ms: ms3(percentile(lagSorted, 0.99)),
    client_lag_max_ms: ms3(percentile(lagSorted, 1)),
    connects,
    seconds: Math.round(seconds * 100) / 100,
  };
}

// Node's timers fire on a 1-ms clock, late by up to a millisecond — more than a small response
// takes on loopback. The client sleeps on a timer until this close to the next send, then
// polls with setImmediate (I/O still runs between polls), so it keeps to the schedule within
// a few microseconds at the price of some CPU on its own core.
const SPIN_MS = 1.5;

/**
 * @typedef {object} Lane one keep-alive connection and the requests due on it
 * @property {net.Socket | null} socket
 * @property {ResponseParser} parser
 * @property {number | null} inFlight index of the request written and not yet answered
 * @property {number[]} queue indices of requests due but waiting for the connection
 */

/**
 * Runs the schedule against `port` and resolves with its summary. The connections are opened
 * before the clock starts; after the last scheduled request the client waits up to `drainMs`
 * for the responses still due, then counts the rest as unanswered.
 * @param {{host?: string, port: number, request: {method: string, path: string, body?: string}, rate: number,
 *   duration: number, connections: number, drainMs?: number}} o
 * @returns {Promise<OpenLoopResult>}
 */
export async function runOpenLoop({ host = '127.0.0.1', port, request, rate, duration, connections, drainMs = 5000 }) {
  const schedule = openLoopSchedule({ rate, duration, connections });
  const bytes = requestBytes({ host, port, method: request.method, path: request.path, body: request.body });
  /** @type {number[]} */
  const latencies = [];
  /** @type {number[]} */
  const lags = [];
  let failed = 0;
  let settled = 0;
  let connects = 0;
  let t0 = 0;
  /** @type {() => void} */
  let onSettled = () => {};

  /** @param {Lane} lane @param {number | null} status null: the connection failed */
  const settle = (lane, status) => {
    const index = /** @type {number} */ (lane.inFlight);
    lane.inFlight = null;
    settled++;
    if (status !== null && status >= 200 && status <= 299) latencies.push(performance.now() - t0 - schedule.at(index));
    else failed++;
    if (lane.queue.length > 0) write(lane, /** @type {number} */ (lane.queue.shift()));
    onSettled();
  };

  /** @param {Lane} lane @returns {Promise<void>} resolves once connected (or failed) */
  const open = (lane) => {
    connects++;
    const socket = net.connect({ host, port, noDelay: true });
    lane.socket = socket;
    lane.parser = new ResponseParser();
    socket.on('data', (chunk) => {
      let statuses;
      try {
        statuses = lane.parser.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const status of statuses) if (lane.inFlight !== null) settle(lane, status);
      if (lane.parser.closing) socket.destroy();
    });
    const fail = () => {
      if (lane.socket !== socket) return;
      lane.socket = null;
      if (lane.inFlight !== null) settle(lane, null);
    };
    socket.on('error', fail);
    socket.on('close', fail);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('error', () => resolve());
    });
  };

  /** @param {Lane} lane @param {number} index */
  const write = (lane, index) => {
    if (lane.socket === null || lane.socket.destroyed) void open(lane);
    lane.inFlight = index;
    /** @type {net.Socket} */ (lane.socket).write(bytes);
  };

  /** @type {Lane[]} */
  const lanes = Array.from({ length: connections }, () => ({ socket: null, parser: new ResponseParser(), inFlight: null, queue: [] }));
  await Promise.all(lanes.map(open));

  t0 = performance.now();
  let next = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now() - t0;
      while (next < schedule.count && schedule.at(next) <= now) {
        const lane = lanes[schedule.connection(next)];
        lags.push(now - schedule.at(next));
        if (lane.inFlight === null) write(lane, next);
        else lane.queue.push(next);
        next++;
      }
      if (next >= schedule.count) return resolve(undefined);
      const wait = schedule.at(next) - (performance.now() - t0);
      if (wait > SPIN_MS) setTimeout(tick, wait - SPIN_MS);
      else setImmediate(tick);
    };
    tick();
  });

  // Drain: the responses still due, up to drainMs.
  const drained = new Promise((resolve) => {
    onSettled = () => settled >= schedule.count && resolve(undefined);
    onSettled();
  });
  await Promise.race([drained, sleep(drainMs)]);
  onSettled = () => {};
  const seconds = (performance.now() - t0) / 1000;
  const unanswered = schedule.count - settled;
  for (const lane of lanes) {
    const socket = lane.socket;
    lane.socket = null; // so that closing them fails nothing
    socket?.destroy();
  }
  return summarizeOpenLoop({ latencies, lags, scheduled: schedule.count, failed, unanswered, connects, seconds });
}
