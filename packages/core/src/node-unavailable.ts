/**
 * What `#carafe-node/*` (core's Node-only modules: node/*.ts) resolves to when bundling for a fetch
 * runtime (conditions `workerd`, `worker`, `browser`): the same functions, throwing. What needs
 * the file system or a socket — `app.run()`, `file()` and `sendFromDirectory()` responses — then
 * fails with a message saying so, and nothing of Node is bundled. (`multipart/form-data` bodies have
 * their own fetch-runtime parser there: web-multipart.ts.)
 */

function unavailable(what: string): Error {
  return new Error(
    `${what} needs Node.js (or Bun, Deno): @carafe/core was bundled for a fetch runtime (the workerd, worker or browser condition), where it has no file system or sockets`,
  );
}

/** See node/run.ts. */
export async function run(): Promise<never> {
  throw unavailable('app.run()');
}

/** See node/file.ts. */
export async function fileResponse(): Promise<never> {
  throw unavailable('A file response (file(), sendFromDirectory())');
}
