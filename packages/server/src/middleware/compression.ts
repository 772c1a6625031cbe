/**
 * Response compression: brotli or gzip, chosen by the request's `Accept-Encoding` q-values,
 * streamed through zlib as the body is produced. Responses that are already encoded, too
 * small, of a type that does not compress, or marked `no-transform` pass unchanged.
 */
import { Readable } from 'node:stream';
import { constants, createBrotliCompress, createGzip, type BrotliCompress, type Gzip } from 'node:zlib';
import {
  headerValue,
  keepLifespan,
  mapResponse,
  type Chunk,
  type HeaderList,
  type ResponseBody,
  type TsgiApplication,
  type TsgiMiddleware,
  type TsgiResponse,
} from '@carafe/gateway';

export type Encoding = 'br' | 'gzip';

export interface CompressionOptions {
  /** Responses with a declared length below this many bytes are sent as they are. Default 1024. */
  threshold?: number;
  /** Encodings offered, in the server's order of preference for equal q-values. Default `['br', 'gzip']`. */
  encodings?: Encoding[];
  /** gzip level (1-9). Default 6. */
  gzipLevel?: number;
  /** Brotli quality (0-11). Default 4: a good ratio at a speed fit for dynamic responses. */
  brotliQuality?: number;
  /** Which content types are compressed. Default: text, JSON, JavaScript, XML, SVG and similar. */
  compressible?: (contentType: string) => boolean;
}

const COMPRESSIBLE =
  /^(text\/|application\/(json|javascript|ecmascript|xml|xhtml\+xml|rss\+xml|atom\+xml|problem\+json|problem\+xml|ld\+json|manifest\+json|graphql-response\+json|wasm|x-ndjson)|image\/svg\+xml|[^;]*\+(json|xml)\b|font\/(ttf|otf))/i;

export function isCompressible(contentType: string): boolean {
  return COMPRESSIBLE.test(contentType);
}

/**
 * Picks the encoding from an `Accept-Encoding` value: the highest q among those offered
 * (ties go to the server's order); `*` covers encodings not named; q=0 refuses.
 */
export function negotiateEncoding(header: string | undefined, offered: readonly Encoding[]): Encoding | undefined {
  if (!header) return undefined;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim().toLowerCase();
    if (!name) continue;
    let weight = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim().toLowerCase() === 'q') weight = Number(value);
    }
    q.set(name, Number.isFinite(weight) ? weight : 0);
  }
  let best: Encoding | undefined;
  let bestQ = 0;
  for (const encoding of offered) {
    const weight = q.get(encoding) ?? q.get('*') ?? 0;
    if (weight > bestQ) {
      best = encoding;
      bestQ = weight;
    }
  }
  return best;
}

/** Adds `Accept-Encoding` to Vary unless it (or `*`) is there. */
function withVary(headers: HeaderList): HeaderList {
  const vary = headerValue(headers, 'vary');
  if (vary === undefined) return [...headers, ['Vary', 'Accept-Encoding']];
  if (vary.split(',').some((v) => ['accept-encoding', '*'].includes(v.trim().toLowerCase()))) return headers;
  return headers.map(([name, value]) => (name.toLowerCase() === 'vary' ? [name, `${value}, Accept-Encoding`] : [name, value]));
}

/** Statuses whose body must not be re-encoded: no body, or a byte range of the identity form. */
function keepsItsBody(status: number): boolean {
  return status === 204 || status === 206 || status === 304;
}

/**
 * The body's length when it is known without reading it: the declared Content-Length, else the
 * total of an array body (which the binding would send with that length).
 */
function knownLength(response: TsgiResponse): number | undefined {
  const declared = headerValue(response.headers, 'content-length');
  if (declared !== undefined) return Number(declared);
  if (!Array.isArray(response.body)) return undefined;
  let length = 0;
  for (const chunk of response.body as Chunk[]) length += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
  return length;
}

export function compression(options: CompressionOptions = {}): TsgiMiddleware {
  const threshold = options.threshold ?? 1024;
  const offered = options.encodings ?? ['br', 'gzip'];
  const compressible = options.compressible ?? isCompressible;
  const gzipLevel = options.gzipLevel ?? 6;
  const brotliQuality = options.brotliQuality ?? 4;
  const encoderFor = (encoding: Encoding): Gzip | BrotliCompress =>
    encoding === 'gzip'
      ? createGzip({ level: gzipLevel })
      : createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: brotliQuality } });

  /** The response as this request should get it: unchanged, only with Vary, or encoded. */
  const encode = (response: TsgiResponse, acceptEncoding: string | undefined, method: string): TsgiResponse => {
    const { status, headers } = response;
    const contentType = headerValue(headers, 'content-type');
    if (
      contentType === undefined ||
      !compressible(contentType) ||
      keepsItsBody(status) ||
      headerValue(headers, 'content-encoding') !== undefined ||
      /\bno-transform\b/i.test(headerValue(headers, 'cache-control') ?? '')
    ) {
      return response;
    }
    // From here on the representation depends on Accept-Encoding, whether or not this one is encoded.
    const varied = withVary(headers);
    const encoding = negotiateEncoding(acceptEncoding, offered);
    const length = knownLength(response);
    if (!encoding || method === 'HEAD' || (length !== undefined && length < threshold)) {
      return { status, headers: varied, body: response.body };
    }
    const compressed: HeaderList = [];
    for (const [name, value] of varied) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') continue;
      // The compressed bytes differ, so a strong validator must not be shared with the identity form.
      compressed.push(lower === 'etag' && !value.startsWith('W/') ? [name, `W/${value}`] : [name, value]);
    }
    compressed.push(['Content-Encoding', encoding]);
    return { status, headers: compressed, body: compressStream(response.body, encoderFor(encoding)) };
  };

  return (app: TsgiApplication): TsgiApplication => {
    const compress: TsgiApplication = (environ) => {
      const acceptEncoding = environ.HTTP_ACCEPT_ENCODING;
      const method = environ.REQUEST_METHOD;
      return mapResponse(app(environ), (response) => encode(response, acceptEncoding, method));
    };
    return keepLifespan(compress, app);
  };
}

/**
 * Pipes the app's body through the encoder and hands out the encoder's output as it comes.
 * Whatever the body produced within one turn of the event loop is flushed together, so a
 * streamed response (server-sent events, a long poll) reaches the client as it is produced
 * while a burst of small chunks still compresses as one. Closing the result early closes
 * the app's body.
 */
function compressStream(body: ResponseBody, encoder: Gzip | BrotliCompress): ResponseBody {
  const source = Readable.from(body as AsyncIterable<Chunk>, { objectMode: false });
  let flushPending = false;
  const flush = () => {
    flushPending = false;
    if (!encoder.destroyed && !encoder.writableEnded) encoder.flush();
  };
  source.on('error', (error) => encoder.destroy(error));
  encoder.on('close', () => source.destroy());
  source.on('data', (chunk: Buffer) => {
    if (!encoder.write(chunk)) source.pause();
    if (!flushPending) {
      flushPending = true;
      setImmediate(flush);
    }
  });
  encoder.on('drain', () => source.resume());
  source.on('end', () => encoder.end());
  return encoder;
}
