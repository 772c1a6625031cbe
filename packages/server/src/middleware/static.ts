/**
 * Static files: GET and HEAD requests under `prefix` are answered from files under `root` by the
 * gateway's `sendFile` (the same code as core's `file()`): validators, 304/412, Range 206/416.
 * What is this module's own is mapping an untrusted URL path onto `root` safely: a path that
 * would leave `root` (by name or by symlink) is 404, dotfiles are hidden unless allowed, and a
 * path with no file behind it falls through to the wrapped app.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Environ, TsgiApplication, TsgiMiddleware, TsgiResponse } from '@carafe/gateway';
import { contentTypeFor, headerReader, isInside, keepLifespan, problemResponse, resolveUnder, sendFile } from '@carafe/gateway';

export interface StaticOptions {
  /** The directory served. */
  root: string;
  /** The URL path it is served under. Default `/` (then unmatched paths fall through). */
  prefix?: string;
  /** `Cache-Control: public, max-age=N` in seconds; default 0 (revalidate every time with the validators). */
  maxAge?: number;
  /** File served for a directory; `false` for none. Default `index.html`. */
  index?: string | false;
  /** Extra or overriding content types by extension (`.wasm` → `application/wasm`); the rest come from mime-db. */
  types?: Record<string, string>;
  /**
   * Paths with a segment starting with `.` (`.env`, `.git/config`), as serve-static has it:
   * `'ignore'` (default) treats them as absent, so they fall through to the app like any missing
   * file (a `/.well-known/` route in the app keeps working); `'deny'` answers 403; `'allow'` serves them.
   */
  dotfiles?: 'ignore' | 'allow' | 'deny';
}

/**
 * @deprecated Content types now come from mime-db through `contentTypeFor` in @carafe/gateway,
 * and `types` overrides them. This is empty and stays only so existing imports compile.
 */
export const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({});

// Percent-encoded `/`, `\` and NUL in the raw target: once PATH_INFO is decoded they are
// indistinguishable from real separators, so they are refused before decoding matters.
const ENCODED_SEPARATOR = /%(?:2f|5c|00)/i;

// `path` is the file read (symlinks resolved); `name` the one asked for, which sets the type.
type Found = { path: string; name: string; stats: Stats } | 'missing' | 'outside';

/**
 * Serves the files under `options.root` at `options.prefix` for GET and HEAD, in front of `app`.
 * Answers: the file (200/206, or 304/412/416 from its validators and the request's conditionals);
 * 404 for a path that escapes the root (`..`, `%2F`/`%5C`/`%00` in the raw target, NUL,
 * backslash, a symlink pointing outside); 403 for a dotfile under `dotfiles: 'deny'`. A path with
 * no file behind it, a hidden dotfile, other methods and other paths go to `app`.
 *
 * @example staticFiles({ root: 'public', prefix: '/static', maxAge: 3600 })(app)
 */
export function staticFiles(options: StaticOptions): TsgiMiddleware {
  const root = resolve(options.root);
  const prefix = (options.prefix ?? '/').replace(/\/+$/, '');
  const index = options.index ?? 'index.html';
  const dotfiles = options.dotfiles ?? 'ignore';
  const types = options.types && Object.fromEntries(Object.entries(options.types).map(([ext, type]) => [ext.toLowerCase(), type]));
  const cacheControl = `public, max-age=${Math.max(0, Math.floor(options.maxAge ?? 0))}`;
  // The root's real path, for the symlink check: looked up on first use, since the directory may
  // not exist yet when the middleware is built; forgotten on failure so a later request retries.
  let realRoot: Promise<string> | undefined;
  const rootReal = () =>
    (realRoot ??= realpath(root).catch((error: unknown) => {
      realRoot = undefined;
      throw error;
    }));

  /** The regular file a URL path names, following a directory to its index, or why there is none. */
  async function find(relative: string): Promise<Found> {
    const target = resolveUnder(root, relative);
    if (target === undefined) return 'outside';
    let name = target;
    let real: string;
    let stats: Stats;
    try {
      [real, stats] = await Promise.all([realpath(target), stat(target)]);
      if (!isInside(await rootReal(), real)) return 'outside';
      if (stats.isDirectory() && index) {
        name = resolve(target, index);
        real = await realpath(resolve(real, index));
        if (!isInside(await rootReal(), real)) return 'outside';
        stats = await stat(real);
      }
    } catch {
      return 'missing'; // no such file (or no root): the app may know the path
    }
    return stats.isFile() ? { path: real, name, stats } : 'missing';
  }

  async function serve(environ: Environ, app: TsgiApplication, relative: string): Promise<TsgiResponse> {
    if (relative.split('/').some((segment) => segment.startsWith('.') && segment !== '.' && segment !== '..')) {
      if (dotfiles === 'deny') return problemResponse(403);
      if (dotfiles === 'ignore') return app(environ);
    }
    const found = await find(relative);
    if (found === 'outside') return problemResponse(404);
    if (found === 'missing') return app(environ);
    return sendFile(
      found.path,
      found.stats,
      { method: environ.REQUEST_METHOD, header: headerReader(environ) },
      {
        contentType: contentTypeFor(found.name, types),
        cacheControl,
      },
    );
  }

  return (app: TsgiApplication): TsgiApplication => {
    const staticApp = (environ: Environ) => {
      const method = environ.REQUEST_METHOD;
      const path = environ.PATH_INFO;
      // Everything else goes to the app untouched, so a synchronous app stays synchronous.
      if ((method !== 'GET' && method !== 'HEAD') || !(path.startsWith(`${prefix}/`) || (prefix !== '' && path === prefix))) {
        return app(environ);
      }
      if (ENCODED_SEPARATOR.test(rawPath(environ))) return problemResponse(404);
      return serve(environ, app, path.slice(prefix.length));
    };
    return keepLifespan(staticApp, app);
  };
}

/** The path part of the raw request target, still percent-encoded. */
function rawPath(environ: Environ): string {
  const raw = environ.RAW_URI ?? ''; // an environ built by hand (a test, a dispatcher) may lack it
  const mark = raw.indexOf('?');
  return mark === -1 ? raw : raw.slice(0, mark);
}
