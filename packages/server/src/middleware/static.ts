/**
 * Static files: GET and HEAD requests under `prefix` are answered from files under `root`,
 * with ETag and Last-Modified validators (304 when they match). A path that would leave
 * `root` is 404; a path with no file behind it falls through to the wrapped app.
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Environ, HeaderList, StartResponse, TsgiApplication, TsgiMiddleware } from '@carafe/gateway';
import { problemResponse } from '@carafe/gateway';
import { keepLifespan } from '../wrap.js';

export interface StaticOptions {
  /** The directory served. */
  root: string;
  /** The URL path it is served under. Default `/` (then unmatched paths fall through). */
  prefix?: string;
  /** `Cache-Control: public, max-age=N` in seconds; default 0 (revalidate every time with the validators). */
  maxAge?: number;
  /** File served for a directory; `false` for none. Default `index.html`. */
  index?: string | false;
  /** Extra or overriding content types by extension (`.wasm` → `application/wasm`). */
  types?: Record<string, string>;
}

/** Content types by extension, for what a web app typically ships. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
};

function etagOf(stats: Stats): string {
  return `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
}

/** RFC 9110 §13.1.2: a weak comparison against any of the listed tags, or `*`. */
function noneMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = etag.slice(2);
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === etag || t === bare || t === `W/${bare}`;
  });
}

async function fileAt(path: string, index: string | false): Promise<[string, Stats] | undefined> {
  try {
    const stats = await stat(path);
    if (stats.isFile()) return [path, stats];
    if (stats.isDirectory() && index) {
      const indexPath = resolve(path, index);
      const indexStats = await stat(indexPath);
      if (indexStats.isFile()) return [indexPath, indexStats];
    }
  } catch {
    // no such file: fall through
  }
  return undefined;
}

function notFound(startResponse: StartResponse): [Buffer] {
  const problem = problemResponse(404);
  startResponse(problem.status, problem.headers);
  return [problem.body];
}

export function staticFiles(options: StaticOptions): TsgiMiddleware {
  const root = resolve(options.root);
  const prefix = (options.prefix ?? '/').replace(/\/+$/, '');
  const index = options.index ?? 'index.html';
  const types = { ...CONTENT_TYPES, ...options.types };
  const cacheControl = `public, max-age=${Math.max(0, Math.floor(options.maxAge ?? 0))}`;

  return (app: TsgiApplication): TsgiApplication => {
    const serve = async (environ: Environ, startResponse: StartResponse) => {
      const method = environ.REQUEST_METHOD;
      const path = environ.PATH_INFO;
      if ((method !== 'GET' && method !== 'HEAD') || !(path.startsWith(`${prefix}/`) || (prefix && path === prefix))) {
        return app(environ, startResponse);
      }
      const relative = path.slice(prefix.length);
      // PATH_INFO is already percent-decoded, so `..` and NUL here are what the client meant.
      if (relative.includes('\0') || relative.split(/[/\\]/).includes('..')) return notFound(startResponse);
      const target = resolve(root, `.${relative}`);
      if (target !== root && !target.startsWith(root + sep)) return notFound(startResponse);
      const found = await fileAt(target, index);
      if (!found) return app(environ, startResponse);
      const [file, stats] = found;

      const etag = etagOf(stats);
      const lastModified = new Date(Math.floor(stats.mtimeMs / 1000) * 1000).toUTCString();
      const validators: HeaderList = [
        ['ETag', etag],
        ['Last-Modified', lastModified],
        ['Cache-Control', cacheControl],
      ];
      const ifNoneMatch = environ.HTTP_IF_NONE_MATCH;
      const ifModifiedSince = environ.HTTP_IF_MODIFIED_SINCE;
      const fresh = ifNoneMatch !== undefined
        ? noneMatch(ifNoneMatch, etag)
        : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= Math.floor(stats.mtimeMs / 1000) * 1000;
      if (fresh) {
        startResponse('304 Not Modified', validators);
        return [];
      }
      startResponse('200 OK', [
        ['Content-Type', types[extname(file).toLowerCase()] ?? 'application/octet-stream'],
        ['Content-Length', String(stats.size)],
        ...validators,
      ]);
      if (method === 'HEAD' || stats.size === 0) return [];
      return createReadStream(file) as AsyncIterable<Buffer>;
    };
    return keepLifespan(serve, app);
  };
}
