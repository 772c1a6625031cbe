/**
 * `validator(app)`: a middleware that checks both the server and the application
 * against the MUSTs of docs/tsgi.md, in the spirit of Python's `wsgiref.validate`.
 * A broken rule throws a {@link TsgiComplianceError} whose message starts with the
 * section stating it. Meant for tests and development, not for production: it wraps
 * every piece of the exchange — the environ and `tsgi.input` the server gives, the response
 * the application returns, and how the server iterates and closes its body.
 */
import { enforce } from './errors.js';
import { environProblem } from './environ-rules.js';
import { checkResponse } from './headers.js';
import type { Chunk, Environ, ErrorStream, Lifespan, ResponseBody, TsgiApplication, TsgiResponse } from './types.js';
import { utf8Length } from './utf8.js';

type AnyIterator = Iterator<Chunk> | AsyncIterator<Chunk>;

// An iterator the server dropped without calling return() can only be noticed when it is
// collected, so this rule is reported to tsgi.errors rather than thrown (§3.4).
const unclosed = new FinalizationRegistry<{ errors: ErrorStream; request: string }>(({ errors, request }) => {
  errors.write(`[tsgi.validator] §3.4 the server never called return() on the body iterator of ${request}\n`);
});

/** Wraps `app` so that every exchange with it is checked against the TSGI specification. */
export function validator(app: TsgiApplication): TsgiApplication {
  if (typeof app !== 'function') enforce('§3.1 an application must be a function');
  const lifespan = app.lifespan as unknown;
  if (
    lifespan !== undefined &&
    (lifespan === null ||
      typeof lifespan !== 'object' ||
      !['startup', 'shutdown'].every((hook) => {
        const fn = (lifespan as Record<string, unknown>)[hook];
        return fn === undefined || typeof fn === 'function';
      }))
  ) {
    enforce('§4 lifespan must be an object whose startup and shutdown, when present, are functions');
  }
  const phase = { started: false, stopped: false };

  const validated: TsgiApplication = (environ) => {
    if (phase.stopped) enforce('§4 the server called the application after shutdown');
    enforce(environProblem(environ));
    environ['tsgi.input'] = checkedInput(environ);
    environ['tsgi.errors'] = checkedErrors(environ['tsgi.errors']);
    const result = app(environ) as unknown;
    if (result !== null && typeof result === 'object' && typeof (result as Partial<Promise<unknown>>).then === 'function') {
      return (result as Promise<unknown>).then((response) => checkedResponse(environ, response));
    }
    return checkedResponse(environ, result);
  };

  const checkedLifespan: Lifespan = {
    async startup() {
      if (phase.started) enforce('§4 startup called twice');
      phase.started = true;
      await app.lifespan?.startup?.();
    },
    async shutdown() {
      if (!phase.started) enforce('§4 shutdown called before startup');
      if (phase.stopped) enforce('§4 shutdown called twice');
      phase.stopped = true;
      await app.lifespan?.shutdown?.();
    },
  };
  validated.lifespan = checkedLifespan;
  return validated;
}

/**
 * Checks what the application returned (§3.2, §3.3, §3.7) and returns it for the server, the
 * body wrapped so that the server's iteration and the chunks are checked as they pass.
 */
function checkedResponse(environ: Environ, response: unknown): TsgiResponse {
  if (response === null || typeof response !== 'object' || Array.isArray(response)) {
    enforce(
      `§3.2 application must return a response object {status, headers, body}, got ${describe(response)}${Array.isArray(response) ? ' (a body, not a response)' : ''}`,
    );
  }
  const { status, headers, body } = response as TsgiResponse;
  const declared = checkResponse(status, headers);
  if (typeof declared === 'string') enforce(declared);
  const exchange = new CheckedExchange(environ, status, declared as number);
  return { status, headers, body: exchange.checkBody(body) };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

class CheckedExchange {
  private readonly environ: Environ;
  private readonly errors: ErrorStream;
  private readonly status: number;
  private readonly declared: number;
  private sent = 0;

  constructor(environ: Environ, status: number, declared: number) {
    this.environ = environ;
    this.errors = environ['tsgi.errors'];
    this.status = status;
    this.declared = declared;
  }

  checkBody(body: unknown): ResponseBody {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      enforce('§3.2 body must be an Iterable or AsyncIterable of chunks, not a single string or Uint8Array (wrap it: [chunk])');
    }
    if (body === null || typeof body !== 'object')
      enforce(`§3.2 body must be an Iterable or AsyncIterable of chunks, got ${describe(body)}`);
    if (Array.isArray(body)) {
      // Checked now and returned as is, so the server's handling of arrays is what gets tested.
      for (const chunk of body as unknown[]) this.checkChunk(chunk);
      this.checkEnd();
      return body as Chunk[];
    }
    const asyncFactory = (body as Partial<AsyncIterable<Chunk>>)[Symbol.asyncIterator];
    const syncFactory = (body as Partial<Iterable<Chunk>>)[Symbol.iterator];
    if (typeof asyncFactory !== 'function' && typeof syncFactory !== 'function') {
      enforce(`§3.2 body must be an Iterable or AsyncIterable of chunks, got ${describe(body)}`);
    }
    let iterated = false;
    const open = (): AnyIterator => {
      if (iterated) enforce('§3.4 the server must iterate the body only once');
      iterated = true;
      const inner = typeof asyncFactory === 'function' ? asyncFactory.call(body) : syncFactory!.call(body);
      return new CheckedIterator(this, inner, typeof asyncFactory === 'function') as unknown as AnyIterator;
    };
    return typeof asyncFactory === 'function'
      ? ({ [Symbol.asyncIterator]: open } as AsyncIterable<Chunk>)
      : ({ [Symbol.iterator]: open } as Iterable<Chunk>);
  }

  /** An application chunk on its way to the server. */
  checkChunk(chunk: unknown): void {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array))
      enforce(`§3.2 body chunks must be Uint8Array or string, got ${describe(chunk)}`);
    const length = typeof chunk === 'string' ? utf8Length(chunk) : (chunk as Uint8Array).byteLength;
    if (length === 0) return;
    if (this.status === 204 || this.status === 304) enforce(`§3.7 a ${this.status} response must not have a body`);
    this.sent += length;
    if (this.declared !== -1 && this.sent > this.declared) enforce(`§3.7 body is longer than its Content-Length of ${this.declared} bytes`);
  }

  /** The body is complete. */
  checkEnd(): void {
    const head = this.environ.REQUEST_METHOD === 'HEAD' && this.sent === 0;
    if (this.declared !== -1 && this.sent < this.declared && !head && this.status !== 304) {
      enforce(`§3.7 body ended after ${this.sent} of its Content-Length of ${this.declared} bytes`);
    }
  }

  watch(iterator: object): object {
    const token = {};
    unclosed.register(iterator, { errors: this.errors, request: `${this.environ.REQUEST_METHOD} ${this.environ.RAW_URI}` }, token);
    return token;
  }
}

class CheckedIterator {
  private readonly exchange: CheckedExchange;
  private readonly inner: AnyIterator;
  private readonly isAsync: boolean;
  private readonly token: object;
  private pending = false;
  private returned = false;

  constructor(exchange: CheckedExchange, inner: AnyIterator, isAsync: boolean) {
    this.exchange = exchange;
    this.inner = inner;
    this.isAsync = isAsync;
    this.token = exchange.watch(this);
  }

  next(): IteratorResult<Chunk> | Promise<IteratorResult<Chunk>> {
    if (this.returned) enforce('§3.4 the server called next() after return()');
    if (this.pending) enforce('§3.4 the server called next() before the previous call settled');
    const step = this.inner.next();
    if (!this.isAsync) return this.checkStep(step as IteratorResult<Chunk>);
    this.pending = true;
    return Promise.resolve(step).then(
      (result) => {
        this.pending = false;
        return this.checkStep(result);
      },
      (error: unknown) => {
        this.pending = false;
        throw error;
      },
    );
  }

  return(): IteratorResult<Chunk> | Promise<IteratorResult<Chunk>> {
    if (this.returned) enforce('§3.4 the server called return() twice');
    this.returned = true;
    unclosed.unregister(this.token);
    const done: IteratorReturnResult<undefined> = { value: undefined, done: true };
    if (typeof this.inner.return !== 'function') return this.isAsync ? Promise.resolve(done) : done;
    return this.inner.return() as IteratorResult<Chunk> | Promise<IteratorResult<Chunk>>;
  }

  private checkStep(step: IteratorResult<Chunk>): IteratorResult<Chunk> {
    if (step.done) this.exchange.checkEnd();
    else this.exchange.checkChunk(step.value);
    return step;
  }
}

/** Wraps `tsgi.input` to check what the server yields (§2.5). */
function checkedInput(environ: Environ): AsyncIterable<Uint8Array> {
  const input = environ['tsgi.input'];
  const expected = environ.CONTENT_LENGTH === undefined ? -1 : Number(environ.CONTENT_LENGTH);
  let received = 0;
  let pending = false;
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const inner = input[Symbol.asyncIterator]();
      return {
        next(): Promise<IteratorResult<Uint8Array>> {
          if (pending) enforce('§2.5 the application called next() on tsgi.input before the previous call settled');
          pending = true;
          const step = inner.next() as unknown;
          if (step === null || typeof step !== 'object' || typeof (step as Partial<Promise<unknown>>).then !== 'function') {
            enforce('§2.5 next() on tsgi.input must return a Promise');
          }
          return (step as Promise<IteratorResult<Uint8Array>>).then((result) => {
            pending = false;
            if (result.done) {
              if (expected !== -1 && received < expected) {
                enforce(`§2.5 tsgi.input ended after ${received} of CONTENT_LENGTH ${expected} bytes without an error`);
              }
              return result;
            }
            if (!(result.value instanceof Uint8Array)) enforce('§2.5 tsgi.input must yield Uint8Array chunks');
            received += result.value.byteLength;
            if (expected !== -1 && received > expected) enforce(`§2.5 tsgi.input yielded more than CONTENT_LENGTH (${expected}) bytes`);
            return result;
          });
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          await inner.return?.();
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/** Wraps `tsgi.errors` to check what the application writes (§2.3). */
function checkedErrors(errors: ErrorStream): ErrorStream {
  return {
    write(message: string) {
      if (typeof message !== 'string') enforce('§2.3 tsgi.errors.write takes a string');
      errors.write(message);
    },
    flush() {
      errors.flush?.();
    },
  };
}
