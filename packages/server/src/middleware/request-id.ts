/**
 * Request ids: each request carries an id — the client's (or proxy's) `X-Request-Id` when it
 * is well-formed, else a fresh UUID — in `environ['carafe.request_id']`, in the request
 * header the app sees, and in the response header (so the access log can show it with
 * `%({x-request-id}o)s`; the json access-log format includes it).
 */
import { randomUUID } from 'node:crypto';
import type { TsgiApplication, TsgiMiddleware } from '@carafe/gateway';
import { keepLifespan } from '../wrap.js';

export interface RequestIdOptions {
  /** The header carrying the id. Default `X-Request-Id`. */
  header?: string;
  /** Keep a well-formed incoming id (set by a trusted proxy such as nginx's `$request_id`). Default true. */
  trustIncoming?: boolean;
  /** Makes a new id. Default `crypto.randomUUID`. */
  generate?: () => string;
}

/** Ids accepted from outside: short, and nothing that could forge a log line or a header. */
const WELL_FORMED = /^[A-Za-z0-9._:+=/-]{1,200}$/;

export function requestId(options: RequestIdOptions = {}): TsgiMiddleware {
  const header = options.header ?? 'X-Request-Id';
  const lower = header.toLowerCase();
  const environKey = `HTTP_${header.toUpperCase().replace(/-/g, '_')}`;
  const trustIncoming = options.trustIncoming ?? true;
  const generate = options.generate ?? randomUUID;
  return (app: TsgiApplication): TsgiApplication => {
    const withId: TsgiApplication = (environ, startResponse) => {
      const incoming = environ[environKey];
      const id = trustIncoming && typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : generate();
      environ[environKey] = id;
      environ['carafe.request_id'] = id;
      return app(environ, (status, headers, error) => {
        if (!headers.some(([name]) => name.toLowerCase() === lower)) headers = [...headers, [header, id]];
        return startResponse(status, headers, error);
      });
    };
    return keepLifespan(withId, app);
  };
}
