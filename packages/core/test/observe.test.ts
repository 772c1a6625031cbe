/**
 * The framework's side of logging and telemetry: `app.log` / `req.log` (bound to the request id
 * and the ids of the request's span), an unhandled exception as one structured record, the route
 * reported as an OpenAPI-style template in `environ['carafe.route']`, and the exception behind a
 * 5xx left in `environ['carafe.error']` — the last two only when telemetry is on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Span } from '@opentelemetry/api';
import { Blueprint, Carafe, SERVER_TELEMETRY, ServiceUnavailable, consoleLogger, type Logger } from '@carafe/core';
import { call, makeEnviron, memoryErrors } from './helpers.js';

type LogRecord = Record<string, unknown> & { level: string };

function capture(records: LogRecord[], bindings: Record<string, unknown> = {}): Logger {
  const method =
    (level: string) =>
    (first: unknown, ...rest: unknown[]) =>
      records.push(
        typeof first === 'string' ? { level, ...bindings, msg: first } : { level, ...bindings, ...(first as object), msg: rest[0] },
      );
  return {
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    child: (more) => capture(records, { ...bindings, ...more }),
  };
}

/** Enough of a span for the logger: its ids. */
const fakeSpan = {
  spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
  isRecording: () => false,
} as unknown as Span;

afterEach(() => {
  delete (globalThis as Record<symbol, unknown>)[SERVER_TELEMETRY];
});

describe('req.log', () => {
  it('is the app logger bound to the request id and the span ids', async () => {
    const records: LogRecord[] = [];
    const app = new Carafe({ logger: capture(records) });
    app.get('/hi', (req) => {
      req.log.info({ extra: 1 }, 'hello');
      expect(req.log).toBe(req.log); // made once per request
      return 'ok';
    });
    await call(app, makeEnviron({ PATH_INFO: '/hi', 'carafe.request_id': 'rid-7', 'carafe.span': fakeSpan }));
    expect(records).toEqual([
      {
        level: 'info',
        request_id: 'rid-7',
        trace_id: '0af7651916cd43dd8448eb211c80319c',
        span_id: 'b7ad6b7169203331',
        trace_flags: '01',
        extra: 1,
        msg: 'hello',
      },
    ]);
  });

  it("takes the X-Request-Id header when no middleware set an id, and the server's logger when the app has none", async () => {
    const records: LogRecord[] = [];
    (globalThis as Record<symbol, unknown>)[SERVER_TELEMETRY] = { logger: capture(records) };
    const app = new Carafe();
    app.get('/hi', (req) => {
      req.log.warn('careful');
      return 'ok';
    });
    await call(app, makeEnviron({ PATH_INFO: '/hi', HTTP_X_REQUEST_ID: 'from-header' }));
    expect(records).toEqual([{ level: 'warn', request_id: 'from-header', msg: 'careful' }]);
    expect(app.log).toBe((globalThis as Record<symbol, { logger: Logger }>)[SERVER_TELEMETRY]!.logger);
  });

  it('without any logger writes pino-shaped JSON lines to the console', () => {
    const lines: string[] = [];
    const original = console.error;
    console.error = (line: string) => void lines.push(line);
    try {
      consoleLogger({ request_id: 'r' })
        .child({ a: 1 })
        .error({ err: new RangeError('bad') }, 'failed');
      consoleLogger().debug('not shown at the default level');
    } finally {
      console.error = original;
    }
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 'error', request_id: 'r', a: 1, msg: 'failed', err: { type: 'RangeError', message: 'bad' } });
    expect(record.err.stack).toContain('RangeError: bad');
  });
});

describe('an unhandled exception', () => {
  it('is one structured record with the stack when there is a logger', async () => {
    const records: LogRecord[] = [];
    const errors = memoryErrors();
    const app = new Carafe({ logger: capture(records) });
    app.get('/boom', () => {
      throw new TypeError('broken');
    });
    const res = await call(app, makeEnviron({ PATH_INFO: '/boom', 'carafe.request_id': 'r1', 'tsgi.errors': errors }));
    expect(res.status).toBe(500);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 'error', msg: 'Exception on GET /boom', request_id: 'r1' });
    expect((records[0]!.err as Error).stack).toContain('TypeError: broken');
    expect(errors.text()).toBe('');
  });

  it('still goes to tsgi.errors as text without one', async () => {
    const errors = memoryErrors();
    const app = new Carafe();
    app.get('/boom', () => {
      throw new TypeError('broken');
    });
    await call(app, makeEnviron({ PATH_INFO: '/boom', 'tsgi.errors': errors }));
    expect(errors.text()).toMatch(/^\[carafe\] Exception on GET \/boom\nTypeError: broken\n/);
  });
});

describe('telemetry', () => {
  function app(options: { telemetry?: boolean } = {}) {
    const app = new Carafe({ ...options, logger: capture([]) });
    app.get('/users/:id', (req) => ({ id: req.params.id }));
    app.get('/files{/:name}', () => 'file');
    app.get('/boom', () => {
      throw new RangeError('x');
    });
    app.get('/busy', () => {
      throw new ServiceUnavailable('later');
    });
    const admin = new Blueprint('admin', { urlPrefix: '/admin' });
    admin.beforeRequest(() => undefined);
    admin.get('/items/:item', () => 'item');
    app.register(admin);
    return app;
  }

  it('reports the matched route as a template under the mount point', async () => {
    const observed = app({ telemetry: true });
    const route = async (path: string, scriptName = '') => {
      const environ = makeEnviron({ PATH_INFO: path, SCRIPT_NAME: scriptName });
      await call(observed, environ);
      return environ['carafe.route'];
    };
    expect(await route('/users/7')).toBe('/users/{id}');
    expect(await route('/users/7', '/api')).toBe('/api/users/{id}');
    expect(await route('/files')).toBe('/files');
    expect(await route('/files/a.txt')).toBe('/files/{name}');
    expect(await route('/admin/items/3')).toBe('/admin/items/{item}');
    expect(await route('/nowhere')).toBeUndefined();
  });

  it('leaves the exception behind a 5xx in carafe.error, from a handler or an HttpError', async () => {
    const observed = app({ telemetry: true });
    const boom = makeEnviron({ PATH_INFO: '/boom' });
    expect((await call(observed, boom)).status).toBe(500);
    expect(boom['carafe.error']).toBeInstanceOf(RangeError);
    const busy = makeEnviron({ PATH_INFO: '/busy' });
    expect((await call(observed, busy)).status).toBe(503);
    expect(busy['carafe.error']).toBeInstanceOf(ServiceUnavailable);
  });

  it('is off by default: nothing is added to the environ', async () => {
    const plain = app();
    for (const path of ['/users/7', '/boom', '/admin/items/1']) {
      const environ = makeEnviron({ PATH_INFO: path });
      await call(plain, environ);
      expect(environ['carafe.route']).toBeUndefined();
      expect(environ['carafe.error']).toBeUndefined();
    }
  });

  it('is on when the server of the process traces or measures', async () => {
    (globalThis as Record<symbol, unknown>)[SERVER_TELEMETRY] = { metrics: true };
    const environ = makeEnviron({ PATH_INFO: '/users/1' });
    await call(app(), environ);
    expect(environ['carafe.route']).toBe('/users/{id}');
  });
});
