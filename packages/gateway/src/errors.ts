/**
 * A breach of the TSGI specification (docs/tsgi.md). The message starts with the
 * section that states the rule, e.g. `"§3.2 status 99 is not a final status (200-599)"`,
 * so a failing test or log line points straight at the paragraph to read.
 */
export class TsgiComplianceError extends Error {
  /** The section of docs/tsgi.md that states the broken rule, e.g. `"§3.3"`. */
  readonly section: string;

  constructor(section: string, rule: string) {
    super(`${section} ${rule}`);
    this.name = 'TsgiComplianceError';
    this.section = section;
  }
}

/** Throws a {@link TsgiComplianceError} when `problem` (a rule message from a check) is set. */
export function enforce(problem: string | undefined): void {
  if (problem !== undefined) throw complianceError(problem);
}

/** Builds a {@link TsgiComplianceError} from a rule message of the form `"§x.y text"`. */
export function complianceError(problem: string): TsgiComplianceError {
  const space = problem.indexOf(' ');
  return new TsgiComplianceError(problem.slice(0, space), problem.slice(space + 1));
}

/** Formats an error for `tsgi.errors`: one header line naming the request, then the stack. */
export function describeError(context: string, error: unknown): string {
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return `[tsgi] ${context}: ${detail}\n`;
}

/**
 * Thrown by `tsgi.input` when the client goes away before the body is complete (§2.5).
 * Not the application's fault, so the binding does not log it when it ends a request.
 */
export class ClientDisconnected extends Error {
  constructor(cause?: unknown) {
    super('client disconnected before the request body was complete', cause === undefined ? undefined : { cause });
    this.name = 'ClientDisconnected';
  }
}

/**
 * An error that carries the HTTP status a client should get for it (400–599), thrown by a server
 * or middleware where a request breaks a limit the application cannot see coming: reading
 * `tsgi.input` past the body limit throws one with status 413 (§2.5). Frameworks answer it with
 * its status instead of a 500; a server that receives it from an application answers the same.
 */
export class HttpStatusError extends Error {
  /** The status to answer with, 400–599. */
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    if (!Number.isInteger(status) || status < 400 || status > 599)
      throw new RangeError(`HttpStatusError status must be 400-599, got ${status}`);
    this.name = 'HttpStatusError';
    this.status = status;
  }
}

/** The body (or the request) exceeded a size limit the server enforces: 413 (§2.5). */
export class BodyTooLargeError extends HttpStatusError {
  constructor(limit: number) {
    super(413, `The request body exceeds ${limit} bytes.`);
    this.name = 'BodyTooLargeError';
  }
}
