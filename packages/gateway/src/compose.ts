/**
 * Tools for writing middleware (docs/tsgi.md §5): map an application's response without making
 * a synchronous application asynchronous, keep the wrapped application's lifespan, and read or
 * add response headers.
 */
import type { HeaderList, TsgiApplication, TsgiResponse, TsgiResult } from './types.js';

function isPromise(result: TsgiResult): result is Promise<TsgiResponse> {
  return result != null && typeof (result as Partial<Promise<TsgiResponse>>).then === 'function';
}

/**
 * Applies `map` to an application's response: at once when the application answered
 * synchronously, after the promise settles when it did not. A middleware that maps responses
 * this way keeps the server's synchronous fast path for synchronous applications.
 *
 * `onError`, when given, is called instead of letting an exception (thrown or rejected) escape;
 * what it returns becomes the response.
 *
 * @example
 * const withServerHeader: TsgiMiddleware = (app) => keepLifespan((environ) =>
 *   mapResponse(app(environ), (res) => withHeader(res, 'Server', 'carafe')), app);
 */
export function mapResponse(
  result: TsgiResult,
  map: (response: TsgiResponse) => TsgiResult,
  onError?: (error: unknown) => TsgiResult,
): TsgiResult {
  if (isPromise(result)) return onError === undefined ? result.then(map) : result.then(map, onError);
  if (onError === undefined) return map(result);
  try {
    return map(result);
  } catch (error) {
    return onError(error);
  }
}

/**
 * Calls `app(environ)`, turning a synchronous throw into `onError`'s answer just as a rejection
 * is: the one place a middleware needs to catch both shapes of failure.
 */
export function callApp(
  app: TsgiApplication,
  environ: Parameters<TsgiApplication>[0],
  map: (response: TsgiResponse) => TsgiResult,
  onError: (error: unknown) => TsgiResult,
): TsgiResult {
  let result: TsgiResult;
  try {
    result = app(environ);
  } catch (error) {
    return onError(error);
  }
  return mapResponse(result, map, onError);
}

/** Gives a wrapping application the wrapped one's lifespan hooks, as §5 asks of middleware. */
export function keepLifespan(outer: TsgiApplication, inner: TsgiApplication): TsgiApplication {
  if (inner.lifespan) outer.lifespan = inner.lifespan;
  return outer;
}

/** The first value of header `name` (any case) in `headers`, or `undefined`. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i]!;
    if (pair[0].length === lower.length && pair[0].toLowerCase() === lower) return pair[1];
  }
  return undefined;
}

/** A copy of `response` with `[name, value]` appended to its headers (the original is not changed). */
export function withHeader(response: TsgiResponse, name: string, value: string): TsgiResponse {
  const headers = response.headers.slice();
  headers.push([name, value]);
  return { status: response.status, headers, body: response.body };
}

/**
 * Closes a body that will not be sent (a middleware replaced the response): calls its
 * iterator's `return()` so whatever it holds (a file, a cursor) is released (§3.4).
 */
export function discardBody(body: TsgiResponse['body']): void {
  if (Array.isArray(body)) return;
  try {
    const iterator =
      Symbol.asyncIterator in body
        ? (body as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : (body as Iterable<unknown>)[Symbol.iterator]();
    void Promise.resolve(iterator.return?.()).catch(() => {});
  } catch {
    // A body that cannot even open an iterator has nothing to release.
  }
}
