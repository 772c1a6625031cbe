import { toFetchHandler, validator, type ErrorStream, type TsgiApplication } from '@carafe/gateway';

/** A TSGI app answering 200 `{"ok":true}` (synchronously) to everything, recording what it saw. */
export function okApp(seen: Array<Record<string, unknown>> = []): TsgiApplication {
  return (environ) => {
    seen.push(environ);
    const body = JSON.stringify({ ok: true, method: environ.REQUEST_METHOD, path: environ.PATH_INFO });
    return {
      status: 200,
      headers: [
        ['Content-Type', 'application/json'],
        ['Content-Length', String(body.length)],
      ],
      body: [body],
    };
  };
}

/** An error stream that keeps what is written. */
export function memoryErrors(): ErrorStream & { text(): string } {
  const lines: string[] = [];
  return { write: (m: string) => void lines.push(m), text: () => lines.join('') };
}

/**
 * Calls `app` (checked by the gateway's TSGI validator) with a web Request, as a server would:
 * `remoteAddress` is the peer (REMOTE_ADDR); the scheme is the URL's.
 */
export function caller(app: TsgiApplication, options: { remoteAddress?: string; errors?: ErrorStream } = {}) {
  const handler = toFetchHandler(validator(app), {
    remoteAddress: () => options.remoteAddress ?? '203.0.113.7',
    errors: options.errors ?? { write: () => {} },
  });
  return (url: string, init: RequestInit = {}) => handler(new Request(new URL(url, 'http://api.test'), init));
}
