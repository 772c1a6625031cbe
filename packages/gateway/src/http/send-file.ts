/**
 * The HTTP side of serving a file, shared by core's `file()` responses and the server's
 * `staticFiles()` middleware so both answer validators, conditionals and ranges identically.
 * Finding the file (a trusted path, or a URL path under a root) stays with each caller.
 */
import { createReadStream } from 'node:fs';
import type { HeaderList, ResponseBody, TsgiResponse } from '../types.js';
import { evaluateConditions, fileETag, httpDate, type Validators } from './conditional.js';
import { contentTypeFor } from './mime.js';
import { contentRange, ifRangeMatches, parseRange, type ByteRange } from './range.js';

/** The request facts {@link sendFile} reads: the method and headers by name (any case). */
export interface SendFileRequest {
  method: string;
  header(name: string): string | undefined;
}

/** The file facts {@link sendFile} needs, as `fs.Stats` has them. */
export interface SendFileStats {
  size: number;
  mtimeMs: number;
}

/** Options of {@link sendFile}. */
export interface SendFileOptions {
  /** The Content-Type; default from the file name ({@link contentTypeFor}). */
  contentType?: string | undefined;
  /** Send an ETag (weak by default) and honour If-Match / If-None-Match with it; `false` for none. */
  etag?: 'weak' | 'strong' | false | undefined;
  /** Send Last-Modified and honour If-Modified-Since / If-Unmodified-Since with it (default true). */
  lastModified?: boolean | undefined;
  /** A Cache-Control value, sent with the validators (also on 304); none when omitted. */
  cacheControl?: string | undefined;
  /** Further headers for a 200 or 206, after the validators (a Content-Disposition, say). */
  headers?: HeaderList | undefined;
}

/**
 * The response for a regular file already found and stat'ed, in RFC 9110 §13.2.2 order:
 *
 * - GET and HEAD are conditional: a failed If-Match / If-Unmodified-Since gives 412, a matching
 *   If-None-Match (or, without it, If-Modified-Since) gives 304 with the validators only. Other
 *   methods get the whole file unconditionally: their handler has already run, so a 412 could
 *   no longer stop it.
 * - GET honours Range (when If-Range allows): one range gives 206 with Content-Range; none
 *   satisfiable gives 416 with `Content-Range: bytes *\/size`. Several ranges are answered with
 *   the whole file rather than multipart/byteranges, and a malformed Range header is ignored.
 * - HEAD gets a GET's headers and no body; 304, 412 and 416 have no body either (`[]`).
 *
 * The body reads exactly the announced bytes from disk, opening the file only when iterated and
 * closing it when the iterator is returned early (client gone).
 */
export function sendFile(path: string, stats: SendFileStats, request: SendFileRequest, options: SendFileOptions = {}): TsgiResponse {
  const { size } = stats;
  const mtime = Math.floor(stats.mtimeMs / 1000) * 1000; // Last-Modified carries whole seconds
  const validators: Validators = {
    etag: options.etag === false ? undefined : fileETag(stats, options.etag ?? 'weak'),
    lastModified: options.lastModified === false ? undefined : mtime,
  };
  const cacheHeaders: HeaderList = [];
  if (validators.etag !== undefined) cacheHeaders.push(['ETag', validators.etag]);
  if (validators.lastModified !== undefined) cacheHeaders.push(['Last-Modified', httpDate(mtime)]);
  if (options.cacheControl !== undefined) cacheHeaders.push(['Cache-Control', options.cacheControl]);

  const method = request.method.toUpperCase();
  const header = (name: string) => request.header(name);
  if (method === 'GET' || method === 'HEAD') {
    const outcome = evaluateConditions(method, header, validators);
    if (outcome === 'not-modified') return { status: 304, headers: cacheHeaders, body: [] };
    if (outcome === 'precondition-failed') return { status: 412, headers: [], body: [] };
  }

  let range: ByteRange | undefined;
  const rangeHeader = method === 'GET' ? header('range') : undefined;
  if (rangeHeader !== undefined && ifRangeMatches(header('if-range'), validators)) {
    const ranges = parseRange(rangeHeader, size);
    if (ranges === 'unsatisfiable') {
      return { status: 416, headers: [['Content-Range', contentRange(size)], ...cacheHeaders], body: [] };
    }
    if (ranges?.length === 1) range = ranges[0];
  }

  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const headers: HeaderList = [
    ['Content-Type', options.contentType ?? contentTypeFor(path)],
    ['Accept-Ranges', 'bytes'],
    ...cacheHeaders,
    ...(options.headers ?? []),
    ['Content-Length', String(end - start + 1)],
  ];
  if (range !== undefined) headers.push(['Content-Range', contentRange(size, range)]);
  const body = method === 'HEAD' || end < start ? [] : fileBody(path, start, end);
  return { status: range === undefined ? 200 : 206, headers, body };
}

/** Bytes `start`–`end` of the file, opened on first iteration (a response never sent costs no descriptor). */
function fileBody(path: string, start: number, end: number): ResponseBody {
  return {
    async *[Symbol.asyncIterator]() {
      // Bounded by `end` even for the whole file: a file growing meanwhile must not overrun Content-Length.
      yield* createReadStream(path, { start, end }) as AsyncIterable<Buffer>;
    },
  };
}
