/**
 * Serving a file from disk (Flask's `send_file`): validators, conditional requests, byte ranges and
 * downloads, with the body streamed from disk.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { HeaderList, ResponseBody } from '@carafe/gateway';

/** Options of {@link fileResponse}. */
export interface FileResponseOptions {
  /** Defaults to a type looked up from the file extension (`application/octet-stream` if unknown). */
  contentType?: string;
  /** Seconds for `Cache-Control: public, max-age=N`; no Cache-Control header when omitted. */
  maxAge?: number;
  /** Send as an attachment: `true` under the file's own name, a string under that name. */
  download?: string | boolean;
  /** Send a weak ETag and honour If-None-Match (default true). */
  etag?: boolean;
  /** Send Last-Modified and honour If-Modified-Since (default true). */
  lastModified?: boolean;
}

/** What {@link fileResponse} produces: a status, headers, and a body (`null` when there is none to send). */
export interface FileResult {
  status: number;
  headers: HeaderList;
  body: ResponseBody | null;
}

/** The request facts {@link fileResponse} needs. */
export interface FileRequest {
  method: string;
  header(name: string): string | undefined;
}

/** Thrown when the file cannot be served: `status` 404 (missing or not a regular file) or 403 (not readable). */
export class FileError extends Error {
  readonly status: 403 | 404;
  constructor(status: 403 | 404, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FileError';
    this.status = status;
  }
}

const TEXT = '; charset=utf-8';
const CONTENT_TYPES: Record<string, string> = {
  '.html': `text/html${TEXT}`, '.htm': `text/html${TEXT}`, '.css': `text/css${TEXT}`, '.txt': `text/plain${TEXT}`,
  '.md': `text/markdown${TEXT}`, '.csv': `text/csv${TEXT}`, '.xml': `application/xml`, '.js': `text/javascript${TEXT}`,
  '.mjs': `text/javascript${TEXT}`, '.json': 'application/json', '.map': 'application/json', '.jsonld': 'application/ld+json',
  '.webmanifest': 'application/manifest+json', '.yaml': `application/yaml`, '.yml': `application/yaml`,
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.avif': 'image/avif', '.ico': 'image/x-icon', '.bmp': 'image/bmp',
  '.pdf': 'application/pdf', '.zip': 'application/zip', '.gz': 'application/gzip', '.tar': 'application/x-tar',
  '.wasm': 'application/wasm', '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf',
  '.mp3': 'audio/mpeg', '.wav': 'audio/wav', '.ogg': 'audio/ogg', '.m4a': 'audio/mp4', '.mp4': 'video/mp4',
  '.webm': 'video/webm', '.mov': 'video/quicktime',
};

/** The Content-Type for a file name, from a small built-in table of common extensions. */
export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Builds the response for a file on disk.
 *
 * - Validators: a weak ETag from size and modification time, and Last-Modified.
 * - Conditional GET/HEAD: a matching If-None-Match gives 304; without If-None-Match, If-Modified-Since
 *   at or after the modification time gives 304.
 * - Ranges (GET only): one range `bytes=a-b`, `a-` or `-n` gives 206 with Content-Range; a range
 *   starting past the end gives 416 with `Content-Range: bytes *\/size`. A request for **several
 *   ranges is answered with the whole file (200)** rather than a multipart/byteranges body, and a
 *   malformed Range header is ignored. If-Range must match (an HTTP date equal to Last-Modified; an
 *   entity tag only by strong comparison, which the weak ETag never passes) or the whole file is sent.
 * - HEAD gets the headers with `body: null`. The body streams from disk, opened only when iterated.
 *
 * Throws {@link FileError} (404) if the path is missing or not a regular file.
 */
export async function fileResponse(path: string, request: FileRequest, options: FileResponseOptions = {}): Promise<FileResult> {
  const info = await statFile(path);
  const size = info.size;
  const mtimeSeconds = Math.floor(info.mtimeMs / 1000);
  const etag = options.etag === false ? undefined : `W/"${size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const lastModified = options.lastModified === false ? undefined : new Date(mtimeSeconds * 1000).toUTCString();

  const validators: HeaderList = [];
  if (etag) validators.push(['ETag', etag]);
  if (lastModified) validators.push(['Last-Modified', lastModified]);
  if (options.maxAge !== undefined) validators.push(['Cache-Control', `public, max-age=${Math.max(0, Math.floor(options.maxAge))}`]);

  const method = request.method.toUpperCase();
  if ((method === 'GET' || method === 'HEAD') && notModified(request, etag, lastModified ? mtimeSeconds : undefined)) {
    return { status: 304, headers: validators, body: null };
  }

  const headers: HeaderList = [['Content-Type', options.contentType ?? contentTypeFor(path)], ['Accept-Ranges', 'bytes'], ...validators];
  if (options.download) {
    headers.push(['Content-Disposition', contentDisposition(typeof options.download === 'string' ? options.download : basename(path))]);
  }

  let range: { start: number; end: number } | undefined;
  const rangeHeader = request.header('range');
  if (method === 'GET' && rangeHeader !== undefined && ifRangeMatches(request.header('if-range'), lastModified)) {
    const parsed = parseRange(rangeHeader, size);
    if (parsed === 'unsatisfiable') {
      return { status: 416, headers: [['Content-Range', `bytes */${size}`], ...validators], body: null };
    }
    range = parsed;
  }

  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  headers.push(['Content-Length', String(end - start + 1)]);
  if (range) headers.push(['Content-Range', `bytes ${start}-${end}/${size}`]);
  const body = method === 'HEAD' || end < start ? null : readBody(path, start, end);
  return { status: range ? 206 : 200, headers, body };
}

async function statFile(path: string) {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new FileError(403, `File not readable: ${path}`, { cause: error });
    throw new FileError(404, `File not found: ${path}`, { cause: error });
  }
  if (!info.isFile()) throw new FileError(404, `Not a regular file: ${path}`);
  return info;
}

function readBody(path: string, start: number, end: number): ResponseBody {
  return {
    async *[Symbol.asyncIterator]() {
      yield* createReadStream(path, { start, end });
    },
  };
}

function notModified(request: FileRequest, etag: string | undefined, mtimeSeconds: number | undefined): boolean {
  const ifNoneMatch = request.header('if-none-match');
  if (ifNoneMatch !== undefined) {
    if (etag === undefined) return false;
    const weak = (tag: string) => tag.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || weak(tag) === weak(etag));
  }
  const ifModifiedSince = request.header('if-modified-since');
  if (ifModifiedSince === undefined || mtimeSeconds === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && mtimeSeconds * 1000 <= since;
}

/** If-Range: a date must equal Last-Modified; an entity tag needs a strong match, which a weak ETag never gives. */
function ifRangeMatches(ifRange: string | undefined, lastModified: string | undefined): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return false;
  return lastModified !== undefined && Date.parse(value) === Date.parse(lastModified);
}

/** One satisfiable range, 'unsatisfiable', or undefined when the header is to be ignored (malformed or several ranges). */
function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined; // covers other units, malformed values and lists of ranges
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** An RFC 6266 attachment header: a quoted ASCII fallback plus `filename*` when the name is not plain ASCII. */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '\\$&');
  if (/^[\x20-\x7e]*$/.test(filename)) return `attachment; filename="${fallback}"`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
