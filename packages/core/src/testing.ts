/**
 * Calling an app in process, without a socket (Hono's `app.request`, Flask's `test_client()`): a
 * web-standard `Request` becomes an environ through the gateway's fetch binding (`toFetchHandler`),
 * the app answers as it would under a server, and the answer comes back as a web-standard
 * `Response`. The app's lifespan is not run (as with supertest); run `app.lifespan.startup()`
 * yourself when the routes need it.
 */
import { toFetchHandler, validator, type ErrorStream, type TsgiApplication } from '@carafe/gateway';

/** What to request: a path (`/users/1?x=y`), a URL, or a `Request`. */
export type RequestInput = string | URL | globalThis.Request;

/** `RequestInit`, plus `json`: a value sent as the JSON body (with `Content-Type: application/json`). */
export interface TestRequestInit extends RequestInit {
  json?: unknown;
}

/** Options of `app.testClient()` (and of `app.request`'s third argument). */
export interface TestClientOptions {
  /** Where a path is resolved against; default `http://localhost`. */
  baseUrl?: string;
  /** Check every request and response with the gateway's TSGI `validator` (default false). */
  validate?: boolean;
  /** `tsgi.errors`, where the app logs; default `process.stderr`. */
  errors?: ErrorStream;
  /** `REMOTE_ADDR`; default `127.0.0.1`. */
  remoteAddr?: string;
}

type Fetch = (request: globalThis.Request) => Promise<globalThis.Response>;

/** A fetch-style handler that calls `app` in process (its lifespan left out). */
export function inProcess(app: TsgiApplication, options: TestClientOptions = {}): Fetch {
  const bare: TsgiApplication = (environ) => app(environ);
  return toFetchHandler(options.validate ? validator(bare) : bare, {
    errors: options.errors ?? process.stderr,
    remoteAddress: () => options.remoteAddr ?? '127.0.0.1',
  });
}

/** The `Request` for a path, URL or request, with `init` applied. */
export function toRequest(input: RequestInput, init: TestRequestInit = {}, baseUrl = 'http://localhost'): globalThis.Request {
  const { json, ...rest } = init;
  if (json !== undefined) {
    const headers = new Headers(rest.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    rest.headers = headers;
    rest.body = JSON.stringify(json);
    rest.method ??= 'POST';
  }
  if (input instanceof globalThis.Request) return new globalThis.Request(input, rest);
  return new globalThis.Request(new URL(input, baseUrl), rest);
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expires: number | undefined;
}

/**
 * A Flask-style test client: requests go to the app in process and the cookies it sets are kept
 * and sent back on later requests (by name and path; expiry and `Max-Age` honoured, domains
 * ignored — everything is one host).
 *
 * ```ts
 * const client = app.testClient();
 * await client.post('/login', { json: { user: 'ada' } });
 * const me = await client.get('/me');          // sends the session cookie back
 * expect(await me.json()).toEqual({ user: 'ada' });
 * ```
 */
export class TestClient {
  readonly #fetch: Fetch;
  readonly #baseUrl: string;
  readonly #jar = new Map<string, StoredCookie>();

  constructor(app: TsgiApplication, options: TestClientOptions = {}) {
    this.#fetch = inProcess(app, options);
    this.#baseUrl = options.baseUrl ?? 'http://localhost';
  }

  /** Sends a request (with the kept cookies) and keeps the cookies of the answer. */
  async request(input: RequestInput, init?: TestRequestInit): Promise<globalThis.Response> {
    const request = toRequest(input, init, this.#baseUrl);
    const cookie = this.#cookieHeader(new URL(request.url).pathname);
    if (cookie && !request.headers.has('cookie')) request.headers.set('cookie', cookie);
    const response = await this.#fetch(request);
    this.#keep(response.headers.getSetCookie());
    return response;
  }

  get(input: RequestInput, init?: TestRequestInit) {
    return this.request(input, { ...init, method: 'GET' });
  }
  head(input: RequestInput, init?: TestRequestInit) {
    return this.request(input, { ...init, method: 'HEAD' });
  }
  post(input: RequestInput, init?: TestRequestInit) {
    return this.request(input, { ...init, method: 'POST' });
  }
  put(input: RequestInput, init?: TestRequestInit) {
    return this.request(input, { ...init, method: 'PUT' });
  }
  patch(input: RequestInput, init?: TestRequestInit) {
    return this.request(input, { ...init, method: 'PATCH' });
  }
  delete(input: RequestInput, init?: TestRequestInit) {
    return this.request(input, { ...init, method: 'DELETE' });
  }
  options(input: RequestInput, init?: TestRequestInit) {
    return this.request(input, { ...init, method: 'OPTIONS' });
  }

  /** The cookies that would be sent to `path` (default `/`), by name. */
  cookies(path = '/'): Record<string, string> {
    this.#expire();
    const result: Record<string, string> = {};
    for (const cookie of this.#matching(path)) result[cookie.name] ??= cookie.value;
    return result;
  }

  /** Sets a cookie as if the app had (Flask's `client.set_cookie`). */
  setCookie(name: string, value: string, path = '/'): this {
    this.#jar.set(`${name}\0${path}`, { name, value, path, expires: undefined });
    return this;
  }

  /** Forgets every cookie, or those named `name`. */
  clearCookies(name?: string): this {
    for (const [key, cookie] of this.#jar) if (name === undefined || cookie.name === name) this.#jar.delete(key);
    return this;
  }

  #matching(path: string): StoredCookie[] {
    const inPath = (c: StoredCookie) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`);
    // Longer paths first, as browsers send them (RFC 6265 §5.4).
    return [...this.#jar.values()].filter(inPath).sort((a, b) => b.path.length - a.path.length);
  }

  #cookieHeader(path: string): string {
    this.#expire();
    return this.#matching(path)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  #expire(): void {
    const now = Date.now();
    for (const [key, cookie] of this.#jar) if (cookie.expires !== undefined && cookie.expires <= now) this.#jar.delete(key);
  }

  #keep(setCookies: readonly string[]): void {
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie: StoredCookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: '/', expires: undefined };
      for (const attribute of attributes) {
        const [rawKey = '', ...rawValue] = attribute.split('=');
        const key = rawKey.trim().toLowerCase();
        const value = rawValue.join('=').trim();
        if (key === 'path' && value.startsWith('/')) cookie.path = value;
        else if (key === 'max-age' && /^-?\d+$/.test(value)) cookie.expires = Date.now() + Number(value) * 1000;
        else if (key === 'expires' && cookie.expires === undefined) {
          const time = Date.parse(value);
          if (!Number.isNaN(time)) cookie.expires = time;
        }
      }
      const key = `${cookie.name}\0${cookie.path}`;
      if (cookie.expires !== undefined && cookie.expires <= Date.now()) this.#jar.delete(key);
      else this.#jar.set(key, cookie);
    }
  }
}
