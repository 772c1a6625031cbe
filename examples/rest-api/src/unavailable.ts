import {
  MongoError,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

/**
 * Raised by `Database.run` when a request's database work did not finish within its budget
 * (`MONGODB_REQUEST_TIMEOUT_MS`), or failed because the database could not be reached. The app
 * answers it with 503 and `Retry-After`: the client may try again; nothing is known about a write
 * that was under way (it may or may not have been applied).
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * Server error codes that say "not now" rather than "not this": the server is shutting down,
 * stepping down, overloaded or out of time. (The driver's own MONGODB_ERROR_CODES, for the
 * codes where a retry on a healthy server can succeed.)
 */
const TRANSIENT_SERVER_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired: our own maxTimeMS, the server is too slow right now
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Labels the server or driver puts on errors that a retry may fix. */
const TRANSIENT_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'SystemOverloadedError', 'ResetPool'];

/**
 * Driver errors by name, for the classes the driver does not export (pool and wait-queue errors),
 * and so that a second copy of the driver in node_modules is recognised too.
 */
const UNAVAILABLE_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoOperationTimeoutError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
  'MongoPoolClosedError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoWaitQueueTimeoutError',
]);

/**
 * Node's own socket and stream errors, which can escape the driver unwrapped when the server dies
 * mid-write (`EPIPE: This socket has been ended by the other party`).
 */
const SOCKET_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTCONN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_SOCKET_CLOSED',
  'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * True when an error means "the database cannot be reached or cannot answer now" — every shape
 * the driver produces for a frozen, dead, restarting or unreachable server — as opposed to a bug
 * or a bad request. Follows `cause` chains (a driver error wrapping a socket error, ours wrapping
 * the driver's).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  if (
    error instanceof DatabaseUnavailableError ||
    error instanceof MongoNetworkError || // also MongoNetworkTimeoutError and PoolClearedError
    error instanceof MongoServerSelectionError ||
    error instanceof MongoOperationTimeoutError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoServerClosedError
  ) {
    return true;
  }
  const { name, code, cause } = error as { name?: unknown; code?: unknown; cause?: unknown };
  if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
  if (error instanceof MongoServerError && TRANSIENT_SERVER_CODES.has(Number(code))) return true;
  if (error instanceof MongoError && TRANSIENT_LABELS.some((label) => error.hasErrorLabel(label))) return true;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
