/**
 * Mapping a URL path onto a directory without leaving it (Werkzeug's `safe_join`): the check a
 * static-file server or a `send_from_directory` makes before touching the disk.
 */
import { resolve, sep } from 'node:path';

/**
 * Is `path` `root` itself or inside it? Both must be absolute and normalized (as `resolve` and
 * `realpath` return them). Compares whole segments, so `/srv/www-old` is not inside `/srv/www`.
 */
export function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix);
}

/**
 * The file path a decoded URL path (`/css/site.css`) names under `root`, or `undefined` when
 * it must not be served: it contains NUL or a backslash (a separator on Windows, and never part
 * of a name a web project ships), has a `..` segment, or would otherwise resolve outside `root`.
 * Leading and repeated slashes stay inside `root` (`//etc/passwd` is `root/etc/passwd`).
 *
 * This checks the name only: a symlink inside `root` may still point out of it, which only
 * `realpath` on the result can tell (see {@link isInside}). Percent-encoded separators must be
 * refused before decoding, from the raw target; once decoded they look like plain `/`.
 */
export function resolveUnder(root: string, urlPath: string): string | undefined {
  if (urlPath.includes('\0') || urlPath.includes('\\')) return undefined;
  if (urlPath.split('/').includes('..')) return undefined;
  const base = resolve(root);
  const target = resolve(base, `./${urlPath}`);
  return isInside(base, target) ? target : undefined;
}
