/**
 * Request ids: each request carries an id — the client's (or proxy's) `X-Request-Id` when it
 * is well-formed, else a fresh UUID — in `environ['carafe.request_id']`, in the request
 * header the app sees, and in the response header (so the access log can show it with
 * `%({x-request-id}o)s`; the json access-log format includes it).
 */
import { randomUUID } from 'node:crypto';
import { headerValue, keepLifespan, mapResponse, withHeader, type TsgiApplication, type TsgiMiddleware } from '@carafe/gateway';

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
  const environKey = `HTTP_${header.toUpperCase().replace(/-/g, '_')}`;
  const trustIncoming = options.trustIncoming ?? true;
  const generate = options.generate ?? randomUUID;
  return (app: TsgiApplication): TsgiApplication => {
    const withId: TsgiApplication = (environ) => {
      const incoming = environ[environKey];
      const id = trustIncoming && typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : generate();
      environ[environKey] = id;
      environ['carafe.request_id'] = id;
      // An id the app set itself (say, one it passed on to a backend) is left as it is.
      return mapResponse(app(environ), (response) =>
        headerValue(response.headers, header) === undefined ? withHeader(response, header, id) : response,
      );
    };
    return keepLifespan(withId, app);
  };
}
