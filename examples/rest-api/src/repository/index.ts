/** The data layer: plain functions over the official MongoDB driver, one module per resource. */
export { collections, ensureIndexes, LIVE_USER, type Collections, type TodoDocument, type UserDocument } from './collections.js';
export { EmailTakenError } from './errors.js';
export { parseId } from './ids.js';
export type { Page, PageRequest } from './pagination.js';
export * from './todos.js';
export * from './users.js';
