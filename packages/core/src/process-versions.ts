/**
 * fast-json-stringify reads `process.versions.node` and `process.versions.v8` as it loads, to pick
 * its V8-specific fast paths. workerd without Node.js compatibility has a `process` without
 * `versions`, a browser no `process`: the read would throw, and the app would not load. schema.ts
 * imports this module just before fast-json-stringify, so that it sees an empty `versions` (read
 * as "not Node, unknown V8": the portable paths), and calls {@link restoreProcess} right after,
 * which takes away what was added. On Node, Bun and Deno it does nothing.
 */

type MaybeProcess = { process?: { versions?: unknown } };

const scope = globalThis as MaybeProcess;
const added: 'process' | 'versions' | undefined =
  typeof scope.process !== 'object' || scope.process === null ? 'process' : scope.process.versions === undefined ? 'versions' : undefined;
if (added === 'process') scope.process = { versions: {} };
else if (added === 'versions') scope.process!.versions = {};

/** Removes the `process` or `process.versions` this module added, once fast-json-stringify has loaded. */
export function restoreProcess(): void {
  if (added === 'process') delete scope.process;
  else if (added === 'versions') delete scope.process!.versions;
}
