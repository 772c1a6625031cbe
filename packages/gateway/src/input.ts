/**
 * `tsgi.input` (docs/tsgi.md §2.5): the request body as an async iterable of bytes.
 *
 * Node's HTTP parser already strips chunked framing and stops at Content-Length, so the
 * stream yields exactly the body. What this adds: `100 Continue` sent on the first read
 * and not before, and an early `return()` that leaves the socket alone (Node's own stream
 * iterator would destroy it, killing a keep-alive connection just because the
 * application stopped reading).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientDisconnected } from './errors.js';
import type { InputStream } from './types.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const DONE_PROMISE = Promise.resolve(DONE);

/** The input of a request without a body: shared, always empty. */
export const EMPTY_INPUT: InputStream = Object.freeze({
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return EMPTY_ITERATOR;
  },
});
const EMPTY_ITERATOR: AsyncIterator<Uint8Array> = Object.freeze({
  next: () => DONE_PROMISE,
  return: () => DONE_PROMISE,
});

/** Does this request have a body? (RFC 9112 §6.3: only Content-Length or Transfer-Encoding give one.) */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** The body of one request; iterable once (a second iteration yields what is left, usually nothing). */
export class RequestBody implements InputStream, AsyncIterator<Uint8Array> {
  /** True while a `100 Continue` is owed to the client: it is sent on the first read. */
  awaitingContinue: boolean;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private started = false;
  private stopped = false;
  private pending: Promise<IteratorResult<Uint8Array>> | undefined;
  /** The application read the body to its end (not merely every byte: it was told `done`). */
  ended = false;
  /** Whether the first wait, a poll after the current parse ({@link pollLater}), has been tried. */
  private polledLater = false;

  constructor(req: IncomingMessage, res: ServerResponse, awaitingContinue: boolean) {
    this.req = req;
    this.res = res;
    this.awaitingContinue = awaitingContinue;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  /** The application began reading the body and has not stopped or reached its end. */
  get reading(): boolean {
    return this.started && !this.stopped;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    this.started = true;
    // A second next() before the first settled waits its turn rather than racing it.
    if (this.pending !== undefined) return this.pending.then(() => this.next());
    if (this.stopped) return DONE_PROMISE;
    if (this.awaitingContinue) {
      this.awaitingContinue = false;
      if (!this.res.headersSent) this.res.writeContinue();
    }
    let step: IteratorResult<Uint8Array> | undefined;
    try {
      step = this.poll();
    } catch (error) {
      return Promise.reject(error);
    }
    if (step !== undefined) return step === DONE ? DONE_PROMISE : Promise.resolve(step);
    const wait = this.polledLater ? this.waitForData() : this.pollLater();
    this.pending = wait;
    return wait;
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.stopped = true;
    return DONE_PROMISE;
  }

  /**
   * The next step if it is known now — a buffered chunk, or the end — else `undefined`.
   * @throws {ClientDisconnected} when the client went away before the end of the body.
   */
  private poll(): IteratorResult<Uint8Array> | undefined {
    const req = this.req;
    const chunk = req.read() as Uint8Array | null;
    if (chunk !== null) return { value: chunk, done: false };
    // `complete`: the parser has queued the end of the body, and nothing of it is left to read.
    if (req.readableEnded || (req.complete && req.readableLength === 0)) {
      this.stopped = true;
      this.ended = true;
      return DONE;
    }
    if (req.destroyed) throw disconnected(req);
    return undefined;
  }

  /**
   * The first wait: polls again after this turn's I/O callbacks (setImmediate), and only if the
   * body is still not there waits for `'readable'`. A handler that reads the body as it is called
   * runs inside the parser's callback for the headers, before the parser pushes the body that came
   * in the same read; a microtask is too early (Node runs them after each parser callback, so
   * between the headers and the body), setImmediate is after the whole read. That spares adding and
   * removing two listeners and Node's nextTick emitting `'readable'`: about 4,000 instructions on a
   * 1 KB JSON POST (callgrind, bench/profile.mjs carafe echo: 156.1k → 152.0k).
   */
  private pollLater(): Promise<IteratorResult<Uint8Array>> {
    this.polledLater = true;
    return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      setImmediate(() => {
        let step: IteratorResult<Uint8Array> | undefined;
        try {
          step = this.poll();
        } catch (error) {
          this.pending = undefined;
          this.stopped = true;
          reject(error);
          return;
        }
        if (step === undefined) resolve(this.waitForData());
        else {
          this.pending = undefined;
          resolve(step);
        }
      });
    });
  }

  /**
   * Waits for Node's `'readable'` (data, or the end) or `'close'` (an abort) and settles with
   * the step {@link poll} then finds: resolved from the listener, with no further promise in
   * between (~500 instructions a wait less than resolving first and calling next() again, callgrind).
   */
  private waitForData(): Promise<IteratorResult<Uint8Array>> {
    const req = this.req;
    return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      const stopListening = () => {
        req.off('readable', onReadable);
        req.off('close', onClose);
        this.pending = undefined;
      };
      const fail = (error: unknown) => {
        stopListening();
        this.stopped = true;
        reject(error);
      };
      const onReadable = () => {
        let step: IteratorResult<Uint8Array> | undefined;
        try {
          step = this.poll();
        } catch (error) {
          fail(error);
          return;
        }
        if (step === undefined) return; // nothing to read yet: keep waiting
        stopListening();
        resolve(step);
      };
      const onClose = () => {
        if (!req.readableEnded) {
          fail(disconnected(req));
          return;
        }
        stopListening();
        this.stopped = true;
        this.ended = true;
        resolve(DONE);
      };
      // Listeners are removed as soon as one settles the wait: a lingering 'readable' listener
      // would stop Node from draining an unread body after the response, stalling keep-alive.
      req.on('readable', onReadable);
      req.on('close', onClose);
    });
  }
}

function disconnected(req: IncomingMessage): Error {
  return new ClientDisconnected(req.errored ?? undefined);
}
