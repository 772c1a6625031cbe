/**
 * Response compression: brotli or gzip, chosen by the request's `Accept-Encoding` q-values,
 * streamed through zlib as the body is produced. Responses that are already encoded, too
 * small, of a type that does not compress, or marked `no-transform` pass unchanged.
 */
import { Readable } from 'node:stream';
import { constants, createBrotliCompress, createGzip, type BrotliCompress, type Gzip } from 'node:zlib';
import type { Chunk, HeaderList, ResponseBody, StartResponse, TsgiApplication, TsgiMiddleware, Write } from '@carafe/gateway';
import { keepLifespan } from '../wrap.js';

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

const COMPRESSIBLE = /^(text\/|application\/(json|javascript|ecmascript|xml|xhtml\+xml|rss\+xml|atom\+xml|problem\+json|problem\+xml|ld\+json|manifest\+json|graphql-response\+json|wasm|x-ndjson)|image\/svg\+xml|[^;]*\+(json|xml)\b|font\/(ttf|otf))/i;

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

function headerValue(headers: HeaderList, lower: string): string | undefined {
  for (const [name, value] of headers) if (name.toLowerCase() === lower) return value;
  return undefined;
}

/** Adds `Accept-Encoding` to Vary unless it (or `*`) is there. */
function withVary(headers: HeaderList): HeaderList {
  const vary = headerValue(headers, 'vary');
  if (vary === undefined) return [...headers, ['Vary', 'Accept-Encoding']];
  if (vary.split(',').some((v) => ['accept-encoding', '*'].includes(v.trim().toLowerCase()))) return headers;
  return headers.map(([name, value]) => (name.toLowerCase() === 'vary' ? [name, `${value}, Accept-Encoding`] : [name, value]));
}

function statusCode(status: string): number {
  return Number(status.slice(0, 3));
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

  return (app: TsgiApplication): TsgiApplication => {
    const compress = async (environ: Parameters<TsgiApplication>[0], startResponse: StartResponse) => {
      const accept = environ.HTTP_ACCEPT_ENCODING;
      let encoder: Gzip | BrotliCompress | undefined;
      const body = await app(environ, (status, headers, error) => {
        encoder = undefined;
        const contentType = headerValue(headers, 'content-type');
        const code = statusCode(status);
        if (
          contentType === undefined || !compressible(contentType) ||
          code < 200 || code === 204 || code === 206 || code === 304 ||
          headerValue(headers, 'content-encoding') !== undefined ||
          /\bno-transform\b/i.test(headerValue(headers, 'cache-control') ?? '')
        ) {
          return startResponse(status, headers, error);
        }
        const varied = withVary(headers);
        const length = headerValue(headers, 'content-length');
        const encoding = negotiateEncoding(accept, offered);
        if (!encoding || environ.REQUEST_METHOD === 'HEAD' || (length !== undefined && Number(length) < threshold)) {
          return startResponse(status, varied, error);
        }
        const compressed: HeaderList = varied.filter(([name]) => name.toLowerCase() !== 'content-length');
        compressed.push(['Content-Encoding', encoding]);
        const etag = headerValue(compressed, 'etag');
        if (etag !== undefined && !etag.startsWith('W/')) {
          // The compressed bytes differ, so a strong validator must not be shared with the identity form.
          for (const pair of compressed) if (pair[0].toLowerCase() === 'etag') pair[1] = `W/${etag}`;
        }
        startResponse(status, compressed, error);
        const target = (encoder = encoderFor(encoding));
        const write: Write = (chunk: Chunk) =>
          new Promise((done, fail) => target.write(chunk, (err) => (err ? fail(err) : done())));
        return write;
      });
      return encoder ? compressStream(body, encoder) : body;
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
