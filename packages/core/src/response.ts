import { discardBody, type Chunk, type HeaderList, type ResponseBody, type TsgiResponse } from '@carafe/gateway';
import { byteLength } from './bytes.js';
import { serializeCookie, type CookieOptions } from './cookies.js';
import type { FileResponseOptions } from './file.js';

/** What a {@link Response} can carry: text, bytes, nothing, or a (possibly async) iterable of chunks. */
export type BodyInit = string | Uint8Array | null | undefined | Iterable<Chunk> | AsyncIterable<Chunk>;

/** Headers given to a response: `[name, value]` pairs or an object (array values repeat the header). */
export type HeadersInit = HeaderList | Record<string, string | number | readonly string[]>;

/** Status and headers of a new {@link Response}. */
export interface ResponseInit {
  status?: number;
  headers?: HeadersInit;
}

/** Response headers: an ordered list whose names are stored lower-cased and looked up case-insensitively. */
export class ResponseHeaders {
  /** The `[name, value]` pairs in order; names are lower case. */
  readonly list: HeaderList = [];

  constructor(init?: HeadersInit) {
    if (init === undefined) return;
    if (Array.isArray(init)) {
      for (const [name, value] of init) this.append(name, value);
    } else {
      for (const [name, value] of Object.entries(init as Record<string, string | number | readonly string[]>)) {
        if (typeof value === 'object') for (const v of value) this.append(name, v);
        else this.append(name, String(value));
      }
    }
  }

  /** The first value of a header, or `undefined`. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const [n, v] of this.list) if (n === key) return v;
    return undefined;
  }

  /** Every value of a header (e.g. each `Set-Cookie`). */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.list.filter(([n]) => n === key).map(([, v]) => v);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of a header with one value. */
  set(name: string, value: string): this {
    this.delete(name);
    this.list.push([name.toLowerCase(), value]);
    return this;
  }

  /** Adds a value, keeping existing ones. */
  append(name: string, value: string): this {
    this.list.push([name.toLowerCase(), value]);
    return this;
  }

  delete(name: string): this {
    const key = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]![0] === key) this.list.splice(i, 1);
    return this;
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    return this.list[Symbol.iterator]();
  }
}

/**
 * An HTTP response: status, headers and body. Return one from a handler when a plain value is not
 * enough (custom status, headers, cookies, streams).
 */
export class Response {
  /** The status code; 200 unless given. */
  status: number;
  readonly headers: ResponseHeaders;
  #body: BodyInit;

  constructor(body?: BodyInit, init: ResponseInit = {}) {
    this.#body = body;
    this.status = init.status ?? 200;
    this.headers = new ResponseHeaders(init.headers);
  }

  /** The body: text, bytes, nothing, or a (possibly async) iterable of chunks. */
  get body(): BodyInit {
    return this.#body;
  }

  set body(body: BodyInit) {
    this.#body = body;
  }

  /** Adds a `Set-Cookie` header; throws `TypeError` for an invalid name, value or attribute. */
  setCookie(name: string, value: string, options?: CookieOptions): this {
    this.headers.append('set-cookie', serializeCookie(name, value, options));
    return this;
  }

  /** Tells the client to drop a cookie; pass the same `path`/`domain` it was set with. */
  clearCookie(name: string, options: CookieOptions = {}): this {
    const { maxAge: _maxAge, expires: _expires, ...rest } = options;
    return this.setCookie(name, '', { ...rest, maxAge: 0, expires: new Date(0) });
  }
}

/**
 * What {@link json} returns: a response that keeps the value it was given, so the route's response
 * schema for its final status can check and write it (only the declared properties are sent).
 * `body` is the value's `JSON.stringify` text until a body is assigned; then the assigned body is
 * sent (and checked, being JSON, as a hand-built body is). `T` and `N` type the value and status
 * for the handler's return type check.
 */
export class JsonResponse<T = unknown, N extends number = number> extends Response {
  declare status: N;
  /** Type-level only: lets a handler's return type tell a JSON response from any other one. */
  declare readonly '~json': { readonly value: T };
  /** The value given to `json()`. */
  readonly value: T;
  #text: string | undefined;
  #assigned = false;

  constructor(value: T, init?: ResponseInit) {
    super(undefined, init);
    this.value = value;
    if (!this.headers.has('content-type')) this.headers.set('content-type', JSON_TYPE);
  }

  /** Whether the body is still the value's JSON (no other body was assigned). */
  get keepsValue(): boolean {
    return !this.#assigned;
  }

  override get body(): BodyInit {
    if (this.#assigned) return super.body;
    this.#text ??= JSON.stringify(this.value) ?? 'null';
    return this.#text;
  }

  override set body(body: BodyInit) {
    this.#assigned = true;
    super.body = body;
  }
}

/** Options of {@link file}: content type, caching, download name, validators; plus status and headers. */
export interface FileInit extends ResponseInit, FileResponseOptions {}

/**
 * A response that serves a file. Its status, headers and body are resolved against the request
 * (conditional requests, ranges) when the framework sends it.
 */
export class FileResponse extends Response {
  /** The file; relative to `options.root` when that is set ({@link sendFromDirectory}). */
  readonly path: string;
  readonly options: FileInit;
  constructor(path: string, init: FileInit = {}) {
    super(null, init);
    this.path = path;
    this.options = init;
  }
}

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * A JSON response: `json({ id: 1 })`, `json(user, { status: 201 })`. The value is kept (see
 * {@link JsonResponse}) and written when the response is sent — through the route's response
 * schema for its status when there is one, else with `JSON.stringify`.
 */
export function json<T>(body: T, init?: ResponseInit & { status?: undefined }): JsonResponse<T, 200>;
export function json<T, const N extends number>(body: T, init: ResponseInit & { status: N }): JsonResponse<T, N>;
export function json<T>(body: T, init?: ResponseInit): JsonResponse<T, number>;
export function json(body: unknown, init?: ResponseInit): JsonResponse {
  return new JsonResponse(body, init);
}

/** A `text/plain` response. */
export function text(body: string, init?: ResponseInit): Response {
  const response = new Response(body, init);
  if (!response.headers.has('content-type')) response.headers.set('content-type', TEXT_TYPE);
  return response;
}

/** A `text/html` response. */
export function html(body: string, init?: ResponseInit): Response {
  const response = new Response(body, init);
  if (!response.headers.has('content-type')) response.headers.set('content-type', 'text/html; charset=utf-8');
  return response;
}

/** A redirect to `location` (302 unless another 3xx status is given). */
export function redirect(location: string, status = 302): Response {
  if (!Number.isInteger(status) || status < 300 || status > 399) {
    throw new RangeError(`redirect status must be 3xx, got ${status}`);
  }
  return new Response(null, { status, headers: [['location', location]] });
}

/** A streamed response; each chunk is sent as soon as the iterable yields it. */
export function stream(body: Iterable<Chunk> | AsyncIterable<Chunk>, init?: ResponseInit): Response {
  const response = new Response(body, init);
  if (!response.headers.has('content-type')) response.headers.set('content-type', 'application/octet-stream');
  return response;
}

/**
 * Serves a file with `ETag`, `Last-Modified`, `Range` (206/416) and conditional 304 support,
 * streaming its content. Needs a file system: Node, Bun or Deno (not workerd).
 */
export function file(path: string, init?: FileInit): FileResponse {
  return new FileResponse(path, init);
}

/**
 * Serves the file `relative` names inside the directory `root` (Flask's `send_from_directory`), as
 * {@link file} does. Made for a path taken from the URL (`/files/*name` → `req.params.name`, an array
 * of segments, or a string): any way out of `root` is a 404 — a `..` segment, a segment holding `/`
 * or `\` (what `..%2F` decodes to), an absolute path, a NUL byte, a symbolic link leading outside
 * `root` — as is a missing file or a directory.
 */
export function sendFromDirectory(root: string, relative: string | readonly string[], init: Omit<FileInit, 'root'> = {}): FileResponse {
  const path = typeof relative === 'string' ? relative : relative.join('/');
  const unsafe = typeof relative !== 'string' && relative.some((segment) => typeof segment !== 'string' || /[\\/]/.test(segment));
  return new FileResponse(unsafe ? '\0' : path, { ...init, root });
}

/** The default `Content-Type` of a body that has none. */
export function defaultContentType(body: BodyInit): string | undefined {
  if (typeof body === 'string') return TEXT_TYPE;
  if (body instanceof Uint8Array) return 'application/octet-stream';
  return undefined;
}

/** Shared by every response without a body; frozen, so a middleware that alters it fails loudly. */
export const NO_BODY: ResponseBody = Object.freeze([]) as unknown as ResponseBody;

/** Normalises a body into what TSGI returns, plus its byte length when known. */
export function toTsgiBody(body: BodyInit): { body: ResponseBody; length: number | undefined } {
  if (body === null || body === undefined) return { body: NO_BODY, length: 0 };
  if (typeof body === 'string') return { body: [body], length: byteLength(body) };
  if (body instanceof Uint8Array) return { body: [body], length: body.byteLength };
  return { body, length: undefined };
}

/**
 * The TSGI form of a response to a `method` request: its status and headers, plus the
 * Content-Type and Content-Length the body implies when the response does not set them. 204 and
 * 304 carry no body; a HEAD response keeps its headers and drops its body, whose iterator is
 * closed so that whatever it holds (a file, a cursor) is released.
 */
export function toTsgi(response: Response, method: string): TsgiResponse {
  const status = response.status;
  // A copy: a Response may be reused (a module-level constant) and must not collect defaults.
  const headers: HeaderList = response.headers.list.slice();
  const source = response.body;
  if (status === 204 || status === 304) {
    if (source !== null && source !== undefined) discardBody(toTsgiBody(source).body);
    return { status, headers, body: NO_BODY };
  }
  const type = response.headers.has('content-type') ? undefined : defaultContentType(source);
  if (type !== undefined) headers.push(['content-type', type]);
  const { body, length } = toTsgiBody(source);
  if (length !== undefined && !response.headers.has('content-length')) headers.push(['content-length', String(length)]);
  if (method === 'HEAD' && body !== NO_BODY) {
    discardBody(body);
    return { status, headers, body: NO_BODY };
  }
  return { status, headers, body };
}

export { JSON_TYPE, TEXT_TYPE };
