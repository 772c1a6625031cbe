import request from 'supertest';
import { toNodeListener, validator } from '@carafe/gateway';
import type { Environ, ErrorStream, TsgiApplication, TsgiResponse } from '@carafe/gateway';

/** A supertest agent for a TSGI app, wrapped in the gateway's compliance validator. */
export function client(app: TsgiApplication, errors?: ErrorStream) {
  return request(toNodeListener(validator(app), errors ? { errors } : {}));
}

/** An error stream that keeps what is written, for asserting on logs. */
export function memoryErrors(): ErrorStream & { text: () => string } {
  const lines: string[] = [];
  return { write: (m: string) => void lines.push(m), text: () => lines.join('') };
}

/** Mounts an app under `prefix` by moving it from PATH_INFO to SCRIPT_NAME (like a TSGI dispatcher would). */
export function mount(prefix: string, app: TsgiApplication): TsgiApplication {
  return (environ: Environ) => {
    if (environ.PATH_INFO.startsWith(prefix)) {
      environ = { ...environ, SCRIPT_NAME: environ.SCRIPT_NAME + prefix, PATH_INFO: environ.PATH_INFO.slice(prefix.length) };
    }
    return app(environ);
  };
}

/** A GET / environ without a body; `overrides` replace or add keys. */
export function makeEnviron(overrides: Partial<Environ> = {}): Environ {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '50000',
    RAW_URI: overrides.PATH_INFO ?? '/',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': (async function* () {})(),
    'tsgi.errors': process.stderr,
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.signal': new AbortController().signal,
    ...overrides,
  } as Environ;
}

/** A request body that yields `chunks`, then throws `error` (what a server's `tsgi.input` does when it gives up). */
export async function* failingInput(error: Error, ...chunks: string[]): AsyncIterable<Uint8Array> {
  for (const chunk of chunks) yield Buffer.from(chunk);
  throw error;
}

/** Calls `app` in process, as a server would, and reads the whole response. */
export async function call(app: TsgiApplication, environ: Environ): Promise<TsgiResponse & { text: string }> {
  const response = await app(environ);
  const parts: Buffer[] = [];
  for await (const chunk of response.body) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return { ...response, text: Buffer.concat(parts).toString('utf8') };
}
