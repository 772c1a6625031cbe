/**
 * `@carafe/gateway`: everything of the node-free entry (`./fetch.ts`, which any runtime can load),
 * plus what needs Node — the node:http binding and the file helpers.
 */
export * from './fetch.js';
export { createServer, serve, toNodeListener } from './binding.js';
export type { BindingOptions, ListenOptions, NodeListener, ServerOptions } from './binding.js';
export type { FinishedRecord } from './exchange.js';
export { answerOnSocket } from './socket-problem.js';
export { answerClientError, closeAfterResponse } from './connection.js';
export { DEFAULT_CONTENT_TYPE, contentTypeFor } from './http/mime.js';
export { isInside, resolveUnder } from './http/safe-path.js';
export { sendFile } from './http/send-file.js';
export type { SendFileOptions, SendFileRequest, SendFileStats } from './http/send-file.js';
