export type * from './types.js';
export { ClientDisconnected, TsgiComplianceError } from './errors.js';
export { validator } from './validator.js';
export { HOP_BY_HOP } from './headers.js';
export { createServer, serve, toNodeListener } from './node.js';
export type { BindingOptions, ListenOptions, NodeListener, ServerOptions } from './node.js';
export type { FinishedRecord } from './respond.js';
export { shutdown, startup } from './lifespan.js';
export { answerOnSocket, problemJson, problemResponse, statusLine } from './problem.js';
