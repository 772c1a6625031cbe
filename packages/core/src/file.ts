/**
 * Serving a file from disk (Flask's `send_file`). The HTTP semantics (validators, conditional
 * requests, byte ranges, streaming) are the gateway's `sendFile`, shared with the server's
 * `staticFiles()`; core adds what is Flask's: finding the file as an application error (404/403)
 * and downloads. The file system part is node/file.ts, loaded when the first file response is
 * sent: file responses are Node-only (Bun and Deno too); this module, which the dispatcher and
 * `Response` need, runs anywhere.
 */
import type { HeaderList, ResponseBody, SendFileRequest } from '@carafe/gateway';

/** Options of {@link fileResponse}. */
export interface FileResponseOptions {
  /** Defaults to the type mime-db gives the file extension (`application/octet-stream` if unknown). */
  contentType?: string;
  /** Seconds for `Cache-Control: public, max-age=N`; no Cache-Control header when omitted. */
  maxAge?: number;
  /** Send as an attachment: `true` under the file's own name, a string under that name. */
  download?: string | boolean;
  /** Send a weak ETag and honour If-None-Match and If-Match (default true). */
  etag?: boolean;
  /** Send Last-Modified and honour If-Modified-Since and If-Unmodified-Since (default true). */
  lastModified?: boolean;
  /**
   * The directory the path must stay inside (set by `sendFromDirectory`): the path is then relative
   * to it, and a path leaving it (`..`, absolute, NUL, a symbolic link pointing out) is a 404.
   */
  root?: string;
}

/** What {@link fileResponse} produces: a status, headers, and a body (`null` when there is none to send). */
export interface FileResult {
  status: number;
  headers: HeaderList;
  body: ResponseBody | null;
}

/** The request facts {@link fileResponse} needs. */
export type FileRequest = SendFileRequest;

/** Thrown when the file cannot be served: `status` 404 (missing or not a regular file) or 403 (not readable). */
export class FileError extends Error {
  readonly status: 403 | 404;
  constructor(status: 403 | 404, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FileError';
    this.status = status;
  }
}

/**
 * Builds the response for a file on disk, as the gateway's `sendFile` does (see there for the
 * details):
 *
 * - Validators: a weak ETag from size and modification time, and Last-Modified.
 * - Conditional GET/HEAD in RFC 9110 order: a failed If-Match or If-Unmodified-Since gives 412;
 *   a matching If-None-Match, or without it If-Modified-Since at or after the modification
 *   time, gives 304.
 * - Ranges (GET only): one range gives 206 with Content-Range, an unsatisfiable one 416 with
 *   `Content-Range: bytes *\/size`; several ranges or a malformed header get the whole file.
 *   If-Range must match (an HTTP date equal to Last-Modified; an entity tag only strongly, which
 *   the weak ETag never does) or the whole file is sent.
 * - HEAD, 304, 412 and 416 have `body: null`. The body streams from disk, opened only when iterated.
 *
 * Throws {@link FileError}: 404 if the path is missing or not a regular file, 403 if it cannot be reached.
 */
export async function fileResponse(path: string, request: FileRequest, options: FileResponseOptions = {}): Promise<FileResult> {
  return (await import('#carafe-node/file')).fileResponse(path, request, options);
}

/** An RFC 6266 attachment header: a quoted ASCII fallback plus `filename*` when the name is not plain ASCII. */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '\\$&');
  if (/^[\x20-\x7e]*$/.test(filename)) return `attachment; filename="${fallback}"`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
