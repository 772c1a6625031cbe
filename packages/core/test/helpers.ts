import request from 'supertest';
import { toNodeListener, validator } from '@carafe/gateway';
import type { Environ, ErrorStream, StartResponse, TsgiApplication } from '@carafe/gateway';

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
  return (environ: Environ, startResponse: StartResponse) => {
    if (environ.PATH_INFO.startsWith(prefix)) {
      environ = { ...environ, SCRIPT_NAME: environ.SCRIPT_NAME + prefix, PATH_INFO: environ.PATH_INFO.slice(prefix.length) };
    }
    return app(environ, startResponse);
  };
}
