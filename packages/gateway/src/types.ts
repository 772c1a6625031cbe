/**
 * The TSGI interface as TypeScript types. docs/tsgi.md is the normative text;
 * these types are its machine-checkable part. Section numbers refer to that document.
 */

/** A piece of a response body. Strings are encoded as UTF-8 by the server. */
export type Chunk = Uint8Array | string;

/**
 * What an application returns: a synchronous or asynchronous iterable of chunks.
 * If the iterator has `return()`, the server calls it exactly once when it is done
 * with the body — after the last chunk, on error, and on client disconnect (§3.4).
 */
export type ResponseBody = Iterable<Chunk> | AsyncIterable<Chunk>;

/** Response headers: an ordered list of `[name, value]` pairs; names may repeat (e.g. Set-Cookie). */
export type HeaderList = Array<[name: string, value: string]>;

/** Where an application writes diagnostics (`tsgi.errors`, §2.3). */
export interface ErrorStream {
  write(message: string): void;
  flush?(): void;
}

/** The request body (`tsgi.input`, §2.3): an async iterable of bytes that yields exactly the body. */
export type InputStream = AsyncIterable<Uint8Array>;

/** `tsgi.version`: the version of this interface a server implements. */
export type TsgiVersion = readonly [major: 1, minor: 0];

/**
 * The request environment (§2). A plain object, owned by the application for the
 * duration of the request; middleware may copy or alter it as §5 allows.
 */
export interface Environ {
  REQUEST_METHOD: string;
  /** The mount point of the application: empty or `/`-prefixed, never `/`-suffixed. */
  SCRIPT_NAME: string;
  /** The rest of the path, percent-decoded; empty or `/`-prefixed. */
  PATH_INFO: string;
  /** The part of the target after `?`, undecoded, without the `?`; may be empty. */
  QUERY_STRING: string;
  CONTENT_TYPE?: string;
  CONTENT_LENGTH?: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  /** `"HTTP/1.0"` or `"HTTP/1.1"`. */
  SERVER_PROTOCOL: string;
  REMOTE_ADDR: string;
  REMOTE_PORT: string;
  /** The request target exactly as received, undecoded. */
  RAW_URI: string;
  'tsgi.version': TsgiVersion;
  'tsgi.url_scheme': string;
  'tsgi.input': InputStream;
  'tsgi.errors': ErrorStream;
  'tsgi.multithread': boolean;
  'tsgi.multiprocess': boolean;
  'tsgi.run_once': boolean;
  /**
   * Aborted when the client goes away before the response is complete (§2.7).
   * The node:http binding defines it as an own enumerable accessor that creates the
   * signal on first read; copies get a plain value and assignment replaces it (§8.1).
   */
  'tsgi.signal': AbortSignal;
  /** Every other request header, as `HTTP_<NAME>` (upper case, `-` as `_`). */
  [key: `HTTP_${string}`]: string | undefined;
  /** Server- and middleware-defined extensions, named with a dotted prefix (§2.4). */
  [key: string]: unknown;
}

/**
 * Optional per-process hooks (§4). A server calls `startup` once in each process
 * before it serves the first request, and `shutdown` once after the last.
 */
export interface Lifespan {
  startup?(): void | Promise<void>;
  shutdown?(): void | Promise<void>;
}

/**
 * What an application returns (§3.2): the status, the header list and the body, together.
 * A plain object; the server reads each field once, after the application returned it.
 */
export interface TsgiResponse {
  /** The status code, an integer 200–599. The reason phrase is the server's business. */
  status: number;
  /** The response headers, in order. No hop-by-hop headers (§3.3). */
  headers: HeaderList;
  /** The body: `[]` for none, `[text]` for one chunk, any (async) iterable to stream. */
  body: ResponseBody;
}

/** An application's result: the response, or a promise of it. */
export type TsgiResult = TsgiResponse | Promise<TsgiResponse>;

/** A TSGI application (§3): called once per request with its environ, returns the response. */
export interface TsgiApplication {
  (environ: Environ): TsgiResult;
  lifespan?: Lifespan;
}

/** A TSGI middleware factory (§5): takes an application, returns an application. */
export type TsgiMiddleware = (app: TsgiApplication) => TsgiApplication;
