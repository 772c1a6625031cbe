/**
 * `@carafe/gateway/fetch`: the part of the gateway that runs on any JavaScript runtime — Node,
 * Bun, Deno, workerd / Cloudflare Workers. Nothing imported from here (directly or through its
 * dependencies) loads a `node:` module; a test walks the import graph to keep it so.
 *
 * It holds the fetch bindings (`toFetchHandler`, `fromFetchHandler`) and every runtime-neutral
 * piece of the main entry: the types, errors, the validator, middleware helpers, problem
 * responses and the HTTP helpers that need no file system. The node:http binding (`serve`,
 * `toNodeListener`, `createServer`, `answerOnSocket`) and the file helpers (`sendFile`,
 * `contentTypeFor`, `resolveUnder`, `isInside`) are only in the main entry, `@carafe/gateway`,
 * which re-exports everything here too.
 */
export type * from './types.js';
export { BodyTooLargeError, ClientDisconnected, HttpStatusError, TsgiComplianceError } from './errors.js';
export { validator } from './validator.js';
export { HOP_BY_HOP, environKey } from './headers.js';
export { callApp, discardBody, headerValue, keepLifespan, mapResponse, withHeader } from './compose.js';
export { shutdown, startup } from './lifespan.js';
export { problemJson, problemResponse, statusLine } from './problem.js';
export { STATUS_TEXT } from './status-text.js';
export { utf8Length } from './utf8.js';
export { toFetchHandler } from './fetch-binding.js';
export type { FetchHandler, FetchHandlerOptions, PeerAddress } from './fetch-binding.js';
export { fromFetchHandler } from './fetch-app.js';
export type { FetchStandardHandler, FromFetchOptions } from './fetch-app.js';
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
