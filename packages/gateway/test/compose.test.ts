import {
  HttpStatusError,
  callApp,
  discardBody,
  headerValue,
  keepLifespan,
  mapResponse,
  problemResponse,
  withHeader,
  type Environ,
  type TsgiApplication,
  type TsgiResponse,
  type TsgiResult,
} from '@carafe/gateway';
import { describe, expect, it } from 'vitest';

const environ = { PATH_INFO: '/x' } as Environ;
const ok = (): TsgiResponse => ({ status: 200, headers: [['Content-Type', 'text/plain']], body: ['ok'] });
const tagged = (res: TsgiResponse) => withHeader(res, 'X-Tag', '1');
/** Turns any error into a problem response carrying its message. */
const toProblem = (error: unknown) => problemResponse(error instanceof HttpStatusError ? error.status : 500, (error as Error).message);

describe('mapResponse', () => {
  it('maps a synchronous response at once and returns the result itself, not a promise', () => {
    const result = mapResponse(ok(), tagged);
    expect(result).not.toBeInstanceOf(Promise);
    expect((result as TsgiResponse).headers).toContainEqual(['X-Tag', '1']);
  });

  it('maps a promise of a response after it resolves and returns a promise', async () => {
    let mapped = false;
    const result = mapResponse(Promise.resolve(ok()), (res) => {
      mapped = true;
      return tagged(res);
    });
    expect(result).toBeInstanceOf(Promise);
    expect(mapped).toBe(false);
    expect((await result).headers).toContainEqual(['X-Tag', '1']);
    expect(mapped).toBe(true);
  });

  it('lets a rejection through without onError', async () => {
    const failure = new Error('down');
    await expect(mapResponse(Promise.reject(failure), tagged)).rejects.toBe(failure);
  });

  it('gives a rejection to onError, and its answer becomes the response', async () => {
    const result = mapResponse(Promise.reject(new HttpStatusError(503, 'down')), tagged, toProblem);
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toMatchObject({ status: 503, headers: [['Content-Type', 'application/problem+json'], expect.anything()] });
  });

  it('gives an exception thrown by map to onError, synchronously for a synchronous response', () => {
    const result = mapResponse(
      ok(),
      () => {
        throw new Error('map broke');
      },
      toProblem,
    );
    expect(result).not.toBeInstanceOf(Promise);
    expect((result as TsgiResponse).status).toBe(500);
    expect(String((result as TsgiResponse & { body: [Buffer] }).body[0])).toContain('map broke');
  });

  it('lets an exception thrown by map escape without onError', () => {
    expect(() =>
      mapResponse(ok(), () => {
        throw new Error('map broke');
      }),
    ).toThrow('map broke');
  });

  it('passes a result that is not a response (e.g. undefined) to map rather than failing itself', () => {
    const seen: unknown[] = [];
    mapResponse(undefined as unknown as TsgiResult, (res) => {
      seen.push(res);
      return ok();
    });
    expect(seen).toEqual([undefined]);
  });

  it('may return a promise from map for a synchronous response', async () => {
    const result = mapResponse(ok(), async (res) => tagged(res));
    expect(await result).toMatchObject({ status: 200 });
  });
});

describe('callApp', () => {
  it('maps a synchronous application synchronously', () => {
    const result = callApp(ok, environ, tagged, toProblem);
    expect(result).not.toBeInstanceOf(Promise);
    expect((result as TsgiResponse).headers).toContainEqual(['X-Tag', '1']);
  });

  it('passes the environ to the application', () => {
    const result = callApp(
      (env) => ({ status: 200, headers: [], body: [env.PATH_INFO] }),
      environ,
      (res) => res,
      toProblem,
    );
    expect((result as TsgiResponse).body).toEqual(['/x']);
  });

  it("turns a synchronous throw into onError's answer, synchronously", () => {
    const result = callApp(
      () => {
        throw new HttpStatusError(404, 'no such thing');
      },
      environ,
      tagged,
      toProblem,
    );
    expect(result).not.toBeInstanceOf(Promise);
    expect((result as TsgiResponse).status).toBe(404);
    expect((result as TsgiResponse).headers).not.toContainEqual(['X-Tag', '1']);
  });

  it("turns a rejection into onError's answer", async () => {
    const result = callApp(
      async () => {
        throw new Error('async failure');
      },
      environ,
      tagged,
      toProblem,
    );
    expect(result).toBeInstanceOf(Promise);
    const response = await result;
    expect(response.status).toBe(500);
    expect(String((response as TsgiResponse & { body: [Buffer] }).body[0])).toContain('async failure');
  });

  it("maps an async application's response", async () => {
    const result = callApp(async () => ok(), environ, tagged, toProblem);
    expect((await result).headers).toContainEqual(['X-Tag', '1']);
  });
});

describe('keepLifespan', () => {
  it("gives the outer application the inner one's lifespan and returns the outer one", () => {
    const inner: TsgiApplication = () => ok();
    const lifespan = { startup: () => {} };
    inner.lifespan = lifespan;
    const outer: TsgiApplication = (env) => inner(env);
    expect(keepLifespan(outer, inner)).toBe(outer);
    expect(outer.lifespan).toBe(lifespan);
  });

  it('leaves the outer application alone when the inner one has no lifespan', () => {
    const outer: TsgiApplication = () => ok();
    const own = { shutdown: () => {} };
    outer.lifespan = own;
    keepLifespan(outer, () => ok());
    expect(outer.lifespan).toBe(own);
    const bare: TsgiApplication = () => ok();
    keepLifespan(bare, () => ok());
    expect(bare).not.toHaveProperty('lifespan');
  });
});

describe('headerValue', () => {
  const headers: Array<[string, string]> = [
    ['Content-Type', 'text/html'],
    ['Set-Cookie', 'a=1'],
    ['set-cookie', 'b=2'],
  ];

  it('finds a header whatever the case of either name', () => {
    expect(headerValue(headers, 'content-type')).toBe('text/html');
    expect(headerValue(headers, 'CONTENT-TYPE')).toBe('text/html');
    expect(headerValue([['ETAG', '"x"']], 'ETag')).toBe('"x"');
  });

  it('returns the first value of a repeated header', () => {
    expect(headerValue(headers, 'Set-Cookie')).toBe('a=1');
  });

  it('returns undefined for a missing header, including one whose name is a prefix', () => {
    expect(headerValue(headers, 'Location')).toBeUndefined();
    expect(headerValue(headers, 'Content')).toBeUndefined();
    expect(headerValue([], 'Content-Type')).toBeUndefined();
  });
});

describe('withHeader', () => {
  it('returns a new response with the header appended and does not change the original', () => {
    const headers: Array<[string, string]> = [['Content-Type', 'text/plain']];
    const body = ['ok'];
    const original: TsgiResponse = { status: 201, headers, body };
    const copy = withHeader(original, 'Set-Cookie', 'a=1');
    expect(copy).not.toBe(original);
    expect(copy.headers).not.toBe(headers);
    expect(copy).toEqual({
      status: 201,
      headers: [
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'a=1'],
      ],
      body,
    });
    expect(copy.body).toBe(body);
    expect(original).toEqual({ status: 201, headers: [['Content-Type', 'text/plain']], body: ['ok'] });
    expect(headers).toHaveLength(1);
  });

  it('works on a frozen, shared response', () => {
    const shared: TsgiResponse = Object.freeze({
      status: 404,
      headers: Object.freeze([['Content-Type', 'text/plain']]) as never,
      body: ['nope'],
    });
    expect(withHeader(withHeader(shared, 'A', '1'), 'B', '2').headers).toEqual([
      ['Content-Type', 'text/plain'],
      ['A', '1'],
      ['B', '2'],
    ]);
    expect(shared.headers).toHaveLength(1);
  });
});

describe('discardBody', () => {
  it('calls return() on the iterator of a synchronous body once', () => {
    let returns = 0;
    let nexts = 0;
    discardBody({
      [Symbol.iterator]: () => ({
        next: () => {
          nexts++;
          return { value: 'x', done: false as const };
        },
        return: () => {
          returns++;
          return { value: undefined, done: true as const };
        },
      }),
    });
    expect(returns).toBe(1);
    expect(nexts).toBe(0);
  });

  it('calls return() on the iterator of an async body, and a rejection does not escape', async () => {
    let returns = 0;
    discardBody({
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ value: 'x', done: false as const }),
        return: async () => {
          returns++;
          throw new Error('already closed');
        },
      }),
    });
    expect(returns).toBe(1);
    await new Promise((resolve) => setImmediate(resolve)); // an unhandled rejection would fail the run
  });

  it('runs the finally block of a started generator', () => {
    let cleaned = false;
    const body = (function* () {
      try {
        yield 'a';
        yield 'b';
      } finally {
        cleaned = true;
      }
    })();
    body.next();
    discardBody(body);
    expect(cleaned).toBe(true);
  });

  it('does nothing to an array, and survives a body that cannot open an iterator', () => {
    expect(() => discardBody(['a', 'b'])).not.toThrow();
    expect(() =>
      discardBody({
        [Symbol.iterator]: () => {
          throw new Error('cannot open');
        },
      }),
    ).not.toThrow();
    expect(() => discardBody({ [Symbol.iterator]: () => ({ next: () => ({ value: undefined, done: true as const }) }) })).not.toThrow();
  });
});
