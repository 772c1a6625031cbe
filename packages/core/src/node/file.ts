/**
 * The file system half of file responses (file.ts has the rest): finds and stats the file, then
 * hands it to the gateway's `sendFile`. Node-only (Bun and Deno load it too); loaded when the first
 * file response is sent, through `#carafe-node/file`, which bundlers for fetch runtimes resolve to
 * node-unavailable.ts.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute } from 'node:path';
import { isInside, resolveUnder, sendFile, type HeaderList } from '@carafe/gateway/node';
import { FileError, contentDisposition, type FileRequest, type FileResponseOptions, type FileResult } from '../file.js';

/** See file.ts's `fileResponse`, which loads this module and calls this. */
export async function fileResponse(path: string, request: FileRequest, options: FileResponseOptions = {}): Promise<FileResult> {
  if (options.root !== undefined) path = await underRoot(options.root, path);
  const info = await statFile(path);
  const extra: HeaderList = [];
  if (options.download) {
    extra.push(['Content-Disposition', contentDisposition(typeof options.download === 'string' ? options.download : basename(path))]);
  }
  const response = sendFile(path, info, request, {
    contentType: options.contentType,
    etag: options.etag === false ? false : 'weak',
    lastModified: options.lastModified,
    cacheControl: options.maxAge === undefined ? undefined : `public, max-age=${Math.max(0, Math.floor(options.maxAge))}`,
    headers: extra,
  });
  // sendFile says "no body" with `[]`, as TSGI does; a core Response says it with `null`.
  const empty = Array.isArray(response.body) && response.body.length === 0;
  return { status: response.status, headers: response.headers, body: empty ? null : response.body };
}

/**
 * The real path of `relative` inside `root` (Werkzeug's `safe_join`, plus symbolic links): refuses
 * NUL, backslashes, `..` segments and absolute paths by name (the gateway's `resolveUnder`), then
 * resolves links on the disk and refuses a target outside the root's own real path. Throws a 404
 * {@link FileError} that does not say which check failed.
 */
async function underRoot(root: string, relative: string): Promise<string> {
  const refuse = () => new FileError(404, `Not inside the directory: ${relative}`);
  if (relative === '' || isAbsolute(relative) || /^[a-zA-Z]:/.test(relative)) throw refuse();
  const named = resolveUnder(root, relative);
  if (named === undefined) throw refuse();
  let base: string;
  let real: string;
  try {
    base = await realpath(root);
    real = await realpath(named);
  } catch (error) {
    throw new FileError(404, `File not found: ${relative}`, { cause: error });
  }
  if (!isInside(base, real) || real === base) throw refuse();
  return real;
}

async function statFile(path: string) {
  let info: Awaited<ReturnType<typeof stat>>;
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
