/**
 * `tsgi.signal` (docs/tsgi.md §2.3, §8.1), created on first use.
 *
 * An AbortSignal costs several microseconds to build, most applications never look at
 * it, and a hello-world request costs about twenty. So the environ gets `tsgi.signal`
 * as an own, enumerable accessor that builds the signal when first read. Copies
 * (`{...environ}`) read it and so get a real signal as a plain data property; assigning
 * it replaces the accessor with a data property.
 */
import type { Environ } from './types.js';

/** The key under which the environ keeps its {@link RequestAbort} (a symbol: invisible to string keys and JSON). */
export const kAbort = Symbol('tsgi.abort');

/** The abort state of one request; the AbortController exists only once someone asks for the signal. */
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

// One getter/setter pair for every environ, so that V8 shares the object shape.
const SIGNAL_PROPERTY: PropertyDescriptor = {
  get(this: Environ & { [kAbort]: RequestAbort }): AbortSignal {
    return this[kAbort].signal;
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
