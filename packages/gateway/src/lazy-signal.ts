/**
 * A lazy `tsgi.signal` (docs/tsgi.md §2.1, §2.7) for the fetch binding: an own, enumerable accessor
 * that builds the AbortSignal when first read, so a request whose application never reads it never
 * links to `request.signal`. (The node:http binding puts a plain AbortSignal in the environ: there,
 * defining the accessor cost more than the signal.)
 */
import type { Environ } from './types.js';

/** The key under which the environ keeps its {@link RequestAbort} (a symbol: invisible to string keys and JSON). */
export const kAbort = Symbol('tsgi.abort');

/**
 * The abort state of one request; the AbortController exists only once someone asks for the
 * signal. Copies of the environ (`{...environ}`) read the accessor and so get a real signal as a
 * plain data property; assigning `tsgi.signal` replaces the accessor with a data property.
 */
export class RequestAbort {
  private controller: AbortController | undefined;
  private abortedEarly = false;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedEarly) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** The client went away: abort the signal, or remember to hand out an aborted one. */
  abort(): void {
    if (this.controller === undefined) this.abortedEarly = true;
    else this.controller.abort();
  }
}

/** An environ's abort state, `undefined` until the signal is read. */
type AbortHolder = Environ & { [kAbort]: RequestAbort | undefined };

// One getter/setter pair for every environ, so that V8 shares the object shape.
const SIGNAL_PROPERTY: PropertyDescriptor = {
  get(this: AbortHolder): AbortSignal {
    return (this[kAbort] ??= new RequestAbort()).signal;
  },
  set(this: Environ, value: unknown): void {
    Object.defineProperty(this, 'tsgi.signal', { value, writable: true, enumerable: true, configurable: true });
  },
  enumerable: true,
  configurable: true,
};

/** Gives `environ` its lazy `tsgi.signal`. */
export function defineSignal(environ: Environ): void {
  Object.defineProperty(environ, 'tsgi.signal', SIGNAL_PROPERTY);
}
