/**
 * Running a request's close callbacks (`req.callOnClose`, which deletes the temporary files of
 * spooled uploads) once its response is done with. A TSGI body may stream after the application
 * returned (a file, a generator, an upload's own `stream()`), so the callbacks wait for the server
 * to be done with it (the body's end, or its iterator's `return()`, TSGI §3.4); a body already in
 * memory (an array) needs nothing of the request, and they run before the response is returned.
 */
import type { Chunk, ResponseBody, TsgiResponse, TsgiResult } from '@carafe/gateway';
import { takeCloseCallbacks, type Request } from './request.js';

/** `response`, set to run the request's close callbacks when it is finished; unchanged when there are none. */
export function closeAfter(req: Request<any, any, any>, response: TsgiResponse): TsgiResult {
  const close = takeCloseCallbacks(req);
  if (!close) return response;
  if (Array.isArray(response.body)) return close().then(() => response);
  return { ...response, body: closingBody(response.body, close) };
}

/** `body`, running `close` once after its last chunk, when it throws, or at `return()`. */
function closingBody(body: ResponseBody, close: () => Promise<void>): AsyncIterable<Chunk> {
  return {
    [Symbol.asyncIterator]() {
      const iterator =
        Symbol.asyncIterator in body
          ? (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
          : (body as Iterable<Chunk>)[Symbol.iterator]();
      let closing: Promise<void> | undefined;
      const finish = () => (closing ??= close());
      return {
        async next(): Promise<IteratorResult<Chunk>> {
          let step: IteratorResult<Chunk>;
          try {
            step = await iterator.next();
          } catch (error) {
            await finish();
            throw error;
          }
          if (step.done) await finish();
          return step;
        },
        async return(): Promise<IteratorResult<Chunk>> {
          try {
            await iterator.return?.();
          } finally {
            await finish();
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}
