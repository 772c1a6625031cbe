export type * from './types.js';
export { BodyTooLargeError, ClientDisconnected, HttpStatusError, TsgiComplianceError } from './errors.js';
export { validator } from './validator.js';
export { HOP_BY_HOP } from './headers.js';
export { callApp, discardBody, headerValue, keepLifespan, mapResponse, withHeader } from './compose.js';
export { createServer, serve, toNodeListener } from './binding.js';
export type { BindingOptions, ListenOptions, NodeListener, ServerOptions } from './binding.js';
export type { FinishedRecord } from './exchange.js';
export { shutdown, startup } from './lifespan.js';
export { problemJson, problemResponse, statusLine } from './problem.js';
export { answerOnSocket } from './socket-problem.js';
export { answerClientError, closeAfterResponse } from './connection.js';
export { STATUS_TEXT } from './status-text.js';
export { utf8Length } from './utf8.js';
export { toFetchHandler } from './fetch-binding.js';
export type { FetchHandler, FetchHandlerOptions, PeerAddress } from './fetch-binding.js';
export { fromFetchHandler } from './fetch-app.js';
export type { FetchStandardHandler, FromFetchOptions } from './fetch-app.js';
export { environKey } from './headers.js';
export { DEFAULT_CONTENT_TYPE, contentTypeFor } from './http/mime.js';
export {
  evaluateConditions,
  fileETag,
  httpDate,
  isFresh,
  parseETagList,
  parseHttpDate,
  preconditionFailed,
  strongMatch,
  weakMatch,
} from './http/conditional.js';
export type { ConditionalOutcome, HeaderLookup, Validators } from './http/conditional.js';
export { contentRange, ifRangeMatches, parseRange } from './http/range.js';
export type { ByteRange } from './http/range.js';
export { defaultPort, splitHost } from './http/host.js';
export type { HostParts } from './http/host.js';
export { headerReader, requestHeader } from './http/request-header.js';
export { isInside, resolveUnder } from './http/safe-path.js';
export { sendFile } from './http/send-file.js';
export type { SendFileOptions, SendFileRequest, SendFileStats } from './http/send-file.js';
