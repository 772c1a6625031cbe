/**
 * Content types by file name, from mime-db (through `mime-types`, the table Express and
 * serve-static use) rather than hand-kept lists, so every package answers `.avif` or `.wasm`
 * the same way and a new type needs a dependency bump, not an edit in several places.
 */
import { extname } from 'node:path';
import { lookup } from 'mime-types';

/** What a file with no known type is sent as: bytes the client should not try to render. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * The Content-Type header value for a file name or path: `overrides` first (keyed by lower-case
 * extension with its dot: `{ '.map': 'application/json' }`), then mime-db, then
 * `application/octet-stream`. Every `text/*` type gets `; charset=utf-8`, since that is what a
 * web project's text files are; other types are sent bare (JSON, for one, defines no charset).
 *
 * @example contentTypeFor('site.CSS') // 'text/css; charset=utf-8'
 */
export function contentTypeFor(path: string, overrides?: Readonly<Record<string, string>>): string {
  if (overrides !== undefined) {
    const ext = extname(path).toLowerCase();
    if (ext !== '' && Object.hasOwn(overrides, ext)) return overrides[ext]!;
  }
  const type = lookup(path);
  if (type === false) return DEFAULT_CONTENT_TYPE;
  return type.startsWith('text/') ? `${type}; charset=utf-8` : type;
}
